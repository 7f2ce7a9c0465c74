"""Every user-facing string has a French translation with the same placeholders."""

import ast
import string
from pathlib import Path

import pytest

import instructor_tui
from instructor_tui.i18n import _, current_language, format_money, set_language
from instructor_tui.i18n.fr import CATALOG

PACKAGE = Path(instructor_tui.__file__).parent


def _source_strings() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        if "demo" in path.relative_to(PACKAGE).parts:
            continue  # the reference portal's data is French already and not part of the app's UI
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"_", "N_"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found[node.args[0].value] = f"{path.relative_to(PACKAGE)}:{node.lineno}"
    return found


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_user_facing_string_is_in_the_french_catalogue():
    missing = {text: where for text, where in _source_strings().items() if text not in CATALOG}
    assert not missing, "missing French translations:\n" + "\n".join(f"{w}: {t!r}" for t, w in missing.items())


@pytest.mark.parametrize("source", sorted(CATALOG))
def test_translations_keep_their_placeholders(source):
    assert _fields(CATALOG[source]) == _fields(source)


def test_english_is_selectable():
    assert current_language() == "fr"
    some = next(iter(CATALOG))
    assert _(some) == CATALOG[some]
    set_language("en")
    try:
        assert _(some) == some
        assert format_money(150) == "€1.50"
    finally:
        set_language("fr")
    assert format_money(150) == "1,50\u00a0€"
