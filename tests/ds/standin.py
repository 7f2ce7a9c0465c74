"""A Démarches Simplifiées stand-in for tests only: an httpx.MockTransport handler written from DS's
documented behaviour (../shared/ds/README.md), not from its code.

It answers the connector's named operations over its own little world: démarches with instructor
groups, dossiers with champs, files, messages and traitements; cursor pages ordered by update time
(`updatedSince` once, then `after`), a deletions feed, file URLs on a storage host that expire after
an hour of its clock, mutations with their errors returned as data, root errors and 429s on demand.

Private annotations follow DS's `dossierModifierAnnotations` (app/graphql/mutations in DS's public
repository): the value is a oneOf keyed by the annotation's type (`text`, `textarea`, `checkbox`…);
an annotation whose id is unknown or whose type does not match the key is skipped without an error;
an instructor outside the dossier's groupe instructeur gets "L’instructeur n’a pas les droits
d’accès à ce dossier" as data; a champ id is its descriptor's id; a change of an annotation moves
the dossier's `dateDerniereModification` (champs touch their dossier) and
`dateDerniereModificationAnnotations`, not `dateDerniereModificationChamps`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

INSTANCE = "https://ds.test"
STORAGE = "https://storage.ds.test"
TOKEN = "ds-secret-token-0123456789"
T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.isoformat()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@dataclass
class Record:
    number: int
    demarche: int
    state: str = "en_construction"
    depot: datetime = T0
    updated: datetime = T0
    followers: list[tuple[str, str]] = field(default_factory=list)
    correction_pending: datetime | None = None
    passage_instruction: datetime | None = None
    traitement: datetime | None = None
    motivation: str | None = None
    kind: str = "PersonnePhysique"
    files: list[tuple[str, bytes, str]] = field(default_factory=list)
    """(filename, content, content type) of the 'Facture' champ."""
    messages: list[dict[str, Any]] = field(default_factory=list)
    traitements: list[dict[str, Any]] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)
    """Private annotation values by annotation (descriptor) id."""
    champs_updated: datetime | None = None
    annotations_updated: datetime | None = None
    groupe: list[tuple[str, str]] | None = None
    """The instructors of the dossier's groupe instructeur (None: every instructor of the démarche)."""

    @property
    def gid(self) -> str:
        return base64.b64encode(f"Dossier-{self.number}".encode()).decode()


@dataclass
class Fault:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    operation: str | None = None
    """Only for this operation (None: the next GraphQL request, whatever it is)."""


