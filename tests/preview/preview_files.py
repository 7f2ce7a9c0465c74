"""Real files for the preview tests, built here: PDFs with fpdf2, images with Pillow, and hostile ones
assembled byte by byte (a PNG declaring huge dimensions, a PDF whose content stream inflates to
hundreds of megabytes, a truncated PDF)."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from PIL import Image


def store(directory: Path, data: bytes, ext: str = "") -> Path:
    """`data` saved the way the attachment cache saves it: `<sha256><ext>`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (hashlib.sha256(data).hexdigest() + ext)
    path.write_bytes(data)
    return path


_CREATED = datetime(2022, 5, 2, 9, 30, tzinfo=UTC)


def text_pdf(pages: list[str], *, password: str | None = None) -> bytes:
    pdf = FPDF(format="A4")
    # The same bytes on every call: pytest names parametrized cases by them, and xdist's workers
    # refuse to run when they collected different names (a creation time a second apart).
    pdf.set_creation_date(_CREATED)
    if password is not None:
        pdf.set_encryption(owner_password="owner-" + password, user_password=password)
    pdf.set_font("helvetica", size=14)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    return bytes(pdf.output())


def image(fmt: str, size: tuple[int, int] = (64, 48), *, exif_orientation: int | None = None) -> bytes:
    picture = Image.new("RGB", size, (200, 40, 40))
    for x in range(size[0] // 2):
        picture.putpixel((x, 0), (0, 0, 255))
    buffer = io.BytesIO()
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        picture.save(buffer, fmt, exif=exif)
    else:
        picture.save(buffer, fmt)
    return buffer.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(width: int, height: int) -> bytes:
    """A PNG declaring width × height RGB pixels whose compressed data is a few hundred bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def inflating_pdf(operations: int = 20_000_000) -> bytes:
    """One page whose content stream is `operations` tiny rectangles, Flate-compressed: about a
    megabyte on disk, hundreds of megabytes and much work for the renderer."""
    content = zlib.compress(b"0 0 1 1 re f\n" * operations, 1)
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Resources << >> /Contents 4 0 R >>",
        b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ])


def truncated_pdf() -> bytes:
    data = text_pdf(["Facture n° 42", "Page deux"])
    return data[: len(data) // 3]
