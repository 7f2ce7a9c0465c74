from hypothesis import given
from hypothesis import strategies as st

from instructor_tui.domain.sanitize import ELLIPSIS, clean_line, clean_text


def test_terminal_escapes_and_controls_are_dropped():
    hostile = "Jean\x1b]0;pwned\x07 \x1b[2J\x9b31mDupont\x00\x7f"
    cleaned = clean_text(hostile)
    assert "\x1b" not in cleaned and "\x07" not in cleaned and "\x9b" not in cleaned
    assert "\x00" not in cleaned and "\x7f" not in cleaned
    assert cleaned.startswith("Jean") and "Dupont" in cleaned


def test_newline_and_tab_survive_in_text_but_not_in_a_line():
    assert clean_text("a\r\nb\tc") == "a\nb\tc"
    assert clean_line("a\r\n  b\tc\u2028d") == "a b c d"


def test_bidi_overrides_are_neutralised():
    assert clean_text("facture\u202efdp.exe") == "facturefdp.exe"
    assert clean_text("\u2066x\u2069") == "x"


def test_lone_surrogates_are_removed():
    assert clean_text("ok\ud800ok") == "okok"


def test_length_is_capped_with_an_ellipsis():
    out = clean_text("x" * 100_000, max_length=50)
    assert len(out) == 50 and out.endswith(ELLIPSIS)


def test_markup_is_left_as_text_for_literal_display():
    assert clean_text("[bold red]x[/]") == "[bold red]x[/]"


@given(st.text())
def test_no_control_character_ever_survives(text):
    cleaned = clean_text(text, max_length=10_000)
    for ch in cleaned:
        code = ord(ch)
        assert ch in "\n\t" or not (code < 0x20 or 0x7F <= code <= 0x9F)
        assert not (0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069)
        assert not (0xD800 <= code <= 0xDFFF)
