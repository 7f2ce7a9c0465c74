"""Untrusted text never reaches the terminal as an escape sequence (issue 7 §1).

The real app runs in a pseudo-terminal (xterm-256color, 120×40) on a store holding the demo
generator's hostile dossiers and our own (OSC 0 title, OSC 8 link, OSC 52 clipboard, CSI, C1, bidi
override, Rich markup with links and actions). The test searches them, opens the summary, closes it,
opens the dossier screen, leaves it and quits, reading every byte the app writes; then it parses the
byte stream and checks that no escape sequence carries anything that came from the data, that the
markup shows as characters, and that the app exits cleanly.
"""

from __future__ import annotations

import dataclasses
import os
import re
import select
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from instructor_tui.domain.models import Dossier

pty = pytest.importorskip("pty", reason="no pseudo-terminals on this platform")
fcntl = pytest.importorskip("fcntl", reason="no pseudo-terminals on this platform")
termios = pytest.importorskip("termios", reason="no pseudo-terminals on this platform")

if sys.platform == "win32":  # pragma: no cover
    pytest.skip("no pseudo-terminals on this platform", allow_module_level=True)

COLUMNS, LINES = 120, 40
SEARCH_TERM = "Zorglub"
TITLE_MARKER = "PWNED-TITLE"
CLIPBOARD_PAYLOAD = "UFdORUQ="  # base64 of "PWNED"
EVIL_URL = "evil.example"
MARKUP = "[bold red]MARKUP[/]"
MARKERS = (TITLE_MARKER, CLIPBOARD_PAYLOAD, EVIL_URL, "example.invalid/phish", "pwned")

HOSTILE_TEXTS = (
    f"\x1b]0;{TITLE_MARKER}\x07",
    f"\x1b]8;;https://{EVIL_URL}/x\x1b\\lien\x1b]8;;\x1b\\",
    f"\x1b]52;c;{CLIPBOARD_PAYLOAD}\x07",
    "\x1b[2J",
    "\x1b[31m",
    "\x9b31m",
    f"\x9d0;{TITLE_MARKER}\x9c",
    "\u202eTNEMELPMOC",
    f"[link=https://{EVIL_URL}]x[/link]",
    "[@click=app.quit]quit[/]",
    MARKUP,
)

CHILD_SCRIPT = """
import sys
from instructor_tui.app_factory import make_app
from instructor_tui.settings import Profile, Settings
from instructor_tui.store import open_store

store = open_store(sys.argv[1])
try:
    app = make_app(Settings(), "test", Profile(), store=store)
    app.run()
finally:
    store.close()
sys.exit(app.return_code or 0)
"""

# ESC ] … terminated by BEL or ST (ESC \); 8-bit OSC (0x9d) … BEL/ST (0x9c).
OSC = re.compile(rb"(?:\x1b\]|\x9d)(.*?)(?:\x07|\x1b\\|\x9c)", re.S)
# Everything the app's driver itself writes: CSI (with private parameters), OSC, and two-byte escapes.
ANY_ESCAPE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\].*?(?:\x07|\x1b\\)|\x1b[P^_].*?\x1b\\|\x1b[ -~]", re.S)


def _hostile_dossiers() -> Iterator[Dossier]:
    from instructor_tui.demo.generator import generate_dossiers

    generated = list(generate_dossiers(400, 7))
    hostile = [d for d in generated if d.fields.get("_demo_hostile")]
    assert hostile, "the generator made no hostile dossier with this seed"
    yield from generated[:60]
    yield from (d for d in hostile if d not in generated[:60])
    base = generated[-1]
    for i, evil in enumerate(HOSTILE_TEXTS):
        a = base.applicant
        addr = dataclasses.replace(a.address, city=f"Metz{evil}", line1=f"{i} rue {evil}")
        applicant = dataclasses.replace(
            a, last_name=f"{SEARCH_TERM}{i}{evil}", first_name=f"Jean{evil}", address=addr,
            email=f"{evil}z{i}@example.org",
        )
        attachments = tuple(dataclasses.replace(att, filename=f"facture{evil}.pdf") for att in base.attachments)
        yield dataclasses.replace(
            base, id=f"hostile-{i:02d}", number=f"HOST-2022-{i:06d}", applicant=applicant,
            attachments=attachments, fields={**base.fields, "applicant_comment": f"Bonjour {evil} merci"},
        )
    # One with the markup as its first name (last names are shown in capitals), submitted first so
    # the search puts it under the cursor, where Enter opens its summary.
    yield dataclasses.replace(
        base, id="hostile-markup", number="HOST-2022-999999",
        submitted_at=min(d.submitted_at for d in generated) - timedelta(days=1),
        applicant=dataclasses.replace(
            base.applicant, last_name=SEARCH_TERM, first_name=MARKUP, email="".join(HOSTILE_TEXTS[5:8]) + "a@b.fr",
            phone="06 00 00 00 00" + HOSTILE_TEXTS[4],
            address=dataclasses.replace(base.applicant.address, line1="1 rue " + HOSTILE_TEXTS[0] + HOSTILE_TEXTS[3],
                                        city="Metz" + HOSTILE_TEXTS[1] + HOSTILE_TEXTS[2]),
        ),
        attachments=tuple(dataclasses.replace(att, filename=f"{HOSTILE_TEXTS[(8 + n) % len(HOSTILE_TEXTS)]}.pdf")
                          for n, att in enumerate(base.attachments)),
        fields={**base.fields, "applicant_comment": MARKUP},
    )


