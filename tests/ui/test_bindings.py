"""Bindings are introspectable: each has a dotted id, a tooltip, and French words."""

from __future__ import annotations

from instructor_tui.i18n.fr import CATALOG
from instructor_tui.ui.app import InstructorApp
from instructor_tui.ui.bindings import all_bindings
from instructor_tui.ui.screens.queue import QueueScreen
from instructor_tui.ui.widgets.queue_table import QueueTable

OURS = (InstructorApp, QueueScreen, QueueTable)


def test_every_binding_has_a_dotted_id_and_a_translated_tooltip() -> None:
    for cls in OURS:
        for binding in cls.__dict__["BINDINGS"]:
            assert binding.id and "." in binding.id, binding
            assert binding.tooltip in CATALOG, binding.tooltip
            assert binding.description in CATALOG, binding.description


def test_main_actions_have_function_keys() -> None:
    keys = {b.id: b.key for b in all_bindings(OURS)}
    for binding_id in ("queue.open", "queue.search", "queue.sort", "queue.sidebar", "queue.reload", "app.quit"):
        assert binding_id in keys
    declared = {b.id: b.key for cls in OURS for b in cls.__dict__["BINDINGS"]}
    for binding_id in ("queue.open", "queue.search", "queue.sort", "app.quit"):
        assert any(k.strip().startswith("f") and k.strip()[1:].isdigit() for k in declared[binding_id].split(","))
