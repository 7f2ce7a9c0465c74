"""Portal tokens, kept in the system keyring and nowhere else.

One keyring entry per profile under the service `instructor-tui`. Where no usable keyring exists
(headless Linux raises NoKeyringError; a locked keyring refuses), the caller asks for the token at
start and keeps it in memory for the session only. Plaintext backends (keyrings.alt's file-based
ones) are refused: a token must never sit in a plain file. INSTRUCTOR_TUI_TOKEN, when set, wins
over the keyring: it is meant for automation (CI, scripted syncs), not for daily use.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from instructor_tui.i18n import N_

if TYPE_CHECKING:
    import keyring.backend

# keyring is imported where it is used: its import (~80 ms: jaraco, urllib.request, email,
# configparser) and get_keyring's backend discovery (~70 ms) are not paid when the token comes from
# INSTRUCTOR_TUI_TOKEN, and otherwise run in the app's background thread, never before its first rows.

SERVICE = "instructor-tui"
TOKEN_ENV = "INSTRUCTOR_TUI_TOKEN"


class TokenSource(StrEnum):
    ENVIRONMENT = "environment"
    KEYRING = "keyring"
    SESSION = "session"
    """Typed by the user at start; held in memory only."""


PLAINTEXT_REFUSED = N_("The keyring backend {backend} keeps secrets in a plain file: it is refused.")
NO_BACKEND = N_("No keyring is available on this system.")
REFUSED = N_("The keyring refused the request ({kind}); it may be locked.")


class KeyringUnavailable(Exception):
    """No keyring can hold the token; `template` (a catalogue string) and `params` say why."""

    def __init__(self, template: str, **params: str) -> None:
        super().__init__(template.format(**params))
        self.template = template
        self.params = params

    def message(self) -> str:
        from instructor_tui.i18n import _

        return _(self.template).format(**self.params)


@dataclass(frozen=True, slots=True, repr=False)
class Token:
    value: str
    source: TokenSource

    def __repr__(self) -> str:  # never show the secret, even in a traceback
        return f"Token(source={self.source.value}, value=<hidden>)"


_PLAINTEXT_MODULES = ("keyrings.alt.file", "keyrings.alt.Gnome", "keyring.backends.null")


def _backends(backend: keyring.backend.KeyringBackend) -> list[keyring.backend.KeyringBackend]:
    return list(getattr(backend, "backends", [backend]))


def check_backend() -> keyring.backend.KeyringBackend:
    """The usable keyring backend, or KeyringUnavailable saying why there is none."""
    import keyring

    backend = keyring.get_keyring()
    members = _backends(backend)
    for member in members:
        module = type(member).__module__
        if module.startswith("keyrings.alt") or module in _PLAINTEXT_MODULES:
            raise KeyringUnavailable(PLAINTEXT_REFUSED, backend=f"{module}.{type(member).__name__}")
    if not members or all(type(m).__module__ == "keyring.backends.fail" for m in members):
        raise KeyringUnavailable(NO_BACKEND)
    return backend


def load_token(profile: str) -> Token | None:
    """The token for `profile` from the environment or the keyring; None when there is none.

    Raises KeyringUnavailable when the keyring cannot be read (absent, locked, plaintext).
    """
    import os

    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return Token(env, TokenSource.ENVIRONMENT)
    check_backend()
    import keyring.errors

    try:
        value = keyring.get_password(SERVICE, profile)
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(REFUSED, kind=type(exc).__name__) from None
    return Token(value, TokenSource.KEYRING) if value else None


def save_token(profile: str, value: str) -> None:
    value = value.strip()
    if not value:
        raise ValueError("empty token")
    check_backend()
    import keyring.errors

    try:
        keyring.set_password(SERVICE, profile, value)
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(REFUSED, kind=type(exc).__name__) from None


def delete_token(profile: str) -> bool:
    """Remove the stored token; False when there was none."""
    check_backend()
    import keyring.errors

    try:
        keyring.delete_password(SERVICE, profile)
    except keyring.errors.PasswordDeleteError:
        return False
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(REFUSED, kind=type(exc).__name__) from None
    return True