class Terminal:
    """The parent side of the pty: reads everything the app writes, sends keys."""

    def __init__(self, master: int, proc: subprocess.Popen[bytes]) -> None:
        self.master, self.proc, self.output = master, proc, bytearray()

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.05))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the slave (EIO on Linux)
                    return
                if not chunk:
                    return
                self.output += chunk

    def wait_for(self, text: str, timeout: float = 10.0, since: int = 0) -> bool:
        """Bounded wait until `text` shows (escape sequences stripped) in what was written since `start`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in visible(bytes(self.output[since:])):
                return True
            if self.proc.poll() is not None:
                self.pump(0.1)
                return text in visible(bytes(self.output[since:]))
            self.pump(0.1)
        return False

    def send(self, data: str, settle: float = 0.3) -> None:
        os.write(self.master, data.encode())
        self.pump(settle)


def visible(raw: bytes) -> str:
    """What reaches the screen as characters: the stream without its escape sequences."""
    return ANY_ESCAPE.sub(b"", raw).decode("utf-8", "replace")


@pytest.fixture
def hostile_home(tmp_path: Path) -> tuple[Path, str]:
    from instructor_tui.store import open_store, upsert_dossiers

    home = tmp_path / "home"
    store_url = f"sqlite:///{tmp_path / 'hostile.sqlite3'}"
    store = open_store(store_url)
    try:
        upsert_dossiers(store, _hostile_dossiers())
    finally:
        store.close()
    return home, store_url


def test_no_escape_sequence_from_data_reaches_the_terminal(hostile_home: tuple[Path, str]) -> None:
    home, store_url = hostile_home
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSTRUCTOR_TUI_", "TEXTUAL"))}
    env.update(TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(LINES), INSTRUCTOR_TUI_HOME=str(home),
               LANG="C.UTF-8", LC_ALL="C.UTF-8", PYTHONIOENCODING="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_SCRIPT, store_url],
        stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True,
    )
    os.close(slave)
    term = Terminal(master, proc)
    try:
        assert term.wait_for("dossier", 15), visible(bytes(term.output))[-2000:]
        term.pump(1.0)
        term.send("/", 0.5)
        term.send(SEARCH_TERM, 0.3)
        term.send("\r", 0.5)
        assert term.wait_for("HOST-2022-9999", 10), "the search did not show the hostile dossiers"
        term.send("\r", 0.5)  # the summary of the dossier under the cursor
        summary_shown = term.wait_for(MARKUP, 10)
        term.send("\x1b", 0.8)  # Escape closes the summary (a lone ESC: Textual waits a moment)
        mark = len(term.output)
        term.send("o", 0.5)  # the dossier screen of the same dossier
        dossier_shown = term.wait_for(MARKUP, 10, since=mark)
        term.send("\x1b", 0.8)  # back to the queue
        term.send("\x11", 0.3)  # ctrl+q
        try:
            proc.wait(timeout=10)
        finally:
            term.pump(0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        os.close(master)

    raw = bytes(term.output)
    assert proc.returncode == 0, f"the app did not exit cleanly (rc={proc.returncode}):\n{visible(raw)[-3000:]}"
    assert "Traceback" not in visible(raw)

    # 1. No OSC sequence carries anything from the data; no clipboard write at all; no link to the evil URL.
    for match in OSC.finditer(raw):
        body = match.group(1).decode("utf-8", "replace")
        for marker in MARKERS:
            assert marker not in body, f"an escape sequence carries {marker!r}: {match.group(0)!r}"
    assert b"\x1b]52" not in raw
    assert not re.search(rb"\x1b\]8;[^\x07\x1b]*" + re.escape(EVIL_URL.encode()), raw)

    # 2. No C1 control and no bidi override reaches the terminal (in UTF-8 or as a raw byte).
    text = raw.decode("utf-8", "replace")
    assert not re.search("[\x80-\x9f]", text), "a C1 control reached the terminal"
    assert "\u202e" not in text and "\u2066" not in text, "a bidi control reached the terminal"

    # 3. Each ESC the app writes starts a well-formed sequence of its own, and none of the data's
    #    CSI fragments ("[2J", "[31m" after an ESC that came from the data) shows up unparsed.
    leftovers = ANY_ESCAPE.sub(b"", raw)
    stray = leftovers.find(b"\x1b")
    assert stray < 0, f"a stray ESC: {leftovers[max(stray - 20, 0):stray + 40]!r}"

    # 4. The markup is shown as characters (after stripping the app's own SGR), not interpreted.
    screen = visible(raw)
    assert summary_shown and MARKUP in screen, "the markup text is not on screen literally"
    assert dossier_shown, "the dossier screen did not show the markup literally"
    assert SEARCH_TERM in screen
