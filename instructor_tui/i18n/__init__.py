"""User-facing text in French (default) or English, and locale-aware formatting.

Source strings are English and wrapped in `_()`; `fr.CATALOG` maps each to French. A test collects
every `_("…")` literal in the package and fails on one missing from the catalogue. Use `{name}`
placeholders and `_(…).format(…)` so translators can move words around.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from instructor_tui.i18n.fr import CATALOG as _FR

LANGUAGES = ("fr", "en")
_language = "fr"


def set_language(language: str) -> None:
    global _language
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    _language = language


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """Translate an English source string into the current language."""
    if _language == "fr":
        return _FR.get(message, message)
    return message


def N_(message: str) -> str:
    """Mark a string for the catalogue without translating it yet (module-level constants)."""
    return message


def _locale() -> str:
    return "fr_FR" if _language == "fr" else "en_GB"


# Integers, amounts in cents and dates are formatted here with babel's output for fr_FR and en_GB
# (CLDR: "#,##0.###", "#,##0.00 ¤" / "¤#,##0.00", "dd/MM/y", "{1} {0}" / "{1}, {0}" with "HH:mm";
# tests/test_i18n.py compares both with babel): importing babel and reading its locale data cost
# ~30 ms of CPU, which the queue's first frame (counts, amounts, dates) need not pay. Babel formats
# the rest (non-integer numbers).
_GROUP = {"fr": "\u202f", "en": ","}
_DECIMAL = {"fr": ",", "en": "."}
_DATE_TIME = {"fr": " ", "en": ", "}


def _grouped(value: int) -> str:
    digits = f"{abs(value):,}".replace(",", _GROUP[_language])
    return "-" + digits if value < 0 else digits


def format_money(cents: int | None) -> str:
    """12345 → '123,45 €' (fr) or '€123.45' (en); None → '—'."""
    if cents is None:
        return "—"
    if isinstance(cents, int):
        units, rest = divmod(abs(cents), 100)
        amount = f"{_grouped(units)}{_DECIMAL[_language]}{rest:02d}"
        sign = "-" if cents < 0 else ""
        return f"{sign}{amount}\u00a0€" if _language == "fr" else f"{sign}€{amount}"
    from babel.numbers import format_currency

    return format_currency(Decimal(cents) / 100, "EUR", locale=_locale())


def format_number(value: int | float) -> str:
    if isinstance(value, int):
        return _grouped(value)
    from babel.numbers import format_decimal

    return format_decimal(value, locale=_locale())


def _short_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    return _short_date(value.date() if isinstance(value, datetime) else value)


def format_datetime(value: datetime | None) -> str:
    """In the value's own time zone (babel's, which takes a naive value as UTC, the same)."""
    if value is None:
        return "—"
    return f"{_short_date(value.date())}{_DATE_TIME[_language]}{value.hour:02d}:{value.minute:02d}"
