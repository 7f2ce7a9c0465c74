"""How dossier values read on screen: labels, dates in Paris time, communes, hosts.

Everything returned here is plain text for `Text`/`Segment` objects, never markup; values that come
from applicants go through `domain.sanitize.clean_line` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from instructor_tui.domain.sanitize import clean_line
from instructor_tui.domain.states import LABELS_EN, PORTAL_LABELS_FR, DossierState
from instructor_tui.i18n import _, current_language, format_date, format_datetime

if TYPE_CHECKING:
    from instructor_tui.domain.models import Scheme


@cache
def _paris() -> tzinfo:
    """The Region works on Paris time; a day boundary in UTC would misdate evening filings."""
    try:
        return ZoneInfo("Europe/Paris")
    except ZoneInfoNotFoundError:  # no tz database on this machine: UTC is still correct, only shifted
        from datetime import UTC

        return UTC


def local_time(value: datetime) -> datetime:
    if value.tzinfo is None:  # the store keeps UTC; a naive value is UTC without its label
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.astimezone(_paris())


def short_date(value: datetime | None) -> str:
    return format_date(local_time(value)) if value is not None else "—"


def short_datetime(value: datetime | None) -> str:
    return format_datetime(local_time(value)) if value is not None else "—"


def state_label(state: DossierState | str) -> str:
    """The portal's own French label (what staff know), or the English one in the English UI."""
    try:
        state = DossierState(state)
    except ValueError:
        return clean_line(state, 40)
    labels = PORTAL_LABELS_FR if current_language() == "fr" else LABELS_EN
    return labels[state]


_schemes: dict[str, Scheme] = {}


def set_schemes(schemes: Mapping[str, Scheme]) -> None:
    """Schemes whose labels the UI shows (the app receives them built, as it does every dependency)."""
    _schemes.clear()
    _schemes.update(schemes)


def scheme_label(code: str) -> str:
    """The scheme's label in the UI language; its code when the scheme is not known."""
    scheme = _schemes.get(code)
    if scheme is None:
        return clean_line(code, 60)
    label = scheme.label_fr if current_language() == "fr" else scheme.label_en
    return clean_line(label, 60)


def commune(postcode: str, city: str) -> str:
    return clean_line(f"{postcode} {city}", 80)


def portal_host(url: str) -> str:
    """Only the host: a URL may carry a path or credentials that have no place on screen."""
    if not url:
        return ""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return clean_line(host, 60)


def dossier_count(total: int) -> str:
    from instructor_tui.i18n import format_number

    if total == 1:
        return _("1 dossier")
    return _("{count} dossiers").format(count=format_number(total))


def file_size(size: int) -> str:
    from instructor_tui.i18n import format_number

    if size < 1024:
        return _("{size} B").format(size=format_number(size))
    if size < 1024 * 1024:
        return _("{size} KB").format(size=format_number(round(size / 1024, 1)))
    return _("{size} MB").format(size=format_number(round(size / (1024 * 1024), 1)))
