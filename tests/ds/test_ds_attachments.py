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
