"""Search text: what is indexed for a dossier, and how a typed query becomes a safe match expression.

Both databases index the same folded `search_text` column (accents removed, casefolded, words
separated by single spaces), so search behaves identically on SQLite (FTS5) and PostgreSQL
(tsvector, GIN). The query is cut into words here, in Python; only letters and digits reach the
match expression, so no input can inject FTS5 or tsquery syntax.

Semantics: every typed word is a prefix of some indexed word, and all words must match. A run of
digit groups ("06 12 34") also matches as one number ("061234"), so a phone number can be typed
with or without spaces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+")
_NOT_DIGIT = re.compile(r"[^0-9]")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})
MAX_QUERY_WORDS = 12
"""More words than anyone types; caps the cost of a pasted paragraph."""
MAX_WORD_LENGTH = 64


@lru_cache(maxsize=16384)  # names and cities repeat a lot across a bulk sync
def fold(text: str) -> str:
    """Lower-case, accent-free form of `text` ("Zoé Œuvray" -> "zoe oeuvray")."""
    return _fold(text)


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    # The accents of Latin letters (U+0300–U+036F) go in C; whatever remains beyond ASCII takes
    # the thorough way (same result: both drop exactly the characters of a non-zero combining class).
    decomposed = _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", text.translate(_LIGATURES)))
    if decomposed.isascii():
        return decomposed.lower()
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_LATIN_MARKS = re.compile("[" + "".join(chr(c) for c in range(0x300, 0x370) if unicodedata.combining(chr(c))) + "]")


def words(text: str) -> list[str]:
    """The folded words of `text`: runs of letters and digits."""
    return _WORD.findall(fold(text))


def normalise_phone(raw: str) -> str:
    """Digits only, in international form where it can tell: '06 12 34 56 78' -> '33612345678'."""
    digits = _NOT_DIGIT.sub("", raw)
    stripped = raw.strip()
    if stripped.startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:]
    if len(digits) == 10 and digits.startswith("0"):  # French national format
        return "33" + digits[1:]
    return digits


def phone_forms(phone: str) -> list[str]:
    """The forms a caller's number may be typed in: international and, for France, national."""
    if not phone:
        return []
    forms = [phone]
    if phone.startswith("33") and len(phone) == 11:
        forms.append("0" + phone[2:])
    return forms


def number_words(number: str) -> list[str]:
    """Words of a dossier number, plus its zero-padded digit groups without the zeros
    ("VELO-2022-000123" can be found by "123")."""
    found = _WORD.findall(_fold(number))  # not `fold`: numbers are unique, its cache would only churn
    extra = [w.lstrip("0") for w in found if w.isdigit() and w.startswith("0") and w.strip("0")]
    return found + extra


def build_search_text(number: str, name: str, email: str, phone: str, city: str) -> str:
    """The indexed text of one dossier; `phone` is already normalised."""
    return search_text_of(number, fold(name), email, phone, city)


def search_text_of(number: str, folded_name: str, email: str, phone: str, city: str) -> str:
    """`build_search_text` with the name already folded (`fold(name)`, which a queue row keeps as
    its sort key), so that a bulk sync folds each name once. Folding works character by character,
    so the name, the e-mail and the city folded apart give the words they give folded together."""
    parts = number_words(number)
    parts += _WORD.findall(folded_name)
    parts += _WORD.findall(_fold(email))
    parts += _city_words(city)
    parts += phone_forms(phone)
    return " ".join(dict.fromkeys(parts))  # unique, in order


@lru_cache(maxsize=4096)
def _city_words(city: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(fold(city)))


def query_groups(query: str) -> list[list[list[str]]]:
    """The typed query as AND-ed groups; each group is OR-ed alternatives; each alternative is
    AND-ed prefixes. A plain word is [[word]]; "06 12" is [["06", "12"], ["0612"]]."""
    typed = [w[:MAX_WORD_LENGTH] for w in words(query)][:MAX_QUERY_WORDS]
    groups: list[list[list[str]]] = []
    index = 0
    while index < len(typed):
        end = index
        while end < len(typed) and typed[end].isdigit():
            end += 1
        if end - index >= 2:
            run = typed[index:end]
            groups.append([run, ["".join(run)[:MAX_WORD_LENGTH]]])
            index = end
        else:
            groups.append([[typed[index]]])
            index += 1
    return groups


def fts5_expression(query: str) -> str | None:
    """An FTS5 MATCH expression for `query`, or None when it has no word to look for."""
    return _render(query_groups(query), lambda w: f'"{w}"*', " AND ", " OR ")


def tsquery_expression(query: str) -> str | None:
    """A PostgreSQL to_tsquery('simple', …) expression for `query`, or None when it has no word."""
    return _render(query_groups(query), lambda w: f"{w}:*", " & ", " | ")


def _render(
    groups: Iterable[list[list[str]]], prefix: Callable[[str], str], and_: str, or_: str
) -> str | None:
    rendered = []
    for alternatives in groups:
        options = ["(" + and_.join(prefix(w) for w in alt) + ")" for alt in alternatives]
        rendered.append(options[0] if len(options) == 1 else "(" + or_.join(options) + ")")
    return and_.join(rendered) if rendered else None
