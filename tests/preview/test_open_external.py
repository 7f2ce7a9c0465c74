"""The system viewer gets the content-hash path as one argument, only for PDFs and images."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest
from preview_files import image, store, text_pdf

from instructor_tui.preview import ViewerUnavailable, open_in_system_viewer

pytestmark = pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="xdg-open path")


@pytest.fixture
def fake_xdg_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `xdg-open` on PATH that writes the arguments it was given, one per line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv.txt"
    script = bin_dir / "xdg-open"
    script.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "{record}.tmp"\n'
                      f'mv "{record}.tmp" "{record}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("DISPLAY", ":99")
    return record


def _wait_for(path: Path) -> str:
    for _ in range(200):  # bounded wait for the detached viewer, not a timing assertion
        if path.exists():
            return path.read_text()
        time.sleep(0.02)
    raise AssertionError("the viewer was not started")


def test_pdf_opened_with_its_content_hash_path(tmp_path: Path, fake_xdg_open: Path) -> None:
    path = store(tmp_path / "cache", text_pdf(["Facture"]), ".pdf")
    open_in_system_viewer(path, "application/pdf")
    assert _wait_for(fake_xdg_open).splitlines() == [str(path.resolve())]


def test_image_opened(tmp_path: Path, fake_xdg_open: Path) -> None:
    path = store(tmp_path / "cache", image("PNG"), ".png")
    open_in_system_viewer(path, "image/png")
    assert _wait_for(fake_xdg_open).splitlines() == [str(path.resolve())]


def test_applicant_file_name_is_refused(tmp_path: Path, fake_xdg_open: Path) -> None:
    named = tmp_path / "facture; rm -rf ~.pdf"
    named.write_bytes(text_pdf(["x"]))
    with pytest.raises(ViewerUnavailable) as caught:
        open_in_system_viewer(named, "application/pdf")
    assert caught.value.code == "not_cached"


@pytest.mark.parametrize(
    ("data", "ext", "claimed"),
    [
        (b"plain text, not a document\n", ".txt", "text/plain"),
        (b"MZ\x90\x00" + bytes(range(256)), "", "application/octet-stream"),
        (b"MZ\x90\x00" + bytes(range(256)), ".pdf", "application/pdf"),  # the claim is checked again
        (text_pdf(["x"]), ".jpg", "application/pdf"),  # a viewer would be chosen by the wrong extension
    ],
)
def test_only_real_pdfs_and_images_are_opened(
    tmp_path: Path, fake_xdg_open: Path, data: bytes, ext: str, claimed: str
) -> None:
    path = store(tmp_path / "cache", data, ext)
    with pytest.raises(ViewerUnavailable) as caught:
        open_in_system_viewer(path, claimed)
    assert caught.value.code == "not_openable"
    assert not fake_xdg_open.exists()


def test_headless_session_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    path = store(tmp_path / "cache", text_pdf(["x"]), ".pdf")
    with pytest.raises(ViewerUnavailable) as caught:
        open_in_system_viewer(path, "application/pdf")
    assert caught.value.code == "no_viewer"


def test_no_opener_installed_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    path = store(tmp_path / "cache", text_pdf(["x"]), ".pdf")
    with pytest.raises(ViewerUnavailable) as caught:
        open_in_system_viewer(path, "application/pdf")
    assert caught.value.code == "no_viewer"
