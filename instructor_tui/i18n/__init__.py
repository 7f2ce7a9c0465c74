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


def format_money(cents: int | None) -> str:
    """12345 → '123,45 €' (fr) or '€123.45' (en); None → '—'."""
    if cents is None:
        return "—"
    from babel.numbers import format_currency

    return format_currency(Decimal(cents) / 100, "EUR", locale=_locale())


def format_number(value: int | float) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=_locale())


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    from babel.dates import format_date as _format_date

    day = value.date() if isinstance(value, datetime) else value
    return _format_date(day, format="short", locale=_locale())


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    from babel.dates import format_datetime as _format_datetime

    return _format_datetime(value, format="short", locale=_locale())
