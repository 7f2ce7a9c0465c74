"""Bindings are declared with English descriptions and translated when a node is built.

Class-level `BINDINGS` are evaluated at import time, before the settings choose the language, so
`_()` cannot run there: `localize_bindings` translates descriptions and tooltips per instance.
`all_bindings` lists them for a help screen or docs/keys.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

from instructor_tui.i18n import _


def localize_bindings(node: DOMNode) -> None:
    """Replace `node`'s bindings with copies whose description and tooltip are translated."""
    keys: dict[str, list[Binding]] = {
        key: [
            replace(
                binding,
                description=_(binding.description) if binding.description else "",
                tooltip=_(binding.tooltip) if binding.tooltip else "",
            )
            for binding in bindings
        ]
        for key, bindings in node._bindings.key_to_bindings.items()
    }
    node._bindings = BindingsMap.from_keys(keys)


def all_bindings(classes: Iterable[type[DOMNode]]) -> Iterator[Binding]:
    """Every binding with an id declared on `classes` (and their bases), once each."""
    seen: set[str] = set()
    for cls in classes:
        merged = cls._merged_bindings
        if merged is None:
            continue
        for _key, binding in merged:
            if binding.id and binding.id not in seen:
                seen.add(binding.id)
                yield binding
