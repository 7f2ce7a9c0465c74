"""The Démarches Simplifiées connector against the stand-in: documents valid against DS's public
schema, mapping, sync end to end into the store, decisions through the outbox, expiring URLs,
errors as data, root errors, 429s and the client-side limiter."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from graphql import build_schema, parse, validate

from instructor_tui.domain.decisions import Decision
from instructor_tui.domain.models import ApplicantKind
from instructor_tui.domain.states import DossierState
from instructor_tui.portal.connector import (
    Conflict,
    IntegrityError,
    Invalid,
    NotFound,
    PortalConnector,
    StaleVersion,
    Unauthorized,
    Unavailable,
)
from instructor_tui.portal.ds import DemarchesSimplifieesConnector
from instructor_tui.portal.ds.documents import DOCUMENTS
from instructor_tui.portal.ds.mapping import ds_state
from instructor_tui.portal.ds.ratelimit import RequestLimiter
from instructor_tui.portal.outbox_sender import OutboxSender
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.portal.sync import SyncEngine
from instructor_tui.store import get_dossier
from instructor_tui.store.outbox import OutboxStatus, get_entry, record_decision

from .conftest import COLLEAGUE, ME
from .standin import INSTANCE, TOKEN, Fault, md5_b64, root_error

# --- documents --------------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", sorted(DOCUMENTS))
def test_every_document_is_valid_against_the_public_schema(schema_sdl, operation):
    errors = validate(build_schema(schema_sdl), parse(DOCUMENTS[operation]))
    assert not errors, [e.message for e in errors]


def test_the_schema_check_would_catch_a_wrong_field(schema_sdl):
    wrong = "query Q($n: Int!) { dossier(number: $n) { id etat } }"
    assert validate(build_schema(schema_sdl), parse(wrong))


async def test_what_a_whole_session_sent_is_valid_and_named(schema_sdl, ds, connector, store):
    await SyncEngine(connector, StoreSink(store)).sync()
    await connector.claim("1001", "")
    await connector.decide("1001", "", Decision.approve(50_000), "k1")
    await connector.send_message("1002", "Bonjour", "k2")
    schema = build_schema(schema_sdl)
    seen = set()
    for operation, query, _variables in ds.sent:
        assert query == DOCUMENTS[operation]
        seen.add(operation)
        assert not validate(schema, parse(query))
    assert {"DsDemarche", "DsDossiers", "DsDeletedDossiers", "DsBasculeSuivi", "DsPasserEnInstruction",
            "DsAccepter", "DsEnvoyerMessage"} <= seen


# --- mapping ----------------------------------------------------------------------------------------


def test_states_map_onto_the_canonical_ones():
    assert ds_state("en_construction", False) is DossierState.SUBMITTED
    assert ds_state("en_construction", True) is DossierState.AWAITING_DOCUMENTS
    assert ds_state("en_instruction", False) is DossierState.IN_REVIEW
    assert ds_state("accepte", False) is DossierState.APPROVED
    assert ds_state("refuse", False) is DossierState.REJECTED
    assert ds_state("sans_suite", False) is DossierState.DISMISSED
    with pytest.raises(ValueError):
        ds_state("brouillon", False)


async def test_a_dossier_is_mapped_with_applicant_fields_files_and_history(ds, connector):
    ds.dossiers[1001].messages.append({"id": "m1", "body": "Voici ma facture", "createdAt": ds.tick().isoformat(),
                                       "email": "usager1001@example.fr", "discardedAt": None, "correction": None})
    dossier = await connector.get_dossier("1001")
    assert (dossier.id, dossier.number, dossier.scheme) == ("1001", "1001", "101")
    assert dossier.state is DossierState.SUBMITTED
    assert dossier.applicant.kind is ApplicantKind.INDIVIDUAL
    assert dossier.applicant.email == "usager1001@example.fr"
    assert dossier.fields["Modèle du vélo"] == "Cargo 3000"
    assert "[annotation] Note" in dossier.fields
    [attachment] = dossier.attachments
    content = b"%PDF facture 1"
    assert (attachment.filename, attachment.size, attachment.content_type) == ("facture-1.pdf", len(content),
                                                                             "application/pdf")
    assert attachment.id.endswith("#" + md5_b64(content)) and attachment.document_type == "cd-2"
    assert [e.kind for e in dossier.history] == ["state", "message"]
    assert dossier.history[0].state_to is DossierState.SUBMITTED
    assert dossier.version == ds.dossiers[1001].updated.isoformat()

    company = await connector.get_dossier("5001")
    assert company.applicant.kind is ApplicantKind.CRAFTSMAN
    assert company.applicant.siret == "73282932000074"
    assert company.applicant.address.postcode == "57000"


async def test_identity_and_schemes_come_from_the_demarches(connector):
    me = await connector.whoami()
    assert me.user_id == ME[1] and me.schemes == ("101", "202")
    schemes = await connector.list_schemes()
    assert [s.code for s in schemes] == ["101", "202"]
    assert [d.code for d in schemes[0].required_documents] == ["cd-2"]


def test_the_connector_implements_the_protocol(connector):
    assert isinstance(connector, PortalConnector)


# --- sync end to end ----------------------------------------------------------------------------------


async def test_sync_end_to_end_pages_cursors_updates_and_deletions(ds, connector, store):
    sink = StoreSink(store)
    engine = SyncEngine(connector, sink)
    first = await engine.sync()
    assert first.ok, first.error
    assert first.upserted == 252
    pulls = [v for op, _q, v in ds.sent if op == "DsDossiers" and v["demarche"] == 101]
    assert [p["first"] for p in pulls] == [100, 100, 100]
    assert pulls[0]["updatedSince"] and pulls[0]["after"] is None  # updatedSince once…
    assert all(p.get("updatedSince") is None and p["after"] for p in pulls[1:])  # …then the cursor
    cursor_after_first = sink.load_cursor("101").cursor
    assert cursor_after_first

    ds.sent.clear()
    quiet = await engine.sync()
    assert quiet.ok and quiet.upserted == 0
    assert sink.load_cursor("101").cursor == cursor_after_first  # a null endCursor never replaces it
    assert [v["after"] for op, _q, v in ds.sent if op == "DsDossiers" and v["demarche"] == 101] == [
        cursor_after_first]

    ds.dossiers[1042].state = "en_instruction"
    ds.touch(ds.dossiers[1042])
    ds.delete(1043)
    ds.delete(5002)
    again = await engine.sync()
    assert again.ok and again.upserted == 1 and again.deleted == 2
    refreshed = get_dossier(store, "1042")
    assert refreshed is not None and refreshed.state is DossierState.IN_REVIEW
    assert get_dossier(store, "1043") is None and get_dossier(store, "5002") is None


async def test_a_cursor_ds_no_longer_reads_restarts_the_scope(ds, connector, store):
    sink = StoreSink(store)
    engine = SyncEngine(connector, sink)
    assert (await engine.sync(["202"], deletions=False)).ok
    from instructor_tui.portal.sync import CursorState
    sink.save_cursor("202", CursorState("bm90IGEgY3Vyc29y", datetime(2030, 1, 1, tzinfo=UTC)))
    report = await engine.sync(["202"], deletions=False)
    assert report.ok and report.restarted_scopes == ["202"]


async def test_429_retry_after_is_honoured_and_timeouts_retry_the_page(ds, connector, sleeps, store):
    ds.faults.append(Fault(429, {"Retry-After": "7"}))
    ds.faults.append(root_error("timeout", "Timeout on Dossier.champs", data={"demarche": None}))
    report = await SyncEngine(connector, StoreSink(store)).sync(["202"], deletions=False)
    assert report.ok and report.upserted == 2
    assert 7.0 in sleeps.waits


async def test_a_timeout_that_lasts_is_unavailable(ds, connector):
    ds.faults.extend(root_error("timeout") for _ in range(10))
    with pytest.raises(Unavailable):
        await connector.get_dossier("1001")


async def test_root_errors_stop_the_request(ds, connector):
    with pytest.raises(NotFound):
        await connector.get_dossier("999999")
    ds.faults.append(root_error("unauthorized", "Vous n'avez pas accès à cette démarche"))
    with pytest.raises(Unauthorized):
        await connector.get_dossier("1001")


async def test_a_refused_token_never_shows_in_errors_reprs_or_logs(ds, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    async with DemarchesSimplifieesConnector(INSTANCE, demarches=(101,), instructor_id=ME[1],
                                             token="wrong-token-SECRET", transport=ds.transport()) as bad:
        with pytest.raises(Unauthorized) as info:
            await bad.get_dossier("1001")
        assert "SECRET" not in repr(bad) and "SECRET" not in str(info.value)
    assert "SECRET" not in caplog.text
    assert "Bearer wrong-token-SECRET" in ds.auth_headers  # it was sent, to the instance only


# --- attachments --------------------------------------------------------------------------------------


async def _download(connector, dossier_id, attachment) -> bytes:
    return b"".join([chunk async for chunk in connector.stream_attachment(dossier_id, attachment)])


async def test_an_expired_file_url_is_read_again_from_the_dossier(ds, connector):
    dossier = await connector.get_dossier("1007")
    ds.tick(2 * 3600)  # DS's URLs expire after an hour; the connector's clock has not moved
    before = sum(1 for op, _q, _v in ds.sent if op == "DsDossier")
    data = await _download(connector, "1007", dossier.attachments[0])
    assert data == b"%PDF facture 7"
    assert sum(1 for op, _q, _v in ds.sent if op == "DsDossier") == before + 1
    assert len(ds.file_requests) == 2  # one 403, then the fresh URL


async def test_an_old_url_is_renewed_before_use(ds, connector, sleeps):
    dossier = await connector.get_dossier("1008")
    sleeps.now += 3600  # the connector's own clock says the URL is too old
    await _download(connector, "1008", dossier.attachments[0])
    assert len(ds.file_requests) == 1 and [op for op, _q, _v in ds.sent][-1] == "DsDossier"


async def test_a_file_that_does_not_match_its_checksum_is_refused(ds, connector):
    dossier = await connector.get_dossier("1009")
    ds.corrupt_files = True
    with pytest.raises(IntegrityError):
        await _download(connector, "1009", dossier.attachments[0])


# --- instructor actions -------------------------------------------------------------------------------


async def test_claim_follows_and_a_colleague_following_is_a_conflict(ds, connector):
    claimed = await connector.claim("1010", "")
    assert claimed.assigned_to == ME[1] and ds.dossiers[1010].followers == [ME]
    ds.dossiers[1011].followers.append(COLLEAGUE)
    with pytest.raises(Conflict) as info:
        await connector.claim("1011", "")
    assert info.value.held_by == COLLEAGUE[1]
    released = await connector.release("1010", claimed.version)
    assert released.assigned_to == "" and ds.dossiers[1010].followers == []


async def test_claim_next_takes_the_oldest_unfollowed_dossier(ds, connector):
    ds.dossiers[1001].followers.append(COLLEAGUE)
    got = await connector.claim_next("101")
    assert got is not None and got.id == "1002" and got.assigned_to == ME[1]


async def test_decisions_pass_en_instruction_first_and_carry_the_motivation(ds, connector):
    approved = await connector.decide("1020", "", Decision.approve(123_456), "k-a")
    assert approved.state is DossierState.APPROVED
    assert ds.applied[-2:] == ["dossierPasserEnInstruction", "dossierAccepter"]
    assert ds.dossiers[1020].motivation == "Aide accordée : 1\u202f234,56\u00a0€."
    rejected = await connector.decide("1021", "", Decision.reject("hors_region", "Adresse hors Grand Est."), "k-r")
    assert rejected.state is DossierState.REJECTED and ds.dossiers[1021].motivation == "Adresse hors Grand Est."
    dismissed = await connector.decide("1022", "", Decision.dismiss("doublon"), "k-d")
    assert dismissed.state is DossierState.DISMISSED and ds.dossiers[1022].motivation == "doublon"


async def test_a_request_for_documents_is_a_correction_message(ds, connector):
    asked = await connector.decide("1023", "", Decision.request_documents(["cd-2"], "Merci d'envoyer la facture."),
                                   "k-q")
    assert asked.state is DossierState.AWAITING_DOCUMENTS
    [op] = [v for op, _q, v in ds.sent if op == "DsEnvoyerMessage"]
    assert op["input"]["correction"] == "incomplete" and op["input"]["body"] == "Merci d'envoyer la facture."


async def test_mutation_errors_as_data_become_conflict_or_invalid(ds, connector):
    ds.dossiers[1030].state = "refuse"
    with pytest.raises(Conflict):  # "Le dossier est déjà refusé"
        await connector.decide("1030", "", Decision.approve(100), "k")
    ds.faults.append(Fault(body={"data": {"dossierAccepter": {"dossier": None, "errors": [
        {"message": "La motivation dépasse 5000 caractères"}]}}}, operation="DsAccepter"))
    with pytest.raises(Invalid) as info:
        await connector.decide("1031", "", Decision.approve(100), "k")
    assert info.value.detail == "La motivation dépasse 5000 caractères"


async def test_a_stale_version_is_refused_before_anything_is_sent(ds, connector):
    dossier = await connector.get_dossier("1032")
    ds.touch(ds.dossiers[1032])
    with pytest.raises(StaleVersion) as info:
        await connector.decide("1032", dossier.version, Decision.approve(100), "k")
    assert info.value.current_version == ds.dossiers[1032].updated.isoformat()
    assert ds.applied == []


async def test_a_lost_answer_is_not_decided_twice(ds, connector):
    dossier = await connector.get_dossier("1033")
    ds.lose_answer_of.add("DsAccepter")
    with pytest.raises(Unavailable):
        await connector.decide("1033", dossier.version, Decision.approve(100), "same-key")
    again = await connector.decide("1033", dossier.version, Decision.approve(100), "same-key")
    assert again.state is DossierState.APPROVED
    assert ds.applied.count("dossierAccepter") == 1


async def test_a_message_whose_answer_was_lost_is_not_sent_twice(ds, connector):
    ds.lose_answer_of.add("DsEnvoyerMessage")
    with pytest.raises(Unavailable):
        await connector.send_message("1034", "Votre dossier est complet.", "m-key")
    receipt = await connector.send_message("1034", "Votre dossier est complet.", "m-key")
    assert receipt.id == "m1034-0" and ds.applied.count("dossierEnvoyerMessage") == 1


async def test_a_429_on_a_mutation_is_sent_again_after_retry_after(ds, connector, sleeps):
    ds.faults.append(Fault(429, {"Retry-After": "3"}, operation="DsBasculeSuivi"))
    await connector.claim("1035", "")
    assert 3.0 in sleeps.waits and ds.applied == ["dossierBasculeSuivi"]


async def test_the_outbox_sender_reaches_the_stand_in(ds, connector, store):
    await SyncEngine(connector, StoreSink(store)).sync(["101"], deletions=False)
    cached = get_dossier(store, "1040")
    assert cached is not None
    now = datetime(2030, 3, 2, tzinfo=UTC)
    entry = record_decision(store, dossier_id="1040", dossier_version=cached.version,
                            decision=Decision.reject("hors_region", "Adresse hors Grand Est."),
                            actor=ME[1], delay_seconds=0, now=now)
    sender = OutboxSender(store, connector, clock=lambda: now + timedelta(seconds=1))
    [result] = await sender.send_due()
    assert result.outcome == "sent", result.text()
    sent = get_entry(store, entry.id)
    assert sent is not None and sent.status is OutboxStatus.SENT
    assert ds.dossiers[1040].state == "refuse"
    decided = get_dossier(store, "1040")
    assert decided is not None and decided.state is DossierState.REJECTED

    ds.touch(ds.dossiers[1041])  # changed on DS after the cache read it: a conflict, nothing sent
    cached = get_dossier(store, "1041")
    assert cached is not None
    conflicted = record_decision(store, dossier_id="1041", dossier_version=cached.version,
                                 decision=Decision.approve(10_000), actor=ME[1], delay_seconds=0, now=now)
    [result] = await sender.send_due()
    assert result.outcome == "conflict"
    refused = get_entry(store, conflicted.id)
    assert refused is not None and refused.status is OutboxStatus.CONFLICT
    assert ds.dossiers[1041].state == "en_construction"


# --- the client-side limiter ----------------------------------------------------------------------------


async def test_the_limiter_keeps_to_n_requests_a_minute(sleeps):
    limiter = RequestLimiter(3, clock=sleeps.clock, sleep=sleeps)
    for _ in range(7):
        await limiter.acquire()
    assert sleeps.waits == [60.0, 60.0]
    assert sleeps.now == 120.0


async def test_the_connector_counts_every_graphql_request(ds, sleeps, store):
    limiter = RequestLimiter(2, clock=sleeps.clock, sleep=sleeps)
    async with DemarchesSimplifieesConnector(INSTANCE, demarches=(202,), instructor_id=ME[1], token=TOKEN,
                                             transport=ds.transport(), limiter=limiter) as limited:
        for number in ("5001", "5002", "5001", "5002", "5001"):
            await limited.get_dossier(number)
    assert limiter.waited == 120.0


def test_the_factory_builds_the_ds_connector_from_a_profile():
    from instructor_tui.portal.factory import PortalConfigError, make_connector
    from instructor_tui.settings import Profile

    def profile(**changes):
        values = {"connector": "demarches-simplifiees", "portal_url": "https://ds.test", "demarches": (101,),
                  "instructor_id": ME[1], **changes}
        return Profile(**values)

    made = make_connector(profile(), "tok-SECRET")
    assert isinstance(made, DemarchesSimplifieesConnector) and made.demarches == (101,)
    assert "SECRET" not in repr(made)
    with pytest.raises(PortalConfigError):
        make_connector(profile(instructor_id=""), "t")
    with pytest.raises(PortalConfigError):
        make_connector(profile(portal_url="http://ds.example.fr"), "t")
