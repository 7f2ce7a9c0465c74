"""Attachments: downloaded on demand or ahead of the instructor, verified, stored by content hash.

The applicant's file name never chooses a path: a file is streamed to a temporary name in the cache
directory, its size is held to the announced size and to a cap as it arrives, its SHA-256 is checked
against the portal's, and only then is it renamed to `<sha256>.<ext>` (the extension from a short
list of content types, never from the file name). Files are created 0600 and never executed; a
failed or cancelled download leaves nothing behind. Same content, same file: two dossiers sharing a
document share one copy.
"""

from __future__ import annotations

import asyncio
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

    def cached(self, attachment: Attachment) -> Path | None:
        """The local copy of this content, if it was downloaded before (by this or another dossier)."""
        sha = attachment.sha256.lower()
        if not _SHA256.match(sha):
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
        key = attachment.sha256.lower() or f"{dossier_id}/{attachment.id}"
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
        expected_sha = attachment.sha256.lower()
        if not _SHA256.match(expected_sha):
            # Without a checksum we cannot verify what we store: refuse rather than trust.
            raise IntegrityError("the portal announced no valid SHA-256 for this attachment")
        limit = min(attachment.size, self.max_bytes)
        temp_path, handle = await asyncio.to_thread(self._open_temp)
        hasher = hashlib.sha256()
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
                        await asyncio.to_thread(_write, handle, hasher, data)
            if buffer:
                await asyncio.to_thread(_write, handle, hasher, bytes(buffer))
            if received != attachment.size:
                raise IntegrityError(f"truncated download: {received} of {attachment.size} bytes")
            digest = hasher.hexdigest()
            if digest != expected_sha:
                raise IntegrityError("SHA-256 mismatch")
            final = self.directory / local_name(digest, attachment.content_type)
            await asyncio.to_thread(_finish, handle, temp_path, final)
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


def _write(handle: IO[bytes], hasher: hashlib._Hash, data: bytes) -> None:
    hasher.update(data)
    handle.write(data)


def _finish(handle: IO[bytes], temp: Path, final: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(temp, final)  # atomic: a reader sees the whole verified file or none


def _discard(handle: IO[bytes], temp: Path) -> None:
    with contextlib.suppress(OSError):
        handle.close()
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
