"""Incremental search: every word a prefix, all words required, accents and case ignored."""

import dataclasses
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_factory import make_dossiers

from instructor_tui.domain.models import Address, Applicant, ApplicantKind
from instructor_tui.store import upsert_dossiers
from instructor_tui.store.queue import QueueFilter, QueueOrder, count_rows, fetch_window
from instructor_tui.store.search import (
    build_search_text,
    fold,
    fts5_expression,
    normalise_phone,
    query_groups,
    tsquery_expression,
)


def test_fold_removes_accents_case_and_ligatures():
    assert fold("Zoé ÉCHARD Œuvray Müller straße") == "zoe echard oeuvray muller strasse"


def _thorough_fold(text: str) -> str:
    """fold() before its fast ways: every character decomposed and checked in Python."""
    ligatures = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})
    decomposed = unicodedata.normalize("NFKD", text.translate(ligatures))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FFF)) | st.sampled_from(
    ["Ÿvès Ñúñez", "a\u034fb", "Ǆemal ﬁnn", "ΣΊΣΥΦΟΣ", "Ørsted Łukasz", "e\u0301\u0327", "x\u1dc0y"]))
def test_fold_takes_its_fast_ways_without_changing_the_result(text):
    assert fold(text) == _thorough_fold(text)
    # The name, e-mail and city are folded as one text: the same words as folded one by one.
    expected = ["n", "1"] + [w for v in (text, "a@b.fr", "Metz") for w in re.findall(r"[^\W_]+", _thorough_fold(v))]
    assert build_search_text("N-1", text, "a@b.fr", "", "Metz") == " ".join(dict.fromkeys(expected))


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("06 12 34 56 78", "33612345678"),
        ("+33 6 12 34 56 78", "33612345678"),
        ("0033612345678", "33612345678"),
        ("06.12.34.56.78", "33612345678"),
        ("+41 22 123 45 67", "41221234567"),
        ("", ""),
    ],
)
def test_phone_numbers_are_normalised(raw, normalised):
    assert normalise_phone(raw) == normalised


def test_search_text_holds_every_searchable_field_folded():
    text = build_search_text("VELO-2022-000123", "LEFÈVRE Anaïs", "anais.l@exemple.fr", "33612345678", "Épinal")
    assert text.split() == [
        "velo", "2022", "000123", "123", "lefevre", "anais", "l", "exemple", "fr", "epinal", "33612345678",
        "0612345678",
    ]


def test_digit_groups_also_match_as_one_number():
    assert query_groups("06 12 dup") == [[["06", "12"], ["0612"]], [["dup"]]]


@pytest.mark.parametrize("hostile", ['"*) OR 1=1 --', "NEAR(", "a NOT b", "x:*", "'; DROP TABLE dossier; --", "^\\"])
def test_match_expressions_contain_only_quoted_words(hostile):
    fts = fts5_expression(hostile) or ""
    ts = tsquery_expression(hostile) or ""
    for expression in (fts, ts):
        assert "'" not in expression and ";" not in expression and "--" not in expression
    assert "NEAR" not in fts.replace('"near"', "")


def test_punctuation_only_means_no_search():
    assert fts5_expression(" *()-- ") is None
    assert tsquery_expression("") is None


PEOPLE = [
    ("p1", "VELO-2022-000123", "Lefèvre", "Anaïs", "anais.lefevre@exemple.fr", "06 12 34 56 78", "Épinal"),
    ("p2", "VELO-2022-000124", "LEFEVRE", "Luc", "luc@exemple.fr", "+33 3 87 65 43 21", "Metz"),
    ("p3", "POEL-2022-000200", "Dupont", "Zoé", "zoe.dupont@orange.fr", "0612349999", "Saint-Dié-des-Vosges"),
    ("p4", "VEHI-2022-000300", "Œuvray", "Hélène", "h.oeuvray@exemple.fr", "07 00 00 00 01", "Nancy"),
]


