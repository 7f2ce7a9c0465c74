"""Démarches Simplifiées GraphQL data ⇄ domain types.

Like `portal.wire`, whatever DS sends comes out as a well-typed domain object or MalformedResponse
naming the field (never its value: values are applicants' personal data).

Choices made here (docs/connectors.md tells instructors and admins):
- a dossier's id is its DS number as text (what people quote on the phone); its version is its
  `dateDerniereModification` (DS has no ETag);
- states: `en_construction` → submitted, or awaiting_documents while a correction asked by an
  instructor is pending (`dateDerniereCorrectionEnAttente`); `en_instruction` → in_review;
  `accepte` → approved; `refuse` → rejected; `sans_suite` → dismissed;
- champs become `fields` keyed by their label ("[annotation] label" for private annotations), with
  their text value; `PieceJustificativeChamp` files become attachments whose id is
  `<champ id>#<DS checksum>`: stable when DS renews the file's URL, and enough to find the file again
  in a fresh copy of the dossier. DS gives an MD5 checksum (base64), not a SHA-256: `sha256` stays
  empty, the MD5 goes into `checksum` (`checksum_algorithm` "md5"); the attachment cache verifies it
  while streaming (and stores the file under the SHA-256 it computes), as does the connector;
- messages and `traitements` become the history; the demandeur becomes the applicant (a
  PersonneMorale with a SIRET is a craftsman);
- the instructors' private notes go to one text annotation of the démarche (`note_block`,
  `merge_notes`): each note is a block "[dd/mm/yyyy hh:mm UTC · author]" + its text, blocks apart by
  a blank line, oldest first; a note whose block is already in the annotation is not added again.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from instructor_tui.domain.models import (
    Address,
    Applicant,
    ApplicantKind,
    Attachment,
    Dossier,
    HistoryEvent,
    RequiredDocument,
    Scheme,
)
from instructor_tui.domain.states import DossierState
from instructor_tui.portal.connector import DeletedDossier, MalformedResponse, PortalNote

T = TypeVar("T")
ANNOTATION_PREFIX = "[annotation] "

STATES: dict[str, DossierState] = {
    "en_construction": DossierState.SUBMITTED,
    "en_instruction": DossierState.IN_REVIEW,
    "accepte": DossierState.APPROVED,
    "refuse": DossierState.REJECTED,
    "sans_suite": DossierState.DISMISSED,
}

# TraitementEvent → the canonical state the dossier entered (None: no state change worth showing).
EVENTS: dict[str, DossierState] = {
    "depose": DossierState.SUBMITTED,
    "passe_en_instruction": DossierState.IN_REVIEW,
    "passe_en_instruction_automatiquement": DossierState.IN_REVIEW,
    "repasse_en_instruction": DossierState.IN_REVIEW,
    "repasse_en_construction": DossierState.SUBMITTED,
    "depose_correction_usager": DossierState.IN_REVIEW,
    "depose_correction_instructeur": DossierState.IN_REVIEW,
    "accepte": DossierState.APPROVED,
    "accepte_automatiquement": DossierState.APPROVED,
    "refuse": DossierState.REJECTED,
    "refuse_automatiquement": DossierState.REJECTED,
    "classe_sans_suite": DossierState.DISMISSED,
}


class _Bad(Exception):
    def __init__(self, where: str, what: str) -> None:
        super().__init__(what)
        self.where = where
        self.what = what


def _entry(parse: Callable[[], T]) -> T:
    try:
        return parse()
    except _Bad as bad:
        raise MalformedResponse(bad.what, where=bad.where) from None


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(where, "expected an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Bad(where, "expected a list")
    return value


def _sub(o: dict[str, Any], key: str) -> dict[str, Any]:
    """An optional nested object: {} when absent or null."""
    value = o.get(key)
    return value if isinstance(value, dict) else {}


def _str(o: dict[str, Any], key: str, where: str, *, optional: bool = False) -> str:
    value = o.get(key)
    if value is None:
        if optional:
            return ""
        raise _Bad(f"{where}.{key}", "missing")
    if not isinstance(value, str):
        raise _Bad(f"{where}.{key}", "expected a string")
    return value


def _int(o: dict[str, Any], key: str, where: str) -> int:
    value = o.get(key)
    if isinstance(value, str) and value.isdigit():  # BigInt travels as a string
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{where}.{key}", "expected an integer")
    return value


def _time(o: dict[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
    value = o.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _Bad(f"{where}.{key}", "expected an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad(f"{where}.{key}", "expected an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise _Bad(f"{where}.{key}", "timestamp without a time zone")
    return parsed.astimezone(UTC)


def ds_state(state: str, correction_pending: bool) -> DossierState:
    if state == "en_construction" and correction_pending:
        return DossierState.AWAITING_DOCUMENTS
    try:
        return STATES[state]
    except KeyError:
        raise ValueError(state) from None


# --- attachments ----------------------------------------------------------------------------------


def attachment_id(champ_id: str, checksum: str) -> str:
    return f"{champ_id}#{checksum}"


def split_attachment_id(value: str) -> tuple[str, str]:
    """`<champ id>#<checksum>` → (champ id, checksum); ValueError when it is not one of ours."""
    champ_id, sep, checksum = value.partition("#")
    if not sep or not champ_id or not checksum:
        raise ValueError("not a Démarches Simplifiées attachment id")
    return champ_id, checksum


def md5_of_checksum(checksum: str) -> bytes | None:
    """DS (ActiveStorage) checksums are the base64 MD5 of the file; None when it is not one."""
    try:
        raw = base64.b64decode(checksum, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 16 else None


@dataclass(frozen=True, slots=True)
class FileRef:
    """Where an attachment's bytes are now (DS URLs expire after an hour)."""

    attachment: Attachment
    url: str
    checksum: str


