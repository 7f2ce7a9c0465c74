"""DS files through the attachment cache: the MD5 DS announces is verified, the file is stored under
the SHA-256 computed while streaming."""

from __future__ import annotations

import hashlib

import pytest

from instructor_tui.portal.attachments import AttachmentCache
from instructor_tui.portal.connector import IntegrityError


async def test_a_ds_file_is_cached_under_its_sha256_after_its_md5_is_checked(ds, connector, tmp_path):
    dossier = await connector.get_dossier("1003")
    attachment = dossier.attachments[0]
    assert attachment.sha256 == "" and attachment.checksum_algorithm == "md5" and attachment.checksum
    cache = AttachmentCache(connector, tmp_path / "att")
    path = await cache.fetch(dossier.id, attachment)
    assert path.read_bytes() == b"%PDF facture 3"
    assert path.name == hashlib.sha256(b"%PDF facture 3").hexdigest() + ".pdf"
    assert await cache.fetch(dossier.id, attachment) == path and len(ds.file_requests) == 1


async def test_a_ds_file_that_does_not_match_its_md5_leaves_nothing(ds, connector, tmp_path):
    dossier = await connector.get_dossier("1004")
    ds.corrupt_files = True
    cache = AttachmentCache(connector, tmp_path / "att")
    with pytest.raises(IntegrityError):
        await cache.fetch(dossier.id, dossier.attachments[0])
    assert list((tmp_path / "att").iterdir()) == []


async def test_a_ds_file_is_found_again_after_a_restart_without_downloading_it(ds, connector, tmp_path):
    dossier = await connector.get_dossier("1005")
    attachment = dossier.attachments[0]
    path = await AttachmentCache(connector, tmp_path / "att").fetch(dossier.id, attachment)
    assert [p.name for p in (tmp_path / "att").iterdir()] == [path.name]  # only files named by SHA-256
    restarted = AttachmentCache(connector, tmp_path / "att")  # a new session: nothing in memory
    assert restarted.cached(attachment) == path
    assert await restarted.fetch(dossier.id, attachment) == path and len(ds.file_requests) == 1


async def test_a_broken_or_stale_checksum_alias_only_costs_a_download(ds, connector, tmp_path):
    dossier = await connector.get_dossier("1006")
    attachment = dossier.attachments[0]
    path = await AttachmentCache(connector, tmp_path / "att").fetch(dossier.id, attachment)
    [alias] = list((tmp_path / "att.checksums").iterdir())
    assert alias.read_text() == path.name.removesuffix(".pdf")
    alias.write_text("../../etc/passwd")
    assert AttachmentCache(connector, tmp_path / "att").cached(attachment) is None
    path.unlink()  # purged meanwhile, alias or not
    again = await AttachmentCache(connector, tmp_path / "att").fetch(dossier.id, attachment)
    assert again == path and again.read_bytes() == b"%PDF facture 6" and len(ds.file_requests) == 2
