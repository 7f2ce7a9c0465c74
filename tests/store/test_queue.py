"""The queue queries against a Python oracle, on SQLite and PostgreSQL."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_factory import SCHEMES, make_dossier, make_dossiers

from instructor_tui.domain.models import Dossier
from instructor_tui.domain.states import DossierState
from instructor_tui.store import upsert_dossiers
from instructor_tui.store.queue import (
    QueueFilter,
    QueueOrder,
    QueueRow,
    SortKey,
    count_rows,
    counts_by_scheme,
    counts_by_state,
    fetch_after,
    fetch_before,
    fetch_window,
    position_of,
)
from instructor_tui.store.search import fold


def _dataset() -> list[Dossier]:
    old = list(make_dossiers(150, seed=7))
    rng = random.Random(8)
    now = datetime.now(UTC)
    # Recent ones for the age filter, half a day clear of any day boundary.
    recent = [
        make_dossier(1000 + k, rng, submitted_at=now - timedelta(days=k, hours=12)) for k in range(30)
    ]
    return old + recent


@pytest.fixture
def seeded(any_store):
    data = _dataset()
    upsert_dossiers(any_store, data)
    return any_store, data


def _key(order: QueueOrder, d: Dossier):
    return {
        SortKey.SUBMITTED: d.submitted_at,
        SortKey.UPDATED: d.updated_at,
        SortKey.NUMBER: d.number,
        SortKey.NAME: fold(d.applicant.display_name),
        SortKey.AMOUNT: d.requested_cents,
        SortKey.STATE: d.state.value,
    }[order.key]


def _passes(flt: QueueFilter, d: Dossier) -> bool:
    if flt.scheme is not None and d.scheme != flt.scheme:
        return False
    if flt.states is not None and d.state not in flt.states:
        return False
    if flt.assigned_to is not None and d.assigned_to != flt.assigned_to:
        return False
    if flt.min_age_days is not None and d.submitted_at >= datetime.now(UTC) - timedelta(days=flt.min_age_days):
        return False
    assert not flt.search, "the oracle does not search"
    return True


def _expected(data, flt: QueueFilter, order: QueueOrder) -> list[str]:
    rows = [d for d in data if _passes(flt, d)]
    rows.sort(key=lambda d: (_key(order, d), d.id), reverse=order.descending)
    return [d.id for d in rows]


def _ids(rows: list[QueueRow]) -> list[str]:
    return [r.id for r in rows]


FILTERS = [
    QueueFilter(),
    QueueFilter(scheme="poele-bois"),
    QueueFilter(states=frozenset({DossierState.SUBMITTED, DossierState.IN_REVIEW})),
    QueueFilter(states=frozenset()),
    QueueFilter(assigned_to="i.martin"),
    QueueFilter(assigned_to=""),
    QueueFilter(min_age_days=10),
    QueueFilter(scheme="velo-electrique", states=frozenset({DossierState.PAID}), assigned_to="c.durand"),
    QueueFilter(scheme="no-such-scheme"),
]


def _filter_id(flt: QueueFilter) -> str:
    """The filter's repr with its states in order: a frozenset's order changes from one process to
    the next (string hashing), and pytest-xdist's workers must collect the same test ids."""
    states = None if flt.states is None else sorted(state.value for state in flt.states)
    return repr(flt).replace(repr(flt.states), repr(states))


@pytest.mark.parametrize("flt", FILTERS, ids=_filter_id)
def test_every_filter_counts_and_lists_what_the_oracle_says(seeded, flt):
    store, data = seeded
    expected = _expected(data, flt, QueueOrder())
    assert count_rows(store, flt) == len(expected)
    assert _ids(fetch_window(store, flt, QueueOrder(), 0, 1000)) == expected


def test_min_age_filter_keeps_only_old_enough_dossiers(seeded):
    store, data = seeded
    rows = fetch_window(store, QueueFilter(min_age_days=10), QueueOrder(), 0, 1000)
    assert rows and len(rows) == 150 + 20  # all the 2022 ones, and 10…29 days old of the recent ones
    cutoff = datetime.now(UTC) - timedelta(days=10)
    assert all(r.submitted_at < cutoff for r in rows)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("key", list(SortKey))
