import os
import stat
import threading

import pytest
from sqlalchemy import text

from instructor_tui.store import StoreError, open_store
from instructor_tui.store import errors as store_errors


def test_sqlite_file_is_private_in_a_private_directory(tmp_path):
    path = tmp_path / "new" / "deeper" / "db.sqlite3"
    opened = open_store(f"sqlite:///{path}")
    assert opened.cache_path == path.with_name("db.cache.sqlite3")
    with opened.write() as conn:  # writes to both files make their WAL files
        conn.exec_driver_sql("INSERT INTO cache.sync_cursor (scope) VALUES ('x')")
        conn.exec_driver_sql("INSERT INTO note (dossier_id, at, author, text) VALUES ('d', '2022-01-01', 'a', 't')")
    for file in (path, opened.cache_path):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        for sidecar in (file.with_name(file.name + "-wal"), file.with_name(file.name + "-shm")):
            assert sidecar.exists()
            assert stat.S_IMODE(sidecar.stat().st_mode) & 0o077 == 0
    opened.close()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_existing_world_readable_file_is_tightened(tmp_path):
    path = tmp_path / "db.sqlite3"
    path.touch(mode=0o644)
    path.chmod(0o644)
    open_store(f"sqlite:///{path}").close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("schema", ["main", "cache"])
def test_sqlite_pragmas(store, schema):
    with store.read() as conn:
        assert conn.exec_driver_sql(f"PRAGMA {schema}.journal_mode").scalar() == "wal"
        # FULL on the journal (the agent's work); NORMAL on the cache, which the portal can refill.
        expected = 2 if schema == "main" else 1
        assert conn.exec_driver_sql(f"PRAGMA {schema}.synchronous").scalar() == expected
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    assert store.dialect == "sqlite"
    assert store.path is not None and store.path.name == "instructor.sqlite3"


def test_store_is_usable_from_worker_threads(store):
    results: list[int] = []

    def work() -> None:
        with store.read() as conn:
            results.append(conn.execute(text("SELECT 41 + 1")).scalar_one())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 4


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not a database, just text\n" * 200)
    with pytest.raises(StoreError) as info:
        open_store(f"sqlite:///{path}")
    assert info.value.message == store_errors.NOT_A_DATABASE
    assert str(path) in str(info.value)


def test_a_damaged_database_is_a_store_error(tmp_path):
    path = tmp_path / "damaged.sqlite3"
    opened = open_store(f"sqlite:///{path}")
    opened.close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # overwrite the schema page after the header
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        open_store(f"sqlite:///{path}")
    assert info.value.message == store_errors.NOT_A_DATABASE


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_unreadable_file_is_a_store_error(tmp_path):
    path = tmp_path / "locked.sqlite3"
    open_store(f"sqlite:///{path}").close()
    path.chmod(0o000)
    try:
        with pytest.raises(StoreError) as info:
            open_store(f"sqlite:///{path}")
        assert info.value.message in {store_errors.PERMISSION_DENIED, store_errors.CANNOT_OPEN_FILE}
    finally:
        path.chmod(0o600)


def test_a_directory_in_place_of_the_file_is_a_store_error(tmp_path):
    (tmp_path / "adir").mkdir()
    with pytest.raises(StoreError) as info:
        open_store(f"sqlite:///{tmp_path / 'adir'}")
    assert info.value.message == store_errors.CANNOT_OPEN_FILE


@pytest.mark.parametrize(
    "url", ["mysql://user:s3cret@db.example.fr/x", "not a url at all", "oracle+cx://u:s3cret@h/db"]
)
def test_unsupported_urls_are_refused_without_showing_the_password(url):
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert info.value.message == store_errors.UNSUPPORTED_URL
    assert "s3cret" not in str(info.value)


def test_unreachable_postgresql_server_is_a_store_error_without_password():
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    with pytest.raises(StoreError) as info:
        open_store("postgresql+psycopg://someone:s3cret@127.0.0.1:1/nothing")
    assert info.value.message == store_errors.CANNOT_CONNECT
    assert "s3cret" not in str(info.value)
    assert "127.0.0.1" in str(info.value)


def test_plain_postgresql_scheme_uses_psycopg(pg_url):
    opened = open_store(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        assert opened.dialect == "postgresql"
        assert opened.engine.url.drivername == "postgresql+psycopg"
    finally:
        opened.close()


def test_store_url_masks_the_password(tmp_path):
    from sqlalchemy.engine import make_url

    from instructor_tui.store.engine import Store, _open_postgresql

    store = _open_postgresql(make_url("postgresql+psycopg://crm:s3cret@db.example.fr/instr"))
    try:
        assert isinstance(store, Store)
        assert "s3cret" not in store.url and "s3cret" not in repr(store)
        assert "db.example.fr" in store.url
    finally:
        store.close()


def test_errors_format_their_templates():
    error = StoreError(store_errors.SCHEMA_TOO_NEW, where="x.db", found=9, known=1)
    assert str(error) == store_errors.SCHEMA_TOO_NEW.format(where="x.db", found=9, known=1)
    assert error.params == {"where": "x.db", "found": 9, "known": 1}



def test_permission_denied_on_creating_the_file_is_a_store_error(tmp_path, monkeypatch):
    # Tests run as root here, which no chmod can stop: simulate the refusal where it happens.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(StoreError) as info:
        open_store(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert info.value.message == store_errors.PERMISSION_DENIED


def test_every_store_message_is_in_the_french_catalogue():
    from instructor_tui.i18n.fr import CATALOG

    for template in (*store_errors.TEMPLATES, store_errors.CACHE_REBUILT):
        assert template in CATALOG, template
    error = StoreError(store_errors.CACHE_TOO_NEW, where="/x/cache.sqlite3", found=3, known=1)
    french = CATALOG[error.message].format(**error.params)
    assert "version de cache 3" in french and "/x/cache.sqlite3" in french


def test_wal_is_switched_on_once_another_process_lets_go_of_a_new_file(tmp_path):
    """Switching to WAL ignores the busy timeout: two first starts at once got "database is locked"."""
    import sqlite3
    import threading

    from instructor_tui.store.engine import _use_wal

    path = tmp_path / "new.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    threading.Timer(0.2, lambda: holder.execute("COMMIT")).start()
    other = sqlite3.connect(path, isolation_level=None, timeout=0.01)
    _use_wal(other.cursor(), "main")
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
