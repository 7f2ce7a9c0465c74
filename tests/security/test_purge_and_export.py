"""`purge --older-than DAYS` and `export audit`: personal data of closed, synced dossiers goes
(never one with a decision in flight), audited; the exported trail shows any edit."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from instructor_tui import cli, paths
from instructor_tui.demo.generator import generate_dossiers
from instructor_tui.domain.decisions import Decision
from instructor_tui.maintenance import CLOSED_STATES, export_audit, purge, verify_export
from instructor_tui.maintenance_cli import add_maintenance_parsers
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.store import Store, get_dossier, open_store, tables, upsert_dossiers
from instructor_tui.store.audit import verify_chain
from instructor_tui.store.notes import add_note, list_notes
from instructor_tui.store.outbox import record_decision

NOW = datetime(2040, 1, 1, tzinfo=UTC)


def _fill(store: Store, count: int = 300):
    dossiers = list(generate_dossiers(count, 11))
    upsert_dossiers(store, dossiers)
    closed = [d for d in dossiers if d.state in CLOSED_STATES]
    open_ = [d for d in dossiers if d.state not in CLOSED_STATES]
    assert len(closed) >= 3 and open_
    return closed, open_


def _attach(store: Store, root: Path, dossier, name: str) -> Path:
    path = root / name
    path.write_bytes(b"%PDF-1.4 facture " + name.encode())
    attachment = dossier.attachments[0]
    StoreSink(store).record(dossier.id, attachment.id, path, NOW)
    return path


def test_purge_deletes_personal_data_of_closed_dossiers_only_and_is_audited(store: Store, tmp_path: Path) -> None:
    closed, open_ = _fill(store)
    root = tmp_path / "attachments"
    root.mkdir()
    purged = next(d for d in closed if len(d.attachments) >= 2)
    in_flight, shared_with, *_rest = (d for d in closed if d is not purged and d.attachments)
    assert purged.attachments and shared_with.attachments and open_[0].attachments
    own_file = _attach(store, root, purged, "own.pdf")
    shared_file = _attach(store, root, in_flight, "shared.pdf")
    StoreSink(store).record(purged.id, purged.attachments[1].id, shared_file, NOW)  # same content, two dossiers
    open_file = _attach(store, root, open_[0], "open.pdf")
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(b"not ours")
    StoreSink(store).record(shared_with.id, shared_with.attachments[0].id, outside, NOW)
    add_note(store, purged.id, "instructor-1", f"Appelé {purged.applicant.last_name}")
    add_note(store, open_[0].id, "instructor-1", "à revoir")
    record_decision(store, dossier_id=in_flight.id, dossier_version=in_flight.version,
                    decision=Decision.dismiss("Doublon"), actor="instructor-1", delay_seconds=5)

    report = purge(store, 30, actor="cli:test", attachments_root=root, now=NOW)

    assert purged.id in report.dossier_ids and shared_with.id in report.dossier_ids
    assert in_flight.id not in report.dossier_ids and report.kept_in_flight == [in_flight.id]
    assert set(report.dossier_ids) == {d.id for d in closed} - {in_flight.id}
    assert get_dossier(store, purged.id) is None  # the detail JSON is gone
    assert get_dossier(store, in_flight.id) is not None and get_dossier(store, open_[0].id) is not None
    with store.read() as conn:
        row = conn.execute(select(tables.dossier_table).where(tables.dossier_table.c.id == purged.id)).one()
        attachments = conn.execute(select(tables.attachment_table.c.dossier_id)).scalars().all()
    assert (row.applicant_name, row.email, row.phone, row.city, row.postcode) == ("", "", "", "", "")
    assert purged.applicant.last_name.lower() not in row.search_text.lower()
    assert row.state == purged.state.value and row.number == purged.number  # the statistics keep it
    assert purged.id not in attachments and in_flight.id in attachments
    assert not own_file.exists()
    assert shared_file.exists()  # the dossier kept still refers to it
    assert open_file.exists() and outside.exists()  # never a file outside the attachments directory
    assert list_notes(store, purged.id) == [] and len(list_notes(store, open_[0].id)) == 1
    with store.read() as conn:
        events = conn.execute(select(tables.audit_event_table).where(
            tables.audit_event_table.c.kind == "maintenance.purge")).all()
    [event] = events
    assert event.payload["dossier_ids"] == sorted(report.dossier_ids) and event.payload["older_than_days"] == 30
    assert verify_chain(store) is None
    # A second run has nothing left to do, and says so without an audit event.
    again = purge(store, 30, actor="cli:test", attachments_root=root, now=NOW)
    assert again.dossier_ids == [] and again.kept_in_flight == [in_flight.id]
    with store.read() as conn:
        assert len(conn.execute(select(tables.audit_event_table).where(
            tables.audit_event_table.c.kind == "maintenance.purge")).all()) == 1


def test_purge_spares_dossiers_updated_recently(store: Store) -> None:
    closed, _open = _fill(store, 120)
    newest = max(d.updated_at for d in closed)
    report = purge(store, 10, actor="cli:test", now=newest + timedelta(days=5))
    assert report.dossier_ids == sorted(
        d.id for d in closed if d.updated_at < newest + timedelta(days=5) - timedelta(days=10))
    assert all(get_dossier(store, d) is None for d in report.dossier_ids)
    assert any(d.updated_at == newest for d in closed) and closed


def test_purge_dry_run_deletes_nothing(store: Store) -> None:
    closed, _open = _fill(store, 120)
    report = purge(store, 0, actor="cli:test", now=NOW, dry_run=True)
    assert report.dry_run and set(report.dossier_ids) == {d.id for d in closed}
    assert all(get_dossier(store, d.id) is not None for d in closed)


def test_export_audit_holds_the_chain_and_an_edited_line_is_found(store: Store) -> None:
    closed, open_ = _fill(store, 60)
    for d in open_[:5]:
        record_decision(store, dossier_id=d.id, dossier_version=d.version, decision=Decision.approve(10_000),
                        actor="instructor-1", delay_seconds=0)
    purge(store, 0, actor="cli:test", now=NOW)
    out = io.StringIO()
    assert export_audit(store, out) == 6
    lines = out.getvalue().splitlines()
    assert verify_export(lines) is None
    head = json.loads(lines[-1])
    assert head == {"chain_head": json.loads(lines[-2])["hash"], "events": 6}

    edited = json.loads(lines[2])
    edited["payload"]["amount_cents"] = 99_000_00
    tampered = [*lines[:2], json.dumps(edited, sort_keys=True), *lines[3:]]
    assert verify_export(tampered) == 3
    assert verify_export([*lines[:1], *lines[2:]]) == 2  # a line removed
    assert verify_export(lines[:-1]) == len(lines)  # the head cut off
    assert verify_export([*lines[:-2], lines[-1]]) == len(lines) - 1  # the last event cut off, head kept


def _cli_with_maintenance(monkeypatch: pytest.MonkeyPatch) -> None:
    """cli.main with the maintenance commands, whether or not cli.py registers them already."""
    original = cli.build_parser

    def build() -> argparse.ArgumentParser:
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "purge" not in sub.choices:
            add_maintenance_parsers(sub)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)


def test_the_cli_purges_exports_and_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _cli_with_maintenance(monkeypatch)
    from instructor_tui.settings import load_settings

    name, _profile = load_settings().profile(None)
    store = open_store(paths.default_database_url(name))
    try:
        closed, _open = _fill(store, 60)
    finally:
        store.close()
    assert cli.main(["purge", "--older-than", "0"]) == 0
    said = capsys.readouterr().out
    assert f"{len(closed)} dossier" in said
    with pytest.raises(SystemExit) as refused:
        cli.main(["purge", "--older-than", "-3"])
    assert refused.value.code == 2
    assert "-3" in capsys.readouterr().err

    exported = tmp_path / "audit.jsonl"
    assert cli.main(["export", "audit", "--output", str(exported)]) == 0
    assert exported.stat().st_mode & 0o777 == 0o600
    assert cli.main(["export", "audit", "--verify", str(exported)]) == 0
    lines = exported.read_text(encoding="utf-8").splitlines()
    event = json.loads(lines[0])
    assert event["kind"] == "maintenance.purge"
    event["actor"] = "someone-else"
    exported.write_text("\n".join([json.dumps(event, sort_keys=True), *lines[1:]]) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["export", "audit", "--verify", str(exported)]) == 1
    assert "1" in capsys.readouterr().err
