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
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from instructor_tui import paths
from instructor_tui.i18n import N_, _

Language = Literal["fr", "en"]
ConnectorKind = Literal["portal-v1", "demarches-simplifiees"]
DEMO_PROFILE = "demo"


class Profile(BaseModel):
    """One portal or tenant: its connector, its identity there, its own database and token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connector: ConnectorKind = Field("portal-v1", description="Which connector speaks to the portal.")
    portal_url: str = Field("", description="Base URL of the portal (https://…; http only on loopback).")
    instructor_id: str = Field("", description="The user's identifier on the portal.")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the local store; empty means a SQLite file in the data dir. "
        "A postgresql+psycopg:// URL shares calls, decisions and audit with the team.",
    )
    language: Language | None = Field(None, description="UI language for this profile; overrides the global one.")
    read_only: bool = Field(
        False, description="Open this profile read-only (a lead watching the team): no decision, claim or tag."
    )
    demarches: tuple[int, ...] = Field(
        (), description="Démarches Simplifiées only: the démarche numbers to follow."
    )
    notes_annotation: str = Field(
        "",
        description="Démarches Simplifiées only: the private annotation (a text or long-text annotation of "
        "the démarches, by its label or its id) that receives the instructors' notes; empty: notes stay local.",
    )


class Settings(BaseModel):
    """The whole settings file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Language = Field("fr", description="UI language: 'fr' (default) or 'en'.")
    theme: str = Field("textual-dark", description="Textual theme name (dark, light or high contrast).")
    default_profile: str = Field(DEMO_PROFILE, description="Profile used when --profile is not given.")
    keymap: dict[str, str] = Field(
        default_factory=dict, description="Binding id → keys, e.g. 'dossier.approve' = 'a,f5'."
    )
    auto_next: bool = Field(True, description="Open the next dossier by itself after a decision.")
    undo_delay_seconds: float = Field(
        5.0, ge=0, le=600, description="How long a decision waits in the outbox, undoable, before it is sent."
    )
    sync_interval_seconds: float = Field(
        60.0, ge=5, le=86400, description="Period of the background sync while the app runs."
    )
    per_agent_statistics: bool = Field(
        False, description="Team setting: show per-agent figures to leads (off by default, for privacy)."
    )
    profiles: dict[str, Profile] = Field(default_factory=dict, description="Profiles by name.")

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


# What pydantic's error types mean to someone editing a TOML file.
_EXPECTED: dict[str, str] = {
    "literal_error": N_("one of {expected}"),
    "string_type": N_("a text in quotes"),
    "bool_type": N_("true or false"),
    "bool_parsing": N_("true or false"),
    "int_type": N_("a whole number"),
    "int_parsing": N_("a whole number"),
    "float_type": N_("a number"),
    "float_parsing": N_("a number"),
    "greater_than_equal": N_("a number of at least {ge}"),
    "less_than_equal": N_("a number of at most {le}"),
    "extra_forbidden": N_("a known key (this one does not exist; check its spelling)"),
    "dict_type": N_("a table"),
    "tuple_type": N_("a list"),
    "list_type": N_("a list"),
}

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
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(root)"
        template = _EXPECTED.get(first["type"])
        if template is None:
            raise SettingsError(path, key, N_("a valid value ({reason})"), {"reason": first["msg"]}) from None
        params = {name: str(value).replace("' or '", "', '") for name, value in (first.get("ctx") or {}).items()}
        raise SettingsError(path, key, template, params) from None


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
    for key, value in profile.model_dump(exclude_defaults=True).items():
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
