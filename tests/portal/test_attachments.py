"""Attachment downloads: verified, capped, named by content, nothing left behind on failure."""

from __future__ import annotations

import hashlib
import stat

import httpx
import pytest

from instructor_tui.domain.models import Attachment
from instructor_tui.portal.attachments import AttachmentCache, AttachmentTooLarge
from instructor_tui.portal.connector import IntegrityError, Unavailable
from instructor_tui.portal.http_client import PortalV1Connector
from instructor_tui.portal.retry import RetryPolicy
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.store import upsert_dossiers

from .fakes import FakePortal, make_dossier

PDF = b"%PDF-1.4 facture " * 100


def _attachment(data: bytes = PDF, *, aid: str = "a1", size: int | None = None, sha: str | None = None,
                filename: str = "../../../.bashrc", content_type: str = "application/pdf") -> Attachment:
    return Attachment(
        id=aid, filename=filename, content_type=content_type,
        size=len(data) if size is None else size,
        sha256=sha or hashlib.sha256(data).hexdigest(),
    )


def _files(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


async def test_a_download_is_verified_and_named_by_its_hash_not_its_filename(tmp_path):
    a = _attachment()
    portal = FakePortal([make_dossier(1, attachments=[a])])
    portal.attachment_bytes["a1"] = PDF
    cache = AttachmentCache(portal, tmp_path / "att")
    path = await cache.fetch("d00001", a)
    assert path.name == f"{a.sha256}.pdf" and path.parent == tmp_path / "att"
    assert path.read_bytes() == PDF
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600  # private, never executable
    assert _files(tmp_path / "att") == [path.name]
    assert not (tmp_path / ".bashrc").exists()


async def test_the_extension_comes_from_a_short_list_of_content_types_only(tmp_path):
    a = _attachment(content_type="application/x-sh")
    portal = FakePortal([make_dossier(1, attachments=[a])])
    portal.attachment_bytes["a1"] = PDF
    path = await AttachmentCache(portal, tmp_path).fetch("d00001", a)
    assert path.name == a.sha256


async def test_a_checksum_mismatch_is_refused_and_leaves_nothing(tmp_path):
    a = _attachment(sha="0" * 64)
    portal = FakePortal([make_dossier(1, attachments=[a])])
    portal.attachment_bytes["a1"] = PDF
    with pytest.raises(IntegrityError):
        await AttachmentCache(portal, tmp_path).fetch("d00001", a)
    assert _files(tmp_path) == []


async def test_a_truncated_download_is_refused_and_leaves_nothing(tmp_path):
    a = _attachment()
    portal = FakePortal([make_dossier(1, attachments=[a])])
    portal.attachment_bytes["a1"] = PDF[:-10]
    with pytest.raises(IntegrityError, match="truncated"):
        await AttachmentCache(portal, tmp_path).fetch("d00001", a)
    assert _files(tmp_path) == []


async def test_more_bytes_than_announced_stop_the_download(tmp_path):
    a = _attachment(size=50)
    portal = FakePortal([make_dossier(1, attachments=[a])])
    portal.attachment_bytes["a1"] = PDF
    with pytest.raises(IntegrityError):
        await AttachmentCache(portal, tmp_path).fetch("d00001", a)
    assert _files(tmp_path) == []


async def test_an_announced_size_above_the_cap_is_not_even_requested(tmp_path):
    a = _attachment(size=10_000_000)
    portal = FakePortal([make_dossier(1, attachments=[a])])  # no bytes: a request would fail with KeyError
    with pytest.raises(AttachmentTooLarge):
        await AttachmentCache(portal, tmp_path, max_bytes=1_000_000).fetch("d00001", a)


async def test_an_attachment_without_a_valid_checksum_is_refused(tmp_path):
    a = _attachment(sha="../../etc/passwd")
    portal = FakePortal([make_dossier(1, attachments=[a])])
    portal.attachment_bytes["a1"] = PDF
    with pytest.raises(IntegrityError):
        await AttachmentCache(portal, tmp_path).fetch("d00001", a)
    assert _files(tmp_path) == []


async def test_a_cached_file_is_reused_and_recorded_in_the_store(tmp_path, cache_store):
    a = _attachment()
    d = make_dossier(1, attachments=[a])
    upsert_dossiers(cache_store, [d])
    portal = FakePortal([d])
    portal.attachment_bytes["a1"] = PDF
    cache = AttachmentCache(portal, tmp_path / "att", recorder=StoreSink(cache_store))
    first = await cache.fetch(d.id, a)
    portal.attachment_bytes.clear()  # a second download would fail
    assert await cache.fetch(d.id, a) == first
    from sqlalchemy import select

    from instructor_tui.store import tables

    with cache_store.read() as conn:
        row = conn.execute(select(tables.attachment_table.c.local_path, tables.attachment_table.c.downloaded_at)).one()
    assert row.local_path == str(first) and row.downloaded_at is not None


async def test_prefetch_downloads_the_next_dossiers_and_notes_failures(tmp_path):
    good = [_attachment(PDF + bytes([i]), aid=f"a{i}") for i in range(3)]
    bad = _attachment(aid="bad", sha="1" * 64)
    dossiers = [make_dossier(1, attachments=good[:2]), make_dossier(2, attachments=[good[2], bad]),
                make_dossier(3, attachments=[_attachment(aid="later")])]
    portal = FakePortal(dossiers)
    for i, a in enumerate(good):
        portal.attachment_bytes[a.id] = PDF + bytes([i])
    portal.attachment_bytes["bad"] = PDF
    report = await AttachmentCache(portal, tmp_path).prefetch(dossiers, max_dossiers=2)
    assert report.downloaded == 3 and report.failed == ["bad"]
    assert len(_files(tmp_path)) == 3  # the third dossier was not fetched, the bad file not kept


# --- through the HTTP connector -------------------------------------------------------------------


def _connector(handler) -> PortalV1Connector:
    async def no_sleep(_s: float) -> None:
        return None

    return PortalV1Connector(
        "https://portal.example.fr", token="t", transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=2, sleep=no_sleep),
    )


class _CutStream(httpx.AsyncByteStream):
    """Sends part of the body, then the connection drops."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self):
        yield self.data
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


async def test_a_connection_dropped_mid_download_is_unavailable_and_leaves_nothing(tmp_path):
    a = _attachment()

    def handler(request):
        return httpx.Response(200, headers={"Content-Length": str(len(PDF))}, stream=_CutStream(PDF[:100]))

    async with _connector(handler) as connector:
        with pytest.raises(Unavailable):
            await AttachmentCache(connector, tmp_path).fetch("d1", a)
    assert _files(tmp_path) == []


async def test_a_download_through_http_is_streamed_and_verified(tmp_path):
    a = _attachment()
    paths = []

    def handler(request):
        paths.append(request.url.raw_path)
        return httpx.Response(200, content=PDF, headers={"Content-Type": "application/pdf"})

    async with _connector(handler) as connector:
        path = await AttachmentCache(connector, tmp_path).fetch("d/1", a)
    assert path.read_bytes() == PDF
    assert paths == [b"/api/v1/dossiers/d%2F1/attachments/a1"]  # ids stay one path segment
    async with _connector(handler) as connector:
        await AttachmentCache(connector, tmp_path / "2").fetch("..", a)
    assert paths[-1] == b"/api/v1/dossiers/%2E%2E/attachments/a1"
