"""One workstation of the team-mode tests, run as its own process: open the store (migrating it if
first), wait for the go file, then record calls and decisions as fast as it can.

    python team_writer.py URL AGENT CALLS GO_FILE [DOSSIER_ID:VERSION ...]
"""

from __future__ import annotations

import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path


def main() -> int:
    url, agent, calls, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    dossiers = [item.split(":", 1) for item in sys.argv[5:]]
    from instructor_tui.domain.calls import CallDirection, CallLog
    from instructor_tui.domain.decisions import Decision
    from instructor_tui.store import open_store
    from instructor_tui.store.calls import record_call
    from instructor_tui.store.outbox import record_decision

    store = open_store(url)
    deadline = time.monotonic() + 60
    while not go.exists():  # both processes start writing together
        if time.monotonic() > deadline:
            return 3
        time.sleep(0.005)
    now = datetime.now(UTC)
    pending = list(dossiers)
    for i in range(calls):
        record_call(store, CallLog(
            id=str(uuid.uuid4()), direction=CallDirection.INBOUND, agent=agent,
            started_at=now - timedelta(minutes=5), ended_at=now, reason="dossier_status", summary="appel",
            outcome="resolved"))
        if pending and i % 2 == 0:  # decisions interleaved with the calls
            dossier_id, version = pending.pop()
            record_decision(store, dossier_id=dossier_id, dossier_version=version,
                            decision=Decision.approve(10_000), actor=agent, delay_seconds=0)
    for dossier_id, version in pending:
        record_decision(store, dossier_id=dossier_id, dossier_version=version,
                        decision=Decision.reject("autre"), actor=agent, delay_seconds=0)
    store.close()
    print("done", agent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