def _files(champs: Iterable[Any], where: str) -> list[FileRef]:
    out: list[FileRef] = []
    seen: set[str] = set()
    for i, raw in enumerate(champs):
        w = f"{where}[{i}]"
        champ = _obj(raw, w)
        if champ.get("__typename") != "PieceJustificativeChamp":
            continue
        champ_id = _str(champ, "id", w)
        descriptor = _str(champ, "champDescriptorId", w, optional=True)
        for j, rawf in enumerate(_list(champ.get("files") or [], f"{w}.files")):
            wf = f"{w}.files[{j}]"
            f = _obj(rawf, wf)
            checksum = _str(f, "checksum", wf)
            aid = attachment_id(champ_id, checksum)
            if aid in seen:  # the same content twice in one champ: one attachment
                continue
            seen.add(aid)
            size = _int(f, "byteSizeBigInt", wf)
            if size < 0:
                raise _Bad(f"{wf}.byteSizeBigInt", "negative size")
            attachment = Attachment(
                id=aid,
                filename=_str(f, "filename", wf),
                content_type=_str(f, "contentType", wf),
                size=size,
                sha256="",
                document_type=descriptor,
                checksum=checksum,
                checksum_algorithm="md5",
            )
            out.append(FileRef(attachment, _str(f, "url", wf), checksum))
    return out


# --- dossiers -------------------------------------------------------------------------------------


def _applicant(d: dict[str, Any], where: str) -> Applicant:
    demandeur = _obj(d.get("demandeur"), f"{where}.demandeur")
    w = f"{where}.demandeur"
    usager = _sub(d, "usager")
    usager_email = _str(usager, "email", f"{where}.usager", optional=True)
    kind = demandeur.get("__typename")
    if kind == "PersonneMorale":
        siret = _str(demandeur, "siret", w, optional=True)
        entreprise = _sub(demandeur, "entreprise")
        name = _str(entreprise, "raisonSociale", f"{w}.entreprise", optional=True) or _str(
            entreprise, "nomCommercial", f"{w}.entreprise", optional=True
        )
        addr = _sub(demandeur, "address")
        wa = f"{w}.address"
        address = Address(
            line1=_str(addr, "streetAddress", wa, optional=True) or _str(addr, "label", wa, optional=True),
            postcode=_str(addr, "postalCode", wa, optional=True),
            city=_str(addr, "cityName", wa, optional=True),
            country=_str(addr, "countryCode", wa, optional=True) or "FR",
        )
        return Applicant(
            kind=ApplicantKind.CRAFTSMAN if siret.strip() else ApplicantKind.INDIVIDUAL,
            last_name=name or siret,
            first_name="",
            email=usager_email,
            phone="",
            address=address,
            siret=siret,
        )
    if kind == "PersonnePhysique":
        return Applicant(
            kind=ApplicantKind.INDIVIDUAL,
            last_name=_str(demandeur, "nom", w),
            first_name=_str(demandeur, "prenom", w),
            email=_str(demandeur, "email", w, optional=True) or usager_email,
            phone="",
            address=Address(line1="", postcode="", city=""),
        )
    raise _Bad(f"{w}.__typename", "unknown kind of demandeur")


