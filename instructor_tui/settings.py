"""Typed settings read from one TOML file, with one profile per portal or tenant.

A bad file never produces a traceback: `load_settings` raises SettingsError naming the file, the
key and what was expected, which the CLI prints before exiting with code 2.

Example::

    language = "fr"
    default_profile = "region"

    [profiles.region]
    connector = "portal-v1"
    portal_url = "https://aides.example.fr"
    instructor_id = "i.martin"
    database_url = "postgresql+psycopg://crm@db.example.fr/instruction"
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, cast

from instructor_tui import paths
from instructor_tui.i18n import N_, _

# Validated by hand, not by pydantic: the settings are read on every start, before the first frame,
# and importing pydantic alone costs ~80 ms there.

Language = Literal["fr", "en"]
ConnectorKind = Literal["portal-v1", "demarches-simplifiees"]
LANGUAGES: tuple[Language, ...] = ("fr", "en")
CONNECTORS: tuple[ConnectorKind, ...] = ("portal-v1", "demarches-simplifiees")
DEMO_PROFILE = "demo"


@dataclass(frozen=True)
class Profile:
    """One portal or tenant: its connector, its identity there, its own database and token."""

    connector: ConnectorKind = "portal-v1"
    """Which connector speaks to the portal."""
    portal_url: str = ""
    """Base URL of the portal (https://…; http only on loopback)."""
    instructor_id: str = ""
    """The user's identifier on the portal."""
    database_url: str = ""
    """SQLAlchemy URL of the local store; empty means a SQLite file in the data dir. A
    postgresql+psycopg:// URL shares calls, decisions and audit with the team."""
    language: Language | None = None
    """UI language for this profile; overrides the global one."""
    read_only: bool = False
    """Open this profile read-only (a lead watching the team): no decision, claim or tag."""
    demarches: tuple[int, ...] = ()
    """Démarches Simplifiées only: the démarche numbers to follow."""
    notes_annotation: str = ""
    """Démarches Simplifiées only: the private annotation (a text or long-text annotation of the
    démarches, by its label or its id) that receives the instructors' notes; empty: notes stay local."""

    def non_defaults(self) -> dict[str, Any]:
        """The fields that differ from their defaults, in declaration order (what `save_profile` writes)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != f.default}


@dataclass(frozen=True)
class Settings:
    """The whole settings file."""

    language: Language = "fr"
    """UI language: 'fr' (default) or 'en'."""
    theme: str = "textual-dark"
    """Textual theme name (dark, light or high contrast)."""
    default_profile: str = DEMO_PROFILE
    """Profile used when --profile is not given."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id → keys, e.g. 'dossier.approve' = 'a,f5'."""
    auto_next: bool = True
    """Open the next dossier by itself after a decision."""
    undo_delay_seconds: float = 5.0
    """How long a decision waits in the outbox, undoable, before it is sent (0–600)."""
    sync_interval_seconds: float = 60.0
    """Period of the background sync while the app runs (5–86,400)."""
    per_agent_statistics: bool = False
    """Team setting: show per-agent figures to leads (off by default, for privacy)."""
    profiles: dict[str, Profile] = field(default_factory=dict)
    """Profiles by name."""

    def profile(self, name: str | None = None) -> tuple[str, Profile]:
        """The named (or default) profile; raises SettingsError for an unknown name."""
        chosen = name or self.default_profile
        if chosen in self.profiles:
            return chosen, self.profiles[chosen]
        if chosen == DEMO_PROFILE:
            return chosen, Profile()
        known = ", ".join(sorted(self.profiles)) or "-"
        raise SettingsError(
            paths.config_file(), f"profiles.{chosen}", N_("an existing profile (known: {known})"), {"known": known}
        )

    def language_for(self, profile: Profile) -> Language:
        return profile.language or self.language


class SettingsError(Exception):
    """A settings problem, said in terms of the file, the key and what was expected.

    `expected` is a catalogue template (English source) formatted with `params`; `str(error)` is
    English, `error.expected_text()` is in the current UI language.
    """

    def __init__(self, file: Path, key: str, expected: str, params: Mapping[str, object] | None = None) -> None:
        self.params = dict(params or {})
        super().__init__(f"{file}: {key}: {expected.format(**self.params)}")
        self.file = file
        self.key = key
        self.expected = expected

    def expected_text(self) -> str:
        return _(self.expected).format(**self.params)


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate the settings file; a missing file means the defaults."""
    path = path or paths.config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        raise SettingsError(path, "(file)", N_("a readable file ({reason})"), {"reason": exc.strerror or ""}) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SettingsError(path, "(file)", N_("UTF-8 text")) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(path, "(syntax)", N_("valid TOML ({reason})"), {"reason": str(exc)}) from None
    try:
        return _settings(data)
    except _Invalid as exc:
        raise SettingsError(path, exc.key or "(root)", exc.template, exc.params) from None


# -- validation ----------------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, key: str, template: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.template, self.params = key, template, params


Check = Callable[[Any, str], Any]
"""Takes a TOML value and its dotted key; returns the setting's value or raises _Invalid."""


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(key, N_("a text in quotes"))
    return value


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(key, N_("true or false"))
    return value


def _number(low: float, high: float) -> Check:
    def check(value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(key, N_("a number"))
        if value < low:
            raise _Invalid(key, N_("a number of at least {ge}"), ge=_plain(low))
        if value > high:
            raise _Invalid(key, N_("a number of at most {le}"), le=_plain(high))
        return float(value)

    return check


def _one_of(choices: tuple[str, ...]) -> Check:
    def check(value: Any, key: str) -> str:
        if value not in choices:
            raise _Invalid(key, N_("one of {expected}"), expected=", ".join(f"'{c}'" for c in choices))
        return cast(str, value)

    return check


def _whole_numbers(value: Any, key: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise _Invalid(key, N_("a list"))
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int):
            raise _Invalid(f"{key}.{index}", N_("a whole number"))
    return tuple(value)


def _texts_by_name(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _Invalid(key, N_("a table"))
    return {name: _text(item, f"{key}.{name}") for name, item in value.items()}


def _profiles(value: Any, key: str) -> dict[str, Profile]:
    if not isinstance(value, dict):
        raise _Invalid(key, N_("a table"))
    found = {}
    for name, table in value.items():
        if not isinstance(table, dict):
            raise _Invalid(f"{key}.{name}", N_("a table"))
        found[name] = Profile(**_checked(table, _PROFILE_CHECKS, f"{key}.{name}."))
    return found


_PROFILE_CHECKS: dict[str, Check] = {
    "connector": _one_of(CONNECTORS),
    "portal_url": _text,
    "instructor_id": _text,
    "database_url": _text,
    "language": _one_of(LANGUAGES),
    "read_only": _flag,
    "demarches": _whole_numbers,
    "notes_annotation": _text,
}
_SETTINGS_CHECKS: dict[str, Check] = {
    "language": _one_of(LANGUAGES),
    "theme": _text,
    "default_profile": _text,
    "keymap": _texts_by_name,
    "auto_next": _flag,
    "undo_delay_seconds": _number(0, 600),
    "sync_interval_seconds": _number(5, 86_400),
    "per_agent_statistics": _flag,
    "profiles": _profiles,
}


def _checked(table: dict[str, Any], checks: Mapping[str, Check], prefix: str) -> dict[str, Any]:
    values = {}
    for name, value in table.items():
        check = checks.get(name)
        if check is None:
            raise _Invalid(prefix + name, N_("a known key (this one does not exist; check its spelling)"))
        values[name] = check(value, prefix + name)
    return values


def _settings(data: dict[str, Any]) -> Settings:
    return Settings(**_checked(data, _SETTINGS_CHECKS, ""))


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def save_profile(name: str, profile: Profile, path: Path | None = None) -> None:
    """Add or replace one profile in the settings file, keeping the rest of the file as it was."""
    path = path or paths.config_file()
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    header = f"[profiles.{name}]"
    out: list[str] = []
    skipping = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            skipping = stripped == header
        if not skipping:
            out.append(line)
    while out and not out[-1].strip():
        out.pop()
    if out:
        out.append("")
    out.append(header)
    for key, value in profile.non_defaults().items():
        out.append(f"{key} = {_toml_value(value)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    load_settings(path)  # what we wrote must read back


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
