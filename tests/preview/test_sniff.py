"""The type comes from the bytes, never from the name or the declared type."""

from __future__ import annotations

from pathlib import Path

import pytest
from preview_files import image, text_pdf

from instructor_tui.preview import declared_mismatch, sniff_type


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (text_pdf(["Bonjour"]), "application/pdf"),
        (image("PNG"), "image/png"),
        (image("JPEG"), "image/jpeg"),
        (image("GIF"), "image/gif"),
        (image("WEBP"), "image/webp"),
        (image("TIFF"), "image/tiff"),
        ("Relevé d'identité bancaire\nIBAN FR76 …\n".encode(), "text/plain"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64, "application/octet-stream"),
        (b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 32, "application/octet-stream"),
        (b"", "application/octet-stream"),
        ("été".encode("latin-1") + b"\x01\x02\x03\x04" * 10, "application/octet-stream"),
    ],
)
def test_real_bytes_of_each_type(data: bytes, expected: str) -> None:
    assert sniff_type(data) == expected


def test_a_pdf_named_jpg_is_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "facture.jpg"
    path.write_bytes(text_pdf(["Facture"]))
    assert sniff_type(path) == "application/pdf"
    assert declared_mismatch("image/jpeg", sniff_type(path))


def test_an_exe_named_pdf_is_not_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "rib.pdf"
    path.write_bytes(b"MZ\x90\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 50)
    assert sniff_type(path) == "application/octet-stream"
    assert declared_mismatch("application/pdf", sniff_type(path))


def test_utf8_cut_in_the_middle_of_a_character_is_still_text() -> None:
    data = ("é" * 5000).encode()  # 10,000 bytes: the 8 KiB head ends inside a character or not
    assert sniff_type(data[:8191]) == "text/plain"


def test_unreadable_path_is_unknown(tmp_path: Path) -> None:
    assert sniff_type(tmp_path / "missing") == "application/octet-stream"


@pytest.mark.parametrize(
    ("declared", "sniffed", "mismatch"),
    [
        ("application/pdf", "application/pdf", False),
        ("Application/PDF; name=x.pdf", "application/pdf", False),
        ("image/jpg", "image/jpeg", False),
        ("text/csv", "text/plain", False),
        ("", "application/pdf", False),
        ("application/octet-stream", "image/png", False),
        ("application/pdf", "image/jpeg", True),
        ("image/png", "application/octet-stream", True),
    ],
)
def test_declared_mismatch(declared: str, sniffed: str, mismatch: bool) -> None:
    assert declared_mismatch(declared, sniffed) is mismatch