def _fields(champs: list[Any], annotations: list[Any], where: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for prefix, items, w in (("", champs, f"{where}.champs"), (ANNOTATION_PREFIX, annotations, f"{where}.annotations")):
        for i, raw in enumerate(items):
            champ = _obj(raw, f"{w}[{i}]")
            label = prefix + _str(champ, "label", f"{w}[{i}]")
            key, n = label, 2
            while key in fields:  # two champs with one label: both kept
                key, n = f"{label} ({n})", n + 1
            fields[key] = _str(champ, "stringValue", f"{w}[{i}]", optional=True)
    return fields


def _history(d: dict[str, Any], where: str) -> tuple[HistoryEvent, ...]:
    events: list[HistoryEvent] = []
    previous: DossierState | None = None
    traitements = [_obj(t, f"{where}.traitements[{i}]") for i, t in enumerate(_list(d.get("traitements") or [],
                                                                                    f"{where}.traitements"))]
    stamped = sorted(
        ((_time(t, "dateTraitement", f"{where}.traitements[{i}]"), i, t) for i, t in enumerate(traitements)),
        key=lambda x: (x[0], x[1]),
    )
    for at, i, t in stamped:
        event = _str(t, "event", f"{where}.traitements[{i}]")
        target = EVENTS.get(event)
        events.append(
            HistoryEvent(
                at=at,
                kind="state",
                actor=_str(t, "emailAgentTraitant", f"{where}.traitements[{i}]", optional=True),
                text=_str(t, "motivation", f"{where}.traitements[{i}]", optional=True),
                state_from=previous,
                state_to=target,
            )
        )
        previous = target or previous
    for i, raw in enumerate(_list(d.get("messages") or [], f"{where}.messages")):
        w = f"{where}.messages[{i}]"
        m = _obj(raw, w)
        if m.get("discardedAt"):
            continue
        correction = m.get("correction")
        events.append(
            HistoryEvent(
                at=_time(m, "createdAt", w),
                kind="request_documents" if isinstance(correction, dict) else "message",
                actor=_str(m, "email", w, optional=True),
                text=_str(m, "body", w),
            )
        )
    return tuple(sorted(events, key=lambda e: e.at))


@dataclass(frozen=True, slots=True)
class SentMessage:
    id: str
    body: str
    email: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AnnotationValue:
    """One private annotation of a dossier as DS gave it."""

    id: str
    label: str
    typename: str
    value: str


@dataclass(frozen=True, slots=True)
class DsDossier:
    """A mapped dossier with what only the connector needs: its GraphQL id, its followers, its files."""

    dossier: Dossier
    graphql_id: str
    followers: tuple[tuple[str, str], ...]
    """(instructeur id, email) of the instructors who follow it."""
    files: tuple[FileRef, ...]
    ds_state: str
    messages: tuple[SentMessage, ...] = ()
    annotations: tuple[AnnotationValue, ...] = ()
    last_substantive_change: datetime | None = None
    """The latest change of anything a decision rests on — champs and files, state, corrections,
    messages, traitements — but not private annotations (which DS counts in
    `dateDerniereModification`). None when DS did not say (then any change counts)."""


Followers = tuple[tuple[str, str], ...]


def parse_dossier(value: Any, assigned: Callable[[Followers], str], where: str = "dossier") -> DsDossier:
    """One DS dossier; `assigned(followers)` says whom the app shows as its holder."""
    return _entry(lambda: _dossier(value, assigned, where))


def _dossier(value: Any, assigned: Callable[[tuple[tuple[str, str], ...]], str], where: str) -> DsDossier:
    d = _obj(value, where)
    number = _int(d, "number", where)
    state_raw = _str(d, "state", where)
    correction = _time(d, "dateDerniereCorrectionEnAttente", where, optional=True)
    try:
        state = ds_state(state_raw, correction is not None)
    except ValueError:
        raise _Bad(f"{where}.state", "unknown value") from None
    demarche = _obj(d.get("demarche"), f"{where}.demarche")
    followers = tuple(
        (_str(_obj(p, f"{where}.instructeurs[{i}]"), "id", f"{where}.instructeurs[{i}]"),
         _str(p, "email", f"{where}.instructeurs[{i}]", optional=True))
        for i, p in enumerate(_list(d.get("instructeurs") or [], f"{where}.instructeurs"))
    )
    champs = _list(d.get("champs") or [], f"{where}.champs")
    annotations = _list(d.get("annotations") or [], f"{where}.annotations")
    files = _files(champs, f"{where}.champs") + _files(annotations, f"{where}.annotations")
    submitted = _time(d, "dateDepot", where)
    changed = {
        DossierState.SUBMITTED: submitted,
        DossierState.AWAITING_DOCUMENTS: correction,
        DossierState.IN_REVIEW: _time(d, "datePassageEnInstruction", where, optional=True),
    }.get(state) or _time(d, "dateTraitement", where, optional=True)
    version = _str(d, "dateDerniereModification", where)
    dossier = Dossier(
        id=str(number),
        number=str(number),
        scheme=str(_int(demarche, "number", f"{where}.demarche")),
        state=state,
        applicant=_applicant(d, where),
        submitted_at=submitted,
        updated_at=_time(d, "dateDerniereModification", where),
        version=version,
        fields=_fields(champs, annotations, where),
        attachments=tuple(f.attachment for f in files),
        history=_history(d, where),
        assigned_to=assigned(followers),
        state_changed_at=changed,
    )
    messages = tuple(
        SentMessage(
            _str(m, "id", f"{where}.messages[{i}]"),
            _str(m, "body", f"{where}.messages[{i}]"),
            _str(m, "email", f"{where}.messages[{i}]", optional=True),
            _time(m, "createdAt", f"{where}.messages[{i}]"),
        )
        for i, m in enumerate(d.get("messages") or [])
        if isinstance(m, dict) and not m.get("discardedAt")
    )
    private = tuple(
        AnnotationValue(
            _str(a, "id", f"{where}.annotations[{i}]"),
            _str(a, "label", f"{where}.annotations[{i}]"),
            _str(a, "__typename", f"{where}.annotations[{i}]", optional=True),
            _str(a, "stringValue", f"{where}.annotations[{i}]", optional=True),
        )
        for i, a in enumerate(annotations)
        if isinstance(a, dict)
    )
    champs_changed = _time(d, "dateDerniereModificationChamps", where, optional=True)
    substantive = None
    if champs_changed is not None:
        stamps = [champs_changed, submitted, correction, _time(d, "datePassageEnInstruction", where, optional=True),
                  _time(d, "dateTraitement", where, optional=True)]
        stamps += [m.created_at for m in messages] + [e.at for e in dossier.history]
        substantive = max(s for s in stamps if s is not None)
    return DsDossier(dossier, _str(d, "id", where), followers, tuple(files), state_raw, messages, private, substantive)


def parse_deleted(value: Any, where: str) -> DeletedDossier:
    def parse() -> DeletedDossier:
        o = _obj(value, where)
        return DeletedDossier(
            id=str(_int(o, "number", where)),
            deleted_at=_time(o, "dateSupression", where),
            reason=_str(o, "reason", where, optional=True),
        )

    return _entry(parse)


# --- démarches ------------------------------------------------------------------------------------


def parse_scheme(value: Any, where: str = "demarche") -> Scheme:
    def parse() -> Scheme:
        o = _obj(value, where)
        revision = _sub(o, "activeRevision")
        documents = []
        wr = f"{where}.activeRevision.champDescriptors"
        for i, raw in enumerate(_list(revision.get("champDescriptors") or [], wr)):
            w = f"{wr}[{i}]"
            desc = _obj(raw, w)
            if desc.get("__typename") == "PieceJustificativeChampDescriptor" and desc.get("required") is True:
                label = _str(desc, "label", w)
                documents.append(RequiredDocument(code=_str(desc, "id", w), label_fr=label, label_en=label))
        title = _str(o, "title", where)
        return Scheme(
            code=str(_int(o, "number", where)),
            label_fr=title,
            label_en=title,
            applicant_kinds=(ApplicantKind.INDIVIDUAL, ApplicantKind.CRAFTSMAN),
            required_documents=tuple(documents),
        )

    return _entry(parse)


def instructeurs(value: Any, where: str = "demarche") -> list[tuple[str, str]]:
    """(id, email) of every instructor of the démarche's groups."""

    def parse() -> list[tuple[str, str]]:
        o = _obj(value, where)
        out: list[tuple[str, str]] = []
        for i, raw in enumerate(_list(o.get("groupeInstructeurs") or [], f"{where}.groupeInstructeurs")):
            g = _obj(raw, f"{where}.groupeInstructeurs[{i}]")
            for j, p in enumerate(_list(g.get("instructeurs") or [], f"{where}.groupeInstructeurs[{i}].instructeurs")):
                w = f"{where}.groupeInstructeurs[{i}].instructeurs[{j}]"
                pid = _str(_obj(p, w), "id", w)
                out.append((pid, _str(p, "email", w, optional=True)))
        return out

    return _entry(parse)


def annotation_descriptors(value: Any, where: str = "demarche") -> list[tuple[str, str, str]]:
    """(id, label, __typename) of the démarche's private annotations (its active revision's)."""

    def parse() -> list[tuple[str, str, str]]:
        o = _obj(value, where)
        w = f"{where}.activeRevision.annotationDescriptors"
        out = []
        for i, raw in enumerate(_list(_sub(o, "activeRevision").get("annotationDescriptors") or [], w)):
            desc = _obj(raw, f"{w}[{i}]")
            out.append((_str(desc, "id", f"{w}[{i}]"), _str(desc, "label", f"{w}[{i}]"),
                        _str(desc, "__typename", f"{w}[{i}]", optional=True)))
        return out

    return _entry(parse)


# --- notes in a private annotation ----------------------------------------------------------------

NOTES_SEPARATOR = "\n\n"


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def note_block(note: PortalNote) -> str:
    """A note as it reads in the annotation: "[01/03/2030 09:05 UTC · author]" then its text.
    UTC and a fixed format, so that every workstation writes the same note the same way."""
    at = note.at.astimezone(UTC).strftime("%d/%m/%Y %H:%M")
    author = " ".join(note.author.split())
    header = f"[{at} UTC · {author}]" if author else f"[{at} UTC]"
    return f"{header}\n{_normalise(note.text)}"


def merge_notes(current: str, notes: Iterable[PortalNote]) -> tuple[str, int]:
    """The annotation's text with every note of `notes` in it, and how many were added.

    What the annotation holds already (notes written by other workstations, or typed on DS) is kept
    as it is; each note whose block is not in it yet is appended, oldest first. A note is there when
    its block stands in the annotation between blank lines (or at either end), so writing the same
    notes twice changes nothing (a lost answer, a retry, two workstations)."""
    text = _normalise(current)
    added = 0
    for note in sorted(notes, key=lambda n: n.at):
        block = note_block(note)
        if not _normalise(note.text) or _contains(text, block):
            continue
        text = f"{text}{NOTES_SEPARATOR}{block}" if text else block
        added += 1
    return text, added


def _contains(text: str, block: str) -> bool:
    """`block` is in `text` as whole paragraphs (not as the beginning of a longer note)."""
    sep = NOTES_SEPARATOR
    return f"{sep}{block}{sep}" in f"{sep}{text}{sep}"
