"""Simulated colleagues: while the demo runs, other people work on the same dossiers.

Every few seconds `instructor-6` … `instructor-8` take dossiers from the queues and decide them,
applicants answer document requests, the paying office pays, a lead deletes a duplicate now and then,
and colleagues leave notes on dossiers that demo users hold — so a demo meets 409, 412 and the
deletions feed. `step()` does one round; tests call it directly instead of waiting for the thread.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Any

from instructor_tui.demo import service
from instructor_tui.demo.db import PortalDB
from instructor_tui.demo.errors import ApiError
from instructor_tui.demo.schemes import SCHEMES, proposed_amount_cents
from instructor_tui.demo.users import COLLEAGUES, User

log = logging.getLogger(__name__)

_NOTES = (
    "Appel de l'usager : demande où en est son dossier.",
    "Note : l'usager signale un changement d'adresse.",
    "Vérification SIRET effectuée.",
)


class Colleagues:
    def __init__(self, db: PortalDB, seed: int) -> None:
        self.db = db
        self.rng = random.Random(f"colleagues/{seed}")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, interval: float) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="demo-colleagues", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.step()
            except Exception:  # the simulation must never take the portal down
                log.exception("simulated colleagues failed a step")

    # -- one round -------------------------------------------------------------------------------
    def _pick(self, where: str, args: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        conn = self.db.conn
        count = conn.execute(f"SELECT COUNT(*) FROM dossiers WHERE {where}", args).fetchone()[0]  # noqa: S608
        if not count:
            return None
        row = conn.execute(
            f"SELECT id FROM dossiers WHERE {where} LIMIT 1 OFFSET ?",  # noqa: S608
            (*args, self.rng.randrange(count)),
        ).fetchone()
        return self.db.get(row[0])

    def step(self) -> list[str]:
        """One round of everybody's work; returns what was done (for tests and logs)."""
        done: list[str] = []
        for colleague in COLLEAGUES:
            with self.db.transaction():
                done.append(self._work(colleague))
        rng = self.rng
        with self.db.transaction():
            if rng.random() < 0.5 and (d := self._pick("state = 'awaiting_documents'")):
                service.applicant_answers(self.db, d)
                done.append("answered")
            if rng.random() < 0.5 and (d := self._pick("state IN ('approved', 'payment_pending')")):
                service.advance_payment(self.db, d)
                done.append("paid")
            held_by_demo = "assigned_to LIKE 'instructor-_' AND assigned_to NOT IN (?, ?, ?)"
            if rng.random() < 0.3 and (d := self._pick(held_by_demo, tuple(c.id for c in COLLEAGUES))):
                service.add_note(self.db, d, rng.choice(COLLEAGUES).id, rng.choice(_NOTES))
                done.append("noted")
            duplicate = (
                "assigned_to = '' AND state = 'submitted' AND body LIKE '%\"_demo_defect\":\"duplicate_applicant\"%'"
            )
            if rng.random() < 0.05 and (d := self._pick(duplicate)):
                self.db.delete(d, "duplicate")
                done.append("deleted")
        return done

    def _work(self, colleague: User) -> str:
        rng = self.rng
        held = self._pick("assigned_to = ? AND state = 'in_review'", (colleague.id,))
        if held is None:
            scheme = rng.choice(list(SCHEMES))
            claimed = service.next_in_queue(self.db, scheme, colleague)
            return "claimed" if claimed else "idle"
        try:
            service.decide(self.db, held, colleague, self._decision(held))
        except ApiError as refused:  # e.g. the amount rule refuses; leave it for a human
            service.release(self.db, held, colleague)
            return f"released ({refused.code})"
        return "decided"

    def _decision(self, body: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        scheme = SCHEMES[body["scheme"]]
        roll = rng.random()
        if body["fields"].get("_demo_defect") or roll < 0.15:
            return {"decision": "reject", "reason": rng.choice(scheme.reject_reasons)["code"]}
        if roll < 0.30:
            docs = [d.code for d in scheme.required_documents]
            return {"decision": "request_documents", "documents": [rng.choice(docs)]}
        if roll < 0.35:
            return {"decision": "dismiss", "reason": "Désistement du demandeur"}
        amount = proposed_amount_cents(
            scheme, int(body["fields"].get("price_cents", 0)), body["applicant"]["tax_income_cents"]
        )
        if amount <= 0:
            return {"decision": "reject", "reason": rng.choice(scheme.reject_reasons)["code"]}
        return {"decision": "approve", "amount_cents": amount}
