"""The cache verifies whatever checksum the portal announced (SHA-256 for Portal API v1, MD5 in base64
for Démarches Simplifiées) and always stores the file under the SHA-256 it computes."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from sqlalchemy import select

from instructor_tui.domain.models import Attachment
from instructor_tui.portal.attachments import AttachmentCache, announced_checksum
from instructor_tui.portal.connector import IntegrityError
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.store import get_dossier, tables, upsert_dossiers
from instructor_tui.store.serialize import dossier_from_json, dossier_to_json

from .fakes import FakePortal, make_dossier

PDF = b"%PDF-1.4 facture DS " * 200


def _md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _ds_attachment(data: bytes = PDF, *, checksum: str | None = None, aid: str = "Champ-1#x") -> Attachment:
    return Attachment(id=aid, filename="facture.pdf", content_type="application/pdf", size=len(data),
                      sha256="", checksum=_md5_b64(data) if checksum is None else checksum,
                      checksum_algorithm="md5")


def _files(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


async def test_an_md5_announced_file_is_verified_and_stored_under_its_computed_sha256(tmp_path, cache_store):
    a = _ds_attachment()
    d = make_dossier(1, attachments=[a])
    upsert_dossiers(cache_store, [d])
    portal = FakePortal([d])
    portal.attachment_bytes[a.id] = PDF
    cache = AttachmentCache(portal, tmp_path / "att", recorder=StoreSink(cache_store))
    assert cache.cached(a) is None
    path = await cache.fetch(d.id, a)
    sha = hashlib.sha256(PDF).hexdigest()
    assert path == tmp_path / "att" / f"{sha}.pdf" and path.read_bytes() == PDF
    assert _files(tmp_path / "att") == [path.name]
    # Found again without downloading (the portal has nothing left to send).
    portal.attachment_bytes.clear()
    assert cache.cached(a) == path and await cache.fetch(d.id, a) == path
    with cache_store.read() as conn:
        row = conn.execute(select(tables.attachment_table.c.local_path)).one()
    assert row.local_path == str(path)  # the store records the file named by the computed SHA-256


async def test_an_md5_mismatch_is_an_integrity_error_and_nothing_is_kept(tmp_path):
    a = _ds_attachment(checksum=_md5_b64(b"something else"))
    portal = FakePortal([make_dossier(1, attachments=[a])])
    portal.attachment_bytes[a.id] = PDF
    cache = AttachmentCache(portal, tmp_path / "att")
    with pytest.raises(IntegrityError, match="MD5 mismatch"):
        await cache.fetch("d00001", a)
    assert _files(tmp_path / "att") == [] and cache.cached(a) is None


async def test_a_sha256_announced_file_is_checked_as_before(tmp_path):
    good = Attachment("a1", "f.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest())
    bad = Attachment("a2", "f.pdf", "application/pdf", len(PDF), "0" * 64)
    portal = FakePortal([make_dossier(1, attachments=[good, bad])])
    portal.attachment_bytes.update({"a1": PDF, "a2": PDF})
    cache = AttachmentCache(portal, tmp_path)
    assert (await cache.fetch("d00001", good)).name == f"{good.sha256}.pdf"
    with pytest.raises(IntegrityError, match="SHA-256 mismatch"):
        await cache.fetch("d00001", bad)
    assert _files(tmp_path) == [f"{good.sha256}.pdf"]


@pytest.mark.parametrize(("checksum", "algorithm"), [
    ("", "md5"),  # announced nothing
    ("bm90IGFuIG1kNQ==", "md5"),  # base64, but not 16 bytes
    ("not base64 at all!", "md5"),
    (base64.b64encode(hashlib.sha1(PDF).digest()).decode(), "sha1"),  # an algorithm we do not verify
])
async def test_no_valid_announced_checksum_means_no_file(tmp_path, checksum, algorithm):
    a = Attachment("a1", "f.pdf", "application/pdf", len(PDF), "", checksum=checksum, checksum_algorithm=algorithm)
    portal = FakePortal([make_dossier(1, attachments=[a])])
    portal.attachment_bytes["a1"] = PDF
    with pytest.raises(IntegrityError, match="no valid checksum"):
        await AttachmentCache(portal, tmp_path).fetch("d00001", a)
    assert _files(tmp_path) == []


def test_announced_checksums_are_read_in_hex_or_base64_and_sha256_comes_first():
    md5 = hashlib.md5(PDF).digest()
    assert announced_checksum(_ds_attachment()) == ("md5", md5)
    assert announced_checksum(_ds_attachment(checksum=md5.hex())) == ("md5", md5)
    sha = hashlib.sha256(PDF).hexdigest()
    both = Attachment("a", "f", "application/pdf", 1, sha.upper(), checksum="x", checksum_algorithm="md5")
    assert announced_checksum(both) == ("sha256", bytes.fromhex(sha))


def test_the_store_keeps_the_announced_checksum_and_reads_old_json(cache_store):
    a = _ds_attachment()
    d = make_dossier(1, attachments=[a])
    upsert_dossiers(cache_store, [d])
    stored = get_dossier(cache_store, d.id)
    assert stored is not None and stored.attachments == (a,)
    v1 = make_dossier(2, attachments=[Attachment("a", "f.pdf", "application/pdf", 3, "ab" * 32)])
    assert dossier_from_json(dossier_to_json(v1)) == v1
    old = json.loads(dossier_to_json(d))  # without the members, as detail JSON of format 1 was
    for x in old["attachments"]:
        del x["checksum"], x["checksum_algorithm"]
    restored = dossier_from_json(json.dumps(old)).attachments[0]
    assert (restored.checksum, restored.checksum_algorithm) == ("", "sha256")