@pytest.fixture
def people(any_store):
    template = next(make_dossiers(1))
    dossiers = [
        dataclasses.replace(
            template,
            id=pid,
            number=number,
            applicant=Applicant(ApplicantKind.INDIVIDUAL, last, first, email, phone, Address("1 rue", "57000", city)),
        )
        for pid, number, last, first, email, phone, city in PEOPLE
    ]
    upsert_dossiers(any_store, dossiers)
    return any_store


def _found(store, query: str) -> set[str]:
    return {r.id for r in fetch_window(store, QueueFilter(search=query), QueueOrder(), 0, 100)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lef", {"p1", "p2"}),  # prefix
        ("lefèvre", {"p1", "p2"}),  # accents in the query
        ("LEFEVRE anaïs", {"p1"}),  # all words must match
        ("anais lef", {"p1"}),  # in any order
        ("lef zoe", set()),
        ("helene", {"p4"}),  # accents in the data
        ("oeuv", {"p4"}),  # ligature
        ("saint die", {"p3"}),  # hyphenated city
        ("dié", {"p3"}),
        ("zoe.dupont@orange", {"p3"}),  # e-mail as typed
        ("VELO-2022-00012", {"p1", "p2"}),  # number prefix
        ("velo 124", {"p2"}),  # number without its leading zeros
        ("0612345678", {"p1"}),  # phone, national form
        ("06 12 34", {"p1", "p3"}),  # phone typed with spaces: a prefix of both
        ("+33 6 12 34 56 78", {"p1"}),  # international form
        ("33387", {"p2"}),
        ("0387654321", {"p2"}),
        ("nancy", {"p4"}),
        ("", {"p1", "p2", "p3", "p4"}),
        ("  --  ", {"p1", "p2", "p3", "p4"}),  # nothing to look for: no filter
        ("xyz", set()),
    ],
)
def test_search(people, query, expected):
    assert _found(people, query) == expected
    assert count_rows(people, QueueFilter(search=query)) == len(expected)


@pytest.mark.parametrize(
    "hostile",
    ['"*) OR 1=1 --', "NEAR(", 'NEAR("a" "b")', "a AND", "OR", "*", '"', "'", "\\", "%_%", "\x00", "x" * 5000,
     "lef:*", "lef & !zoe", "(((", "l" + " l" * 200],
)
def test_hostile_input_never_raises(people, hostile):
    found = _found(people, hostile)
    assert found <= {"p1", "p2", "p3", "p4"}
    assert count_rows(people, QueueFilter(search=hostile)) == len(found)


def test_sql_looking_input_is_just_words(people):
    assert _found(people, "lef' OR 1=1 --") == set()  # "or" and "1" are words that match nobody here


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40))
def test_any_text_is_a_valid_search(people, query):
    assert count_rows(people, QueueFilter(search=query)) <= 4


@pytest.mark.parametrize(
    ("last", "first", "company"),
    [
        ("Lefèvre", "Anaïs", ""), ("ŒUVRAY", "Zoé", ""), ("straße", "Jürgen", ""), ("Ñúñez", "İlker", ""),
        ("de la Tour", "Jean-Marc", ""), (" Martin", "Léa ", ""), ("", "Léa", ""), ("Durand", "", ""),
        ("Bernard", "Luc", "Ébénisterie Bernard"), ("Nul\x00", "X", ""), ("Ǆemal", "ǅ", ""), ("Ǳ", "ﬁn", ""),
    ],
)
def test_a_queue_rows_folded_name_and_search_text_are_the_thorough_ones(last, first, company):
    from instructor_tui.store.dossiers import _folded_name, _text, sort_name
    from instructor_tui.store.search import search_text_of

    address = Address("1 rue", "57000", "Metz")
    applicant = Applicant(ApplicantKind.INDIVIDUAL, last, first, "É.Lé@Exemple.fr", "", address, company_name=company)
    name = _text(applicant.display_name)
    assert _folded_name(applicant, name) == sort_name(name)
    for number in ("VELO-2022-000123", "Ⅻ-0-00"):
        assert search_text_of(number, sort_name(name), applicant.email, "33612345678", "Épinal") == build_search_text(
            number, name, applicant.email, "33612345678", "Épinal"
        )
