"""Attachments: downloaded on demand or ahead of the instructor, verified, stored by content hash.

The applicant's file name never chooses a path: a file is streamed to a temporary name in the cache
directory, its size is held to the announced size and to a cap as it arrives, its SHA-256 is computed
as it streams, the checksum the portal announced is checked (a SHA-256 for Portal API v1, the MD5 in
base64 for Démarches Simplifiées: `Attachment.checksum` / `checksum_algorithm`), and only then is it
renamed to `<sha256>.<ext>`, the SHA-256 computed here (the extension from a short list of content
types, never from the file name). No announced checksum, no file. Files are created 0600 and never executed; a
failed or cancelled download leaves nothing behind. Same content, same file: two dossiers sharing a
document share one copy.

A portal that announces another checksum than SHA-256 (DS's MD5) names a file the cache cannot find
by that checksum alone: after a download, a small alias file `<algorithm>-<hex>` holding the SHA-256
is written in a sibling directory (`<directory>.checksums`, so that the directory itself only ever
holds files named by their SHA-256), and the file is found again after a restart without being
downloaded again. An alias that is missing, unreadable or points to no file only costs a download.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

from instructor_tui.domain.models import Attachment, Dossier
from instructor_tui.portal.connector import IntegrityError, PortalConnector, PortalError

log = logging.getLogger("instructor_tui.portal.attachments")

DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # Démarches Simplifiées' own limit per file
WRITE_CHUNK = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
ALIASES_SUFFIX = ".checksums"
"""The alias files (announced checksum → the SHA-256 the file is stored under) are in
`<directory><ALIASES_SUFFIX>`."""
DIGEST_SIZES = {"sha256": 32, "md5": 16}
"""The checksum algorithms a portal may announce, and their digest sizes in bytes."""
# Only these become a file extension (so a viewer recognises the file); anything else gets none.
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/tiff": ".tif",
    "text/plain": ".txt",
}


class AttachmentTooLarge(IntegrityError):
    """The portal announced, or started sending, more than the cap allows."""


class AttachmentRecorder(Protocol):
    """Where the cache tells the store that a file is now local (see portal.store_sink). Synchronous."""

    def record(self, dossier_id: str, attachment_id: str, path: Path, at: datetime) -> None: ...


@dataclass(slots=True)
class PrefetchReport:
    downloaded: int = 0
    already_there: int = 0
    failed: list[str] = field(default_factory=list)
    """Attachment ids that could not be fetched (the failure kind is logged, not the file name)."""


def announced_checksum(attachment: Attachment) -> tuple[str, bytes] | None:
    """(algorithm, digest) the portal announced for this attachment, or None when there is no valid one.

    `sha256` (hex) when set, else `checksum` in `checksum_algorithm` (hex or base64, as portals write
    it: DS gives the MD5 in base64)."""
    sha = attachment.sha256.strip().lower()
    if sha:
        return ("sha256", bytes.fromhex(sha)) if _SHA256.match(sha) else None
    algorithm = attachment.checksum_algorithm.strip().lower()
    size = DIGEST_SIZES.get(algorithm)
    text = attachment.checksum.strip()
    if size is None or not text:
        return None
    if len(text) == 2 * size and re.fullmatch(r"[0-9a-fA-F]+", text):
        return algorithm, bytes.fromhex(text)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return (algorithm, raw) if len(raw) == size else None


def local_name(sha256: str, content_type: str) -> str:
    if not _SHA256.match(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return sha256 + EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "")


class AttachmentCache:
    """Downloads attachments into `directory` (paths.attachments_dir(profile))."""

    def __init__(
        self,
        connector: PortalConnector,
        directory: Path,
        *,
        recorder: AttachmentRecorder | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.connector = connector
        self.directory = directory
        self.recorder = recorder
        self.max_bytes = max_bytes
        self._inflight: dict[str, asyncio.Future[Path]] = {}
        self._by_checksum: dict[tuple[str, bytes], str] = {}
        """Announced checksums other than SHA-256 (DS's MD5) → the SHA-256 computed on download:
        the file is found again without downloading it (kept on disk too: `_alias`)."""

    def _alias(self, announced: tuple[str, bytes]) -> Path:
        aliases = self.directory.with_name(self.directory.name + ALIASES_SUFFIX)
        return aliases / f"{announced[0]}-{announced[1].hex()}"

    def _sha256_of(self, attachment: Attachment) -> str | None:
        announced = announced_checksum(attachment)
        if announced is None:
            return None
        if announced[0] == "sha256":
            return announced[1].hex()
        known = self._by_checksum.get(announced)
        if known is None:
            try:
                text = self._alias(announced).read_text(encoding="ascii").strip()
            except (OSError, UnicodeDecodeError):
                return None
            if not _SHA256.match(text):
                return None
            known = self._by_checksum[announced] = text
        return known

    def cached(self, attachment: Attachment) -> Path | None:
        """The local copy of this content, if it was downloaded before (by this or another dossier)."""
        sha = self._sha256_of(attachment)
        if sha is None:
            return None
        path = self.directory / local_name(sha, attachment.content_type)
        try:
            if path.is_file() and path.stat().st_size == attachment.size:
                return path
        except OSError:
            return None
        return None

    async def fetch(self, dossier_id: str, attachment: Attachment) -> Path:
        """The verified local file of `attachment`, downloading it if needed.

        Raises IntegrityError (size, cap or checksum), or the connector's PortalError.
        Two callers asking for the same content at once share one download.
        """
        found = self.cached(attachment)
        if found is not None:
            await self._record(dossier_id, attachment, found)
            return found
        announced = announced_checksum(attachment)
        key = f"{announced[0]}:{announced[1].hex()}" if announced else f"{dossier_id}/{attachment.id}"
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Path] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            path = await self._download(dossier_id, attachment)
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # consumed here: no "never retrieved" warning without waiters
            raise
        else:
            future.set_result(path)
        finally:
            self._inflight.pop(key, None)
        await self._record(dossier_id, attachment, path)
        return path

    async def prefetch(
        self, dossiers: Iterable[Dossier], *, max_dossiers: int = 3, concurrency: int = 2
    ) -> PrefetchReport:
        """Download ahead the attachments of the next dossiers in the queue; failures are noted, not
        raised (the instructor will get a proper error if they open the file)."""
        report = PrefetchReport()
        limit = asyncio.Semaphore(concurrency)
        todo: list[tuple[str, Attachment]] = []
        for index, dossier in enumerate(dossiers):
            if index >= max_dossiers:
                break
            for attachment in dossier.attachments:
                if self.cached(attachment) is not None:
                    report.already_there += 1
                else:
                    todo.append((dossier.id, attachment))

        async def one(dossier_id: str, attachment: Attachment) -> None:
            async with limit:
                try:
                    await self.fetch(dossier_id, attachment)
                    report.downloaded += 1
                except PortalError as exc:
                    log.info("prefetch of one attachment failed: %s", type(exc).__name__)
                    report.failed.append(attachment.id)

        await asyncio.gather(*(one(d, a) for d, a in todo))
        return report

    async def _record(self, dossier_id: str, attachment: Attachment, path: Path) -> None:
        if self.recorder is not None:
            await asyncio.to_thread(self.recorder.record, dossier_id, attachment.id, path, datetime.now(UTC))

    async def _download(self, dossier_id: str, attachment: Attachment) -> Path:
        if attachment.size > self.max_bytes:
            raise AttachmentTooLarge(f"announced size {attachment.size} above the cap {self.max_bytes}")
        announced = announced_checksum(attachment)
        if announced is None:
            # Without a checksum we cannot verify what we store: refuse rather than trust.
            raise IntegrityError("the portal announced no valid checksum for this attachment")
        algorithm, expected = announced
        limit = min(attachment.size, self.max_bytes)
        temp_path, handle = await asyncio.to_thread(self._open_temp)
        hasher = hashlib.sha256()  # the file's name, whatever the portal announced
        hashers = [hasher]
        checker = hasher
        if algorithm != "sha256":
            checker = hashlib.new(algorithm, usedforsecurity=False)  # DS's MD5: an integrity check only
            hashers.append(checker)
        received = 0
        buffer = bytearray()
        try:
            stream = self.connector.stream_attachment(dossier_id, attachment)
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                async for chunk in stream:
                    received += len(chunk)
                    if received > limit:
                        raise (AttachmentTooLarge if received > self.max_bytes else IntegrityError)(
                            f"more bytes than announced ({attachment.size})"
                        )
                    buffer += chunk
                    if len(buffer) >= WRITE_CHUNK:
                        data, buffer = bytes(buffer), bytearray()
                        await asyncio.to_thread(_write, handle, hashers, data)
            if buffer:
                await asyncio.to_thread(_write, handle, hashers, bytes(buffer))
            if received != attachment.size:
                raise IntegrityError(f"truncated download: {received} of {attachment.size} bytes")
            if checker.digest() != expected:
                raise IntegrityError(f"{algorithm.upper().replace('SHA', 'SHA-')} mismatch")
            digest = hasher.hexdigest()
            final = self.directory / local_name(digest, attachment.content_type)
            await asyncio.to_thread(_finish, handle, temp_path, final)
            if algorithm != "sha256":
                self._by_checksum[announced] = digest
                await asyncio.to_thread(_write_alias, self._alias(announced), digest)
            return final
        except BaseException:
            await asyncio.shield(asyncio.to_thread(_discard, handle, temp_path))
            raise

    def _open_temp(self) -> tuple[Path, IO[bytes]]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f".part-{os.urandom(8).hex()}"
        path = self.directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        return path, os.fdopen(fd, "wb")


def _write(handle: IO[bytes], hashers: list[hashlib._Hash], data: bytes) -> None:
    for hasher in hashers:
        hasher.update(data)
    handle.write(data)


def _finish(handle: IO[bytes], temp: Path, final: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(temp, final)  # atomic: a reader sees the whole verified file or none


def _write_alias(path: Path, sha256: str) -> None:
    """Best effort: without the alias the file is only downloaded again after a restart."""
    temp = path.with_name(f".part-{os.urandom(8).hex()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(sha256)
        os.replace(temp, path)
    except OSError as exc:
        log.info("checksum alias not written: %s", type(exc).__name__)
        with contextlib.suppress(OSError):
            temp.unlink()


def _discard(handle: IO[bytes], temp: Path) -> None:
    with contextlib.suppress(OSError):
        handle.close()
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
