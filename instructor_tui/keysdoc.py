"""The key reference, generated from the bindings: `python -m instructor_tui.keysdoc > docs/keys.md`.

Every screen and widget class of the app is listed with the bindings it declares (its own and its
instructor-tui bases'), in French, with each binding's id — the name a user keymap uses
(`[keymap]` in the settings, `id = "keys"`). A test regenerates it and fails when docs/keys.md is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from textual.binding import Binding
from textual.dom import DOMNode

from instructor_tui.i18n import _, set_language


def documented_classes() -> list[tuple[str, list[type[DOMNode]]]]:
    """The sections of the reference and the classes in each, in the order a user meets them."""
    from instructor_tui.ui.app import InstructorApp
    from instructor_tui.ui.calls.dialogs import CallDialog, ConfirmDiscard
    from instructor_tui.ui.calls.panel import CallPanel, MatchList
    from instructor_tui.ui.calls.screens import CallbacksScreen, CallsScreen
    from instructor_tui.ui.help import HelpScreen
    from instructor_tui.ui.screens.bulk import BulkDecisionScreen
    from instructor_tui.ui.screens.decision_dialogs import ApproveDialog, ConflictDialog, Dialog
    from instructor_tui.ui.screens.dossier import DossierScreen
    from instructor_tui.ui.screens.queue import QueueScreen
    from instructor_tui.ui.stats.screen import StatsScreen
    from instructor_tui.ui.token_prompt import TokenPrompt
    from instructor_tui.ui.widgets.attachment_preview import AttachmentPreview
    from instructor_tui.ui.widgets.queue_table import QueueTable

    return [
        ("Everywhere", [InstructorApp]),
        ("Queue", [QueueScreen, QueueTable]),
        ("Dossier", [DossierScreen]),
        ("Attachment preview", [AttachmentPreview]),
        ("Dialog", [Dialog, ApproveDialog, ConflictDialog, BulkDecisionScreen, TokenPrompt]),
        ("Calls", [CallPanel, MatchList, CallDialog, ConfirmDiscard, CallsScreen, CallbacksScreen]),
        ("Statistics", [StatsScreen]),
        ("Help", [HelpScreen]),
    ]


def declared_bindings(cls: type[DOMNode]) -> Iterator[Binding]:
    """The bindings `cls` and its instructor-tui bases declare (Textual's own are left out), base first."""
    for base in reversed(cls.__mro__):
        if not base.__module__.startswith("instructor_tui."):
            continue
        for binding in base.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding):
                yield binding


def render() -> str:
    from instructor_tui.ui.help import group_title, keys_label

    set_language("fr")
    lines = [
        "# Touches d'instructor-tui",
        "",
        "<!-- Généré par `python -m instructor_tui.keysdoc > docs/keys.md` à partir des `BINDINGS` : "
        "ne pas modifier à la main. -->",
        "",
        "Dans l'application, `?` (ou F1) affiche les touches de l'écran en cours ; ctrl+p ouvre la palette "
        "de commandes. La colonne « identifiant » est le nom à utiliser pour changer une touche dans la "
        "section `[keymap]` des réglages (par exemple `\"dossier.approve\" = \"a,f5\"`).",
    ]
    seen: set[str] = set()
    for section, classes in documented_classes():
        lines += ["", f"## {_(section)}"]
        for cls in classes:
            rows = []
            for binding in declared_bindings(cls):
                key = binding.id or f"{cls.__name__}.{binding.action}"
                if key in seen:
                    continue
                seen.add(key)
                keys = keys_label(binding.key.split(","))
                description = _(binding.description) if binding.description else ""
                tooltip = _(binding.tooltip) if binding.tooltip else ""
                rows.append(f"| {_cell(keys)} | {_cell(description)} | {_cell(tooltip)} | `{binding.id or ''}` |")
            if not rows:
                continue
            title = group_title(cls)
            lines += ["", f"### {title} (`{cls.__name__}`)", "",
                      "| touches | action | détail | identifiant |", "| --- | --- | --- | --- |", *rows]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
