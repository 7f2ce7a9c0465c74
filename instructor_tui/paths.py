"""Every location the app reads or writes, in one place.

platformdirs picks the per-user directories; INSTRUCTOR_TUI_HOME moves all of them under one folder
(tests, portable installs) and INSTRUCTOR_TUI_CONFIG points at another settings file. Each function
creates its directory, private to the user (0700): the data holds applicants' personal data.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

APP_NAME = "instructor-tui"
HOME_ENV = "INSTRUCTOR_TUI_HOME"
CONFIG_ENV = "INSTRUCTOR_TUI_CONFIG"


def _private_dir(path: Path) -> Path:
    created = [parent for parent in (path, *path.parents) if not parent.exists()]
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkdir's mode applies to the leaf only (parents get the umask's): the folders created here are
    # all made private; an existing folder other than the leaf is left as the user set it.
    for folder in {path, *created}:
        try:
            folder.chmod(0o700)
        except OSError:  # not ours to change (a shared mount): leave it as it is
            pass
    return path


def _base(kind: str) -> Path:
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser() / kind
    dirs = PlatformDirs(APP_NAME, appauthor=False)
    return Path({"config": dirs.user_config_dir, "data": dirs.user_data_dir, "cache": dirs.user_cache_dir}[kind])


def config_dir() -> Path:
    return _private_dir(_base("config"))


def data_dir() -> Path:
    return _private_dir(_base("data"))


def cache_dir() -> Path:
    return _private_dir(_base("cache"))


def config_file() -> Path:
    """The settings file: INSTRUCTOR_TUI_CONFIG if set, else config.toml in the config dir."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return config_dir() / "config.toml"


def profile_data_dir(profile: str) -> Path:
    """Per-profile data (the SQLite database), so profiles never share a cache by accident."""
    return _private_dir(data_dir() / "profiles" / _safe_name(profile))


def attachments_dir(profile: str) -> Path:
    """Downloaded attachments, stored under their SHA-256, never under the applicant's file name."""
    return _private_dir(cache_dir() / "attachments" / _safe_name(profile))


def default_database_url(profile: str) -> str:
    return f"sqlite:///{profile_data_dir(profile) / 'instructor.sqlite3'}"


def _safe_name(name: str) -> str:
    """Profile names come from the settings file: keep them from choosing a path."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".")
    return cleaned or "_"