def test_every_sort_in_both_directions(seeded, key, descending):
    store, data = seeded
    order = QueueOrder(key, descending)
    assert _ids(fetch_window(store, QueueFilter(), order, 0, 1000)) == _expected(data, QueueFilter(), order)


def test_rows_carry_the_queue_columns(seeded):
    store, data = seeded
    by_id = {d.id: d for d in data}
    for row in fetch_window(store, QueueFilter(), QueueOrder(), 0, 20):
        d = by_id[row.id]
        summary = d.summary()
        assert row == QueueRow(
            summary.id, summary.number, summary.scheme, summary.state, summary.applicant_name,
            summary.city, summary.postcode, summary.submitted_at, summary.updated_at,
            summary.requested_cents, summary.assigned_to,
        )
        assert isinstance(row.state, DossierState)
        assert row.submitted_at.tzinfo is not None


def test_windows_beyond_the_end_are_short_or_empty(seeded):
    store, data = seeded
    assert len(fetch_window(store, QueueFilter(), QueueOrder(), len(data) - 3, 10)) == 3
    assert fetch_window(store, QueueFilter(), QueueOrder(), len(data) + 5, 10) == []
    assert fetch_window(store, QueueFilter(), QueueOrder(), 0, 0) == []


def _walk_forward(store, flt, order, page):
    rows, after = [], None
    while True:
        got = fetch_after(store, flt, order, after, page)
        assert len(got) <= page
        if not got:
            return rows
        rows += got
        after = got[-1]


def _walk_backward(store, flt, order, page, last):
    rows, before = [last], last
    while True:
        got = fetch_before(store, flt, order, before, page)
        if not got:
            return rows
        rows = got + rows
        before = got[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.sampled_from(list(SortKey)),
    descending=st.booleans(),
    page=st.integers(1, 40),
    scheme=st.sampled_from([None, *SCHEMES]),
    states=st.none() | st.frozensets(st.sampled_from(list(DossierState)), min_size=1),
)
def test_keyset_pages_equal_offset_windows(seeded, key, descending, page, scheme, states):
    store, _ = seeded
    flt = QueueFilter(scheme=scheme, states=states)
    order = QueueOrder(key, descending)
    everything = fetch_window(store, flt, order, 0, 10_000)
    forward = _walk_forward(store, flt, order, page)
    assert forward == everything
    for offset in range(0, len(everything), page):
        assert fetch_window(store, flt, order, offset, page) == everything[offset : offset + page]
    if everything:
        assert _walk_backward(store, flt, order, page, everything[-1]) == everything
        middle = len(everything) // 2
        assert fetch_after(store, flt, order, everything[middle], page) == everything[middle + 1 : middle + 1 + page]
        assert fetch_before(store, flt, order, everything[middle], page) == everything[max(0, middle - page) : middle]


def test_counts_by_state_ignore_the_state_filter(seeded):
    store, data = seeded
    flt = QueueFilter(scheme="poele-bois", states=frozenset({DossierState.PAID}))
    counts = counts_by_state(store, flt)
    for state in DossierState:
        expected = sum(1 for d in data if d.scheme == "poele-bois" and d.state is state)
        assert counts.get(state, 0) == expected
    assert all(n > 0 for n in counts.values())
    assert sum(counts.values()) == count_rows(store, QueueFilter(scheme="poele-bois"))


def test_counts_by_scheme_ignore_the_scheme_filter(seeded):
    store, data = seeded
    open_states = frozenset({DossierState.SUBMITTED, DossierState.IN_REVIEW})
    counts = counts_by_scheme(store, QueueFilter(scheme="poele-bois", states=open_states))
    assert counts == {
        s: n
        for s in SCHEMES
        if (n := sum(1 for d in data if d.scheme == s and d.state in open_states))
    }


def test_counts_follow_the_search(seeded):
    store, _ = seeded
    flt = QueueFilter(search="dupont")
    assert sum(counts_by_state(store, flt).values()) == count_rows(store, flt)
    assert sum(counts_by_scheme(store, flt).values()) == count_rows(store, flt)
    assert 0 < count_rows(store, flt) < count_rows(store, QueueFilter())


