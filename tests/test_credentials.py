import keyring
import keyring.backend
import keyring.errors
import pytest

from instructor_tui import credentials


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 10  # type: ignore[assignment]

    def __init__(self):
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        if (service, username) not in self.entries:
            raise keyring.errors.PasswordDeleteError(username)
        del self.entries[(service, username)]


class LockedKeyring(MemoryKeyring):
    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked("locked")


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_save_load_delete_round_trip(memory_keyring):
    credentials.save_token("region", "  s3cret  ")
    assert memory_keyring.entries == {("instructor-tui", "region"): "s3cret"}
    token = credentials.load_token("region")
    assert token is not None and token.value == "s3cret"
    assert token.source is credentials.TokenSource.KEYRING
    assert "s3cret" not in repr(token)
    assert credentials.delete_token("region") is True
    assert credentials.delete_token("region") is False
    assert credentials.load_token("region") is None


def test_environment_wins_over_keyring(memory_keyring, monkeypatch):
    credentials.save_token("region", "stored")
    monkeypatch.setenv(credentials.TOKEN_ENV, "from-env")
    token = credentials.load_token("region")
    assert token is not None and (token.value, token.source) == ("from-env", credentials.TokenSource.ENVIRONMENT)


def test_no_backend_is_reported():
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(credentials.KeyringUnavailable) as info:
            credentials.load_token("region")
        assert info.value.template == credentials.NO_BACKEND
    finally:
        keyring.set_keyring(previous)


def test_locked_keyring_is_reported_not_raised_raw():
    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        with pytest.raises(credentials.KeyringUnavailable) as info:
            credentials.load_token("region")
        assert info.value.params == {"kind": "KeyringLocked"}
    finally:
        keyring.set_keyring(previous)


def test_plaintext_backend_is_refused():
    plaintext = type("PlaintextKeyring", (MemoryKeyring,), {"__module__": "keyrings.alt.file"})
    previous = keyring.get_keyring()
    keyring.set_keyring(plaintext())
    try:
        with pytest.raises(credentials.KeyringUnavailable) as info:
            credentials.save_token("region", "s3cret")
        assert "keyrings.alt.file" in info.value.params["backend"]
    finally:
        keyring.set_keyring(previous)


def test_a_token_from_the_environment_does_not_import_keyring():
    """keyring's import and backend discovery cost ~150 ms: the automation path does without them."""
    import os
    import subprocess
    import sys

    code = ("import sys\nfrom instructor_tui import credentials\n"
            "token = credentials.load_token('p')\n"
            "print(token.source.value, 'keyring' in sys.modules)\n")
    env = dict(os.environ, INSTRUCTOR_TUI_TOKEN="abc")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split() == ["environment", "False"]
