"""`instructor-tui stats`: the same figures as the screen, as a table, CSV or JSON."""

from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import pytest
from conftest import fill

from instructor_tui.domain.statistics import EXPORT_HEADER
from instructor_tui.stats_cli import add_stats_parser
from instructor_tui.store import open_store


@pytest.fixture
def team_profile(tmp_path: Path, dossiers, calls) -> str:
    """A settings file whose default profile points at a filled store (no portal: roles unknown)."""
    url = f"sqlite:///{tmp_path / 'team' / 'instructor.sqlite3'}"
    store = open_store(url)
    fill(store, dossiers, calls)
    store.close()
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        'default_profile = "team"\nper_agent_statistics = true\n\n[profiles.team]\n'
        f'database_url = "{url}"\n', encoding="utf-8")
    return url


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile")
    add_stats_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_every_figure(team_profile, capsys):
    code, out, err = _run(["stats", "--format", "json", "--since", "2023-07-01"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["query"]["since"].startswith("2023-06-30T22:00")  # Paris midnight, in UTC
    assert sum(b["count"] for b in data["backlog"]) == sum(b["count"] for b in data["age_buckets"]) > 0
    assert set(data["decision_mix"]) == {"approved", "rejected", "dismissed"}
    assert data["time_to_decision_s"]["count"] == sum(data["decision_mix"].values()) > 0
    assert data["calls"]["total"] == sum(data["calls"]["per_reason"].values()) > 0
    assert data["per_agent"] is None  # no portal to confirm a lead
    assert "rôle" in err


def test_csv_and_scheme_filter(team_profile, capsys):
    code, out, _err = _run(["stats", "--format", "csv", "--scheme", "poele-bois"], capsys)
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == EXPORT_HEADER
    backlog_schemes = {r[1] for r in rows if r[0] == "backlog"}
    assert backlog_schemes == {"poele-bois"}
    assert [r[3] for r in rows if r[:2] == ["query", "scheme"]] == ["poele-bois"]


def test_table_is_readable_text(team_profile, capsys):
    code, out, _err = _run(["stats"], capsys)
    assert code == 0
    assert "Dossiers ouverts" in out and "Appels" in out and "Enveloppe" in out
    assert "\x1b" not in out  # not a terminal: no escape codes


def test_a_bad_date_is_refused(team_profile, capsys):
    with pytest.raises(SystemExit):
        _run(["stats", "--since", "30/09/2023"], capsys)
    assert "2023-09-30" in capsys.readouterr().err