@pytest.mark.parametrize("key", list(SortKey))
def test_position_of_finds_the_row_index(seeded, key):
    store, data = seeded
    for descending in (False, True):
        order = QueueOrder(key, descending)
        flt = QueueFilter(states=frozenset({DossierState.SUBMITTED, DossierState.IN_REVIEW, DossierState.PAID}))
        listed = fetch_window(store, flt, order, 0, 10_000)
        for index in (0, 1, len(listed) // 2, len(listed) - 1):
            assert position_of(store, flt, order, listed[index].id) == index
    hidden = next(d for d in data if d.state is DossierState.REJECTED)
    assert position_of(store, flt, QueueOrder(key), hidden.id) is None
    assert position_of(store, QueueFilter(), QueueOrder(key), "no-such-id") is None


def test_big_store_pages_from_both_ends(big_store_url):
    from instructor_tui.store import open_store

    big = open_store(big_store_url)
    try:
        total = count_rows(big, QueueFilter())
        assert total == 100_000
        order = QueueOrder(SortKey.NAME, descending=True)
        window = fetch_window(big, QueueFilter(), order, 99_000, 50)
        assert fetch_after(big, QueueFilter(), order, window[0], 49) == window[1:]
        assert fetch_before(big, QueueFilter(), order, window[-1], 49) == window[:-1]
        assert position_of(big, QueueFilter(), order, window[7].id) == 99_007
        assert sum(counts_by_state(big, QueueFilter()).values()) == total
    finally:
        big.close()


SEARCHES = ["metz", "e", "06", "velo 2022", "dupont strasbourg", "zzz"]


@pytest.mark.parametrize("query", SEARCHES)
def test_a_search_is_counted_on_its_index_as_through_the_table(seeded, query):
    store, data = seeded
    by_index = count_rows(store, QueueFilter(search=query))
    # Every state: the same rows, but not a search alone, so counted by joining the dossier table.
    through_table = count_rows(store, QueueFilter(search=query, states=frozenset(DossierState)))
    listed = fetch_window(store, QueueFilter(search=query), QueueOrder(), 0, 10**6)
    assert by_index == through_table == len(listed)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("key", list(SortKey))
def test_broad_and_narrow_search_strategies_list_the_same_rows(seeded, monkeypatch, key, descending):
    from instructor_tui.store import queue

    store, _data = seeded
    order = QueueOrder(key, descending)
    for query in SEARCHES:
        for flt in (QueueFilter(search=query), QueueFilter(search=query, assigned_to="")):
            listed = {}
            for broad_from in (1, 10**9):  # every search broad, then none
                monkeypatch.setattr(queue, "BROAD_MATCHES", broad_from)
                window = _ids(fetch_window(store, flt, order, 3, 40))
                first = fetch_after(store, flt, order, None, 5)
                after = _ids(fetch_after(store, flt, order, first[-1], 20)) if first else []
                before = _ids(fetch_before(store, flt, order, first[-1], 3)) if first else []
                listed[broad_from] = (window, _ids(first), after, before)
            assert listed[1] == listed[10**9], (query, flt)
            everything = _ids(fetch_window(store, flt, order, 0, 1000))
            assert listed[1][0] == everything[3:43]


def test_a_broad_search_walks_the_sort_index(seeded, monkeypatch):
    from instructor_tui.store import queue

    store, _data = seeded
    if store.dialect != "sqlite":
        pytest.skip("the strategy is SQLite's")
    flt = QueueFilter(search="e")
    plans = {}
    for broad_from in (1, 10**9):
        monkeypatch.setattr(queue, "BROAD_MATCHES", broad_from)
        query = queue._Query(store, flt, ordered=True)
        sql = "EXPLAIN QUERY PLAN " + query.select(QueueOrder()) + " LIMIT 10"
        plans[broad_from] = " | ".join(str(r[3]) for r in store.rows(sql, query.params))
    assert "ix_dossier_submitted" in plans[1] and "TEMP B-TREE" not in plans[1]
    assert "TEMP B-TREE FOR ORDER BY" in plans[10**9]