class DsStandIn:
    def __init__(self) -> None:
        self.now = T0
        self.demarches: dict[int, dict[str, Any]] = {}
        self.dossiers: dict[int, Record] = {}
        self.deleted: list[dict[str, Any]] = []
        self.files: dict[str, tuple[bytes, datetime]] = {}
        self.faults: list[Fault] = []
        self.sent: list[tuple[str, str, dict[str, Any]]] = []
        """(operationName, query, variables) of every GraphQL request received."""
        self.applied: list[str] = []
        """Mutations that changed something, in order."""
        self.auth_headers: set[str | None] = set()
        self.file_requests: list[int] = []
        self.lose_answer_of: set[str] = set()
        """Mutations whose effect is applied but whose answer is a 502 (a lost answer)."""
        self.corrupt_files = False
        self.annotation_writes: list[tuple[int, str, dict[str, Any]]] = []
        """(dossier number, annotation id, value input) of every annotation DS changed, in order."""

    # --- the world --------------------------------------------------------------------------------

    def tick(self, seconds: float = 1) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def add_demarche(self, number: int, title: str, instructeurs: list[tuple[str, str]],
                     annotations: list[tuple[str, str, str]] | None = None) -> None:
        """`annotations`: (id, label, descriptor __typename) of its private annotations."""
        self.demarches[number] = {"title": title, "instructeurs": instructeurs,
                                  "annotations": ANNOTATIONS if annotations is None else annotations}

    def add_dossier(self, number: int, demarche: int, **kw: Any) -> Record:
        when = self.tick()
        record = Record(number, demarche, depot=when, updated=when, champs_updated=when, annotations_updated=when,
                        **kw)
        record.traitements.append({"id": f"t{number}-0", "event": "depose", "dateTraitement": iso(when),
                                   "emailAgentTraitant": None, "motivation": None})
        self.dossiers[number] = record
        return record

    def touch(self, record: Record) -> None:
        """The applicant changed the dossier's champs (a new file, a corrected value)."""
        record.updated = record.champs_updated = self.tick()

    def _bump(self, record: Record) -> None:
        """A state change, a message: the dossier's modification date moves, not its champs'."""
        record.updated = self.tick()

    def delete(self, number: int) -> None:
        record = self.dossiers.pop(number)
        self.deleted.append({"id": record.gid, "number": number, "dateSupression": iso(self.tick()),
                             "reason": "user_request", "demarche": record.demarche})

    # --- HTTP -------------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.ds.test":
            return self._file(request)
        if request.url.path != "/api/v2/graphql" or request.method != "POST":
            return httpx.Response(404)
        self.auth_headers.add(request.headers.get("Authorization"))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"errors": [{"message": "Token expired"}]})
        body = json.loads(request.content)
        op, query, variables = body["operationName"], body["query"], body.get("variables") or {}
        self.sent.append((op, query, variables))
        for fault in list(self.faults):
            if fault.operation in (None, op):
                self.faults.remove(fault)
                return httpx.Response(fault.status, headers=fault.headers, json=fault.body or {})
        handler = getattr(self, f"op_{op}")
        result = handler(variables.get("input", variables))
        if op in self.lose_answer_of:
            self.lose_answer_of.discard(op)
            return httpx.Response(502)
        return httpx.Response(200, json=result)

    def _file(self, request: httpx.Request) -> httpx.Response:
        key = request.url.path.rsplit("/", 1)[-1]
        self.file_requests.append(1)
        stored = self.files.get(key)
        if stored is None:
            return httpx.Response(404)
        content, expires = stored
        if self.now >= expires:
            return httpx.Response(403, text="Request has expired")
        return httpx.Response(200, content=b"X" + content[1:] if self.corrupt_files else content)

    # --- rendering --------------------------------------------------------------------------------

    def _url(self, record: Record, index: int, content: bytes) -> str:
        key = f"{record.number}-{index}-{hashlib.sha1(content).hexdigest()[:8]}-{int(self.now.timestamp())}"
        self.files[key] = (content, self.now + timedelta(hours=1))
        return f"{STORAGE}/files/{key}"

    def render(self, r: Record) -> dict[str, Any]:
        if r.kind == "PersonneMorale":
            demandeur: dict[str, Any] = {
                "__typename": "PersonneMorale", "siret": "73282932000074",
                "address": {"label": "1 rue du Bois 57000 Metz", "streetAddress": "1 rue du Bois",
                            "postalCode": "57000", "cityName": "Metz", "countryCode": "FR"},
                "entreprise": {"raisonSociale": "MENUISERIE DUPONT", "nomCommercial": "Dupont"},
            }
        else:
            demandeur = {"__typename": "PersonnePhysique", "civilite": "Mme", "nom": f"Martin{r.number}",
                         "prenom": "Claire", "email": None}
        files = [
            {"filename": name, "contentType": ctype, "byteSizeBigInt": str(len(content)),
             "checksum": md5_b64(content), "url": self._url(r, i, content), "createdAt": iso(r.depot)}
            for i, (name, content, ctype) in enumerate(r.files)
        ]
        champs = [
            {"__typename": "TextChamp", "id": f"c{r.number}-1", "champDescriptorId": "cd-1",
             "label": "Modèle du vélo", "stringValue": "Cargo 3000", "updatedAt": iso(r.depot)},
            {"__typename": "PieceJustificativeChamp", "id": f"c{r.number}-2", "champDescriptorId": "cd-2",
             "label": "Facture", "stringValue": ", ".join(f[0] for f in r.files), "updatedAt": iso(r.depot),
             "files": files},
        ]
        annotations = [
            {"__typename": _CHAMP_TYPES.get(kind, "TextChamp"), "id": aid, "champDescriptorId": aid,
             "label": label, "stringValue": r.annotations.get(aid), "updatedAt": iso(r.annotations_updated or r.depot)}
            for aid, label, kind in self.demarches[r.demarche]["annotations"]
        ]
        return {
            "id": r.gid, "number": r.number, "state": r.state, "dateDepot": iso(r.depot),
            "dateDerniereModification": iso(r.updated),
            "dateDerniereModificationChamps": iso(r.champs_updated or r.depot),
            "dateDerniereModificationAnnotations": iso(r.annotations_updated or r.depot),
            "datePassageEnInstruction": iso(r.passage_instruction) if r.passage_instruction else None,
            "dateTraitement": iso(r.traitement) if r.traitement else None,
            "dateDerniereCorrectionEnAttente": iso(r.correction_pending) if r.correction_pending else None,
            "motivation": r.motivation, "demarche": {"number": r.demarche},
            "usager": {"email": f"usager{r.number}@example.fr"},
            "instructeurs": [{"id": i, "email": e} for i, e in r.followers],
            "demandeur": demandeur, "champs": champs, "annotations": annotations,
            "messages": r.messages, "traitements": r.traitements,
        }

    # --- queries ----------------------------------------------------------------------------------

    @staticmethod
    def _cursor(r: Record) -> str:
        return base64.b64encode(f"{r.updated.isoformat()}|{r.number}".encode()).decode()

    def _page(self, items: list[Any], key: Any, first: int, after: str | None, render: Any) -> dict[str, Any]:
        if after is not None:
            try:
                stamp, number = base64.b64decode(after).decode().split("|")
                position = (datetime.fromisoformat(stamp), int(number))
            except Exception:
                return {"errors": [{"message": "Invalid cursor"}], "data": None}
            items = [i for i in items if key(i) > position]
        items = sorted(items, key=key)
        page = items[: min(first, 100)]
        end = None
        if page:
            last = key(page[-1])
            end = base64.b64encode(f"{last[0].isoformat()}|{last[1]}".encode()).decode()
        return {"nodes": [render(i) for i in page],
                "pageInfo": {"hasNextPage": len(items) > len(page), "endCursor": end}}

    def _demarche_or_error(self, number: int) -> dict[str, Any] | None:
        return self.demarches.get(number)

    def op_DsDemarche(self, v: dict[str, Any]) -> dict[str, Any]:
        d = self.demarches.get(v["demarche"])
        if d is None:
            return _not_found("Demarche not found")
        return {"data": {"demarche": {
            "id": f"D{v['demarche']}", "number": v["demarche"], "title": d["title"], "state": "publiee",
            "activeRevision": {"champDescriptors": [
                {"__typename": "TextChampDescriptor", "id": "cd-1", "label": "Modèle du vélo", "required": True},
                {"__typename": "PieceJustificativeChampDescriptor", "id": "cd-2", "label": "Facture",
                 "required": True},
            ], "annotationDescriptors": [{"__typename": kind, "id": aid, "label": label}
                                         for aid, label, kind in d["annotations"]]},
            "groupeInstructeurs": [{"id": "G1", "number": 1, "label": "défaut", "closed": False,
                                    "instructeurs": [{"id": i, "email": e} for i, e in d["instructeurs"]]}],
        }}}

    def op_DsDossiers(self, v: dict[str, Any]) -> dict[str, Any]:
        if v["demarche"] not in self.demarches:
            return _not_found("Demarche not found")
        since = datetime.fromisoformat(v["updatedSince"]) if v.get("updatedSince") else None
        items = [r for r in self.dossiers.values() if r.demarche == v["demarche"]
                 and (since is None or v.get("after") or r.updated >= since)]
        page = self._page(items, lambda r: (r.updated, r.number), v["first"], v.get("after"), self.render)
        if "errors" in page:
            return page
        return {"data": {"demarche": {"number": v["demarche"], "dossiers": page}}}

    def op_DsOpenDossiers(self, v: dict[str, Any]) -> dict[str, Any]:
        items = [r for r in self.dossiers.values() if r.demarche == v["demarche"] and r.state == v["state"]]
        page = self._page(items, lambda r: (r.updated, r.number), v["first"], v.get("after"),
                          lambda r: {"number": r.number, "dateDepot": iso(r.depot),
                                     "instructeurs": [{"id": i, "email": e} for i, e in r.followers]})
        return {"data": {"demarche": {"number": v["demarche"], "dossiers": page}}}

    def op_DsDeletedDossiers(self, v: dict[str, Any]) -> dict[str, Any]:
        since = datetime.fromisoformat(v["deletedSince"]) if v.get("deletedSince") else None
        items = [d for d in self.deleted if d["demarche"] == v["demarche"]
                 and (since is None or v.get("after") or datetime.fromisoformat(d["dateSupression"]) >= since)]
        page = self._page(items, lambda d: (datetime.fromisoformat(d["dateSupression"]), d["number"]),
                          v["first"], v.get("after"),
                          lambda d: {k: d[k] for k in ("id", "number", "dateSupression", "reason")})
        if "errors" in page:
            return page
        return {"data": {"demarche": {"number": v["demarche"], "deletedDossiers": page}}}

    def op_DsDossier(self, v: dict[str, Any]) -> dict[str, Any]:
        r = self.dossiers.get(v["number"])
        if r is None:
            return _not_found("Dossier not found")
        return {"data": {"dossier": self.render(r)}}

    # --- mutations --------------------------------------------------------------------------------

    def _by_gid(self, gid: str) -> Record | None:
        return next((r for r in self.dossiers.values() if r.gid == gid), None)

    def _instructeur(self, iid: str, demarche: int) -> tuple[str, str] | None:
        return next((p for p in self.demarches[demarche]["instructeurs"] if p[0] == iid), None)

    def _decision(self, field_name: str, v: dict[str, Any], change: Any, *, needs: str,
                  motivation_required: bool = False) -> dict[str, Any]:
        r = self._by_gid(v["dossierId"])
        if r is None:
            return _not_found("Dossier not found")
        who = self._instructeur(v["instructeurId"], r.demarche)
        if who is None:
            return _payload_error(field_name, "L’instructeur n’a pas les droits d’accès à ce dossier")
        if motivation_required and not (v.get("motivation") or "").strip():
            return _payload_error(field_name, "La motivation est obligatoire")
        if r.state != needs:
            return _payload_error(field_name, f"Le dossier est déjà {_label(r.state)}")
        change(r, who)
        self._bump(r)
        self.applied.append(field_name)
        return {"data": {field_name: {"dossier": self.render(r), "errors": None}}}

    def _traite(self, r: Record, who: tuple[str, str], state: str, event: str, motivation: str | None) -> None:
        r.state, r.traitement, r.motivation = state, self.tick(), motivation
        r.traitements.append({"id": f"t{r.number}-{len(r.traitements)}", "event": event,
                              "dateTraitement": iso(r.traitement), "emailAgentTraitant": who[1],
                              "motivation": motivation})

    def op_DsPasserEnInstruction(self, v: dict[str, Any]) -> dict[str, Any]:
        def change(r: Record, who: tuple[str, str]) -> None:
            self._traite(r, who, "en_instruction", "passe_en_instruction", None)
            r.passage_instruction, r.correction_pending = r.traitement, None
        return self._decision("dossierPasserEnInstruction", v, change, needs="en_construction")

    def op_DsAccepter(self, v: dict[str, Any]) -> dict[str, Any]:
        return self._decision("dossierAccepter", v, lambda r, w: self._traite(
            r, w, "accepte", "accepte", v.get("motivation")), needs="en_instruction")

    def op_DsRefuser(self, v: dict[str, Any]) -> dict[str, Any]:
        return self._decision("dossierRefuser", v, lambda r, w: self._traite(
            r, w, "refuse", "refuse", v.get("motivation")), needs="en_instruction", motivation_required=True)

    def op_DsClasserSansSuite(self, v: dict[str, Any]) -> dict[str, Any]:
        return self._decision("dossierClasserSansSuite", v, lambda r, w: self._traite(
            r, w, "sans_suite", "classe_sans_suite", v.get("motivation")), needs="en_instruction",
            motivation_required=True)

    def op_DsBasculeSuivi(self, v: dict[str, Any]) -> dict[str, Any]:
        r = self._by_gid(v["dossierId"])
        if r is None:
            return _not_found("Dossier not found")
        who = self._instructeur(v["instructeurId"], r.demarche)
        if who is None:
            return _payload_error("dossierBasculeSuivi", "L’instructeur n’a pas les droits d’accès à ce dossier")
        if v.get("follow", True) and who not in r.followers:
            r.followers.append(who)
        elif not v.get("follow", True) and who in r.followers:
            r.followers.remove(who)
        self.applied.append("dossierBasculeSuivi")
        return {"data": {"dossierBasculeSuivi": {"dossier": self.render(r), "errors": None}}}

    def op_DsEnvoyerMessage(self, v: dict[str, Any]) -> dict[str, Any]:
        r = self._by_gid(v["dossierId"])
        if r is None:
            return _not_found("Dossier not found")
        who = self._instructeur(v["instructeurId"], r.demarche)
        if who is None:
            return _payload_error("dossierEnvoyerMessage", "L’instructeur n’a pas les droits d’accès")
        when = self.tick()
        message = {"id": f"m{r.number}-{len(r.messages)}", "body": v["body"], "createdAt": iso(when),
                   "email": who[1], "discardedAt": None, "correction": None}
        if v.get("correction"):
            if r.state not in ("en_construction", "en_instruction"):
                return _payload_error("dossierEnvoyerMessage", f"Le dossier est déjà {_label(r.state)}")
            message["correction"] = {"reason": v["correction"], "dateResolution": None}
            r.state, r.correction_pending = "en_construction", when
        r.messages.append(message)
        self._bump(r)
        self.applied.append("dossierEnvoyerMessage")
        return {"data": {"dossierEnvoyerMessage": {"message": {"id": message["id"], "createdAt": iso(when)},
                                                   "errors": None}}}

    def op_DsModifierAnnotations(self, v: dict[str, Any]) -> dict[str, Any]:
        field_name = "dossierModifierAnnotations"
        for item in v["annotations"]:
            if len(item["value"]) != 1:  # AnnotationValueInput is @oneOf: refused before anything runs
                return {"errors": [{"message": "AnnotationValueInput must include exactly one key"}], "data": None}
        r = self._by_gid(v["dossierId"])
        if r is None:
            return _not_found("Dossier not found")
        who = self._instructeur(v["instructeurId"], r.demarche)
        if who is None or (r.groupe is not None and who not in r.groupe):
            return {"data": {field_name: {"annotations": None, "errors": [
                {"message": "L’instructeur n’a pas les droits d’accès à ce dossier"}]}}}
        descriptors = {aid: (label, kind) for aid, label, kind in self.demarches[r.demarche]["annotations"]}
        changed = []
        for item in v["annotations"]:
            found = descriptors.get(item["id"])
            if found is None:
                continue  # DS: an unknown annotation is skipped, without an error
            label, kind = found
            value = item["value"].get(_VALUE_KEYS.get(kind, ""))
            if value is None:
                continue  # DS: a value keyed by another type is skipped, without an error
            r.annotations[item["id"]] = str(value).lower() if isinstance(value, bool) else str(value)
            self.annotation_writes.append((r.number, item["id"], dict(item["value"])))
            changed.append({"id": item["id"], "label": label, "stringValue": r.annotations[item["id"]]})
        if changed:
            r.updated = r.annotations_updated = self.tick()
            self.applied.append(field_name)
        return {"data": {field_name: {"annotations": changed, "errors": None}}}


