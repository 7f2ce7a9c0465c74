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


@pytest.mark.parametrize("language", ["fr", "en"])
def test_integers_amounts_and_dates_are_formatted_as_babel_does(language):
    """i18n formats these without babel (its import costs the first frame ~30 ms): the same text."""
    from datetime import UTC, date, datetime, timedelta
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from babel.dates import format_date as babel_date
    from babel.dates import format_datetime as babel_datetime
    from babel.numbers import format_currency, format_decimal

    from instructor_tui.i18n import format_date, format_datetime, format_number

    locale = "fr_FR" if language == "fr" else "en_GB"
    numbers = [0, 1, -1, 7, 12, 999, 1000, -1000, 1234, 99_999, 100_000, 1_234_567, -9_876_543_210, 10**15]
    instants = [datetime(2022, 6, 1, 9, 5), datetime(1999, 12, 31, 23, 59, tzinfo=UTC),
                datetime(2022, 3, 27, 1, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris")),
                datetime(2026, 10, 25, 2, 0, tzinfo=ZoneInfo("Europe/Paris"))]
    instants += [datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=37 * k, minutes=61 * k) for k in range(12)]
    set_language(language)
    try:
        for n in numbers:
            assert format_number(n) == format_decimal(n, locale=locale), n
            assert format_money(n) == format_currency(Decimal(n) / 100, "EUR", locale=locale), n
        assert format_number(12.5) == format_decimal(12.5, locale=locale)  # babel's own path
        for instant in instants:
            assert format_date(instant) == babel_date(instant.date(), format="short", locale=locale)
            assert format_date(instant.date()) == babel_date(instant.date(), format="short", locale=locale)
            assert format_datetime(instant) == babel_datetime(instant, format="short", locale=locale), instant
        assert format_date(date(987, 6, 5)) == babel_date(date(987, 6, 5), format="short", locale=locale)
    finally:
        set_language("fr")