NOTES = "Q2hhbXAtOTAx"
"""The id of the démarches' long-text annotation "Notes d'instruction" (DS ids are base64 'Champ-<stable id>')."""
ANNOTATIONS = [
    (NOTES, "Notes d'instruction", "TextareaChampDescriptor"),
    ("Q2hhbXAtOTAy", "Note", "TextChampDescriptor"),
    ("Q2hhbXAtOTAz", "Dossier prioritaire", "CheckboxChampDescriptor"),
]
_CHAMP_TYPES = {"TextChampDescriptor": "TextChamp", "TextareaChampDescriptor": "TextChamp",
                "CheckboxChampDescriptor": "CheckboxChamp"}
_VALUE_KEYS = {"TextChampDescriptor": "text", "TextareaChampDescriptor": "textarea",
               "CheckboxChampDescriptor": "checkbox"}


def _label(state: str) -> str:
    return {"en_construction": "en construction", "en_instruction": "en instruction", "accepte": "accepté",
            "refuse": "refusé", "sans_suite": "classé sans suite"}[state]


def _not_found(message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": "not_found"}}], "data": None}


def _payload_error(field_name: str, message: str) -> dict[str, Any]:
    return {"data": {field_name: {"dossier": None, "errors": [{"message": message}]}}}


def root_error(code: str, message: str = "", data: Any = None) -> Fault:
    return Fault(body={"errors": [{"message": message or code, "extensions": {"code": code}}], "data": data})
