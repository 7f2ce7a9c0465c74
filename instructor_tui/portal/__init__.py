"""The portal seen from the client: connector protocol, Portal API v1 over HTTP, sync engine, attachments.

No Textual here, and nothing from `demo`. What the app and the CLI use:

- `PortalConnector` (protocol), `make_connector(profile, token, portal_url=None)`, `PortalV1Connector`;
- the failures: `PortalError` and its subclasses; `user_message(exc)` for what the user reads;
- `SyncEngine(connector, StoreSink(store)).sync(on_progress=…) -> SyncReport` (status ok / offline /
  unauthorized / failed), and `run_sync(...)` / `sync_profile(...)` for one headless sync;
- `AttachmentCache(connector, paths.attachments_dir(profile), recorder=StoreSink(store))`.
"""

from instructor_tui.domain.decisions import Decision, DecisionKind
from instructor_tui.portal.attachments import AttachmentCache, AttachmentTooLarge, PrefetchReport
from instructor_tui.portal.connector import (
    Conflict,
    CursorExpired,
    DeletedDossier,
    DeletedPage,
    DossierPage,
    Forbidden,
    Identity,
    IntegrityError,
    Invalid,
    MalformedResponse,
    MessageReceipt,
    NotFound,
    PortalConnector,
    PortalError,
    RateLimited,
    Role,
    StaleVersion,
    Unauthorized,
    Unavailable,
)
from instructor_tui.portal.factory import PortalConfigError, make_connector
from instructor_tui.portal.headless import run_sync, sync_profile
from instructor_tui.portal.http_client import PortalV1Connector
from instructor_tui.portal.messages import phase_label, user_message
from instructor_tui.portal.store_sink import StoreSink
from instructor_tui.portal.sync import ProgressCallback, SyncEngine, SyncReport, SyncStatus

__all__ = [
    "AttachmentCache",
    "AttachmentTooLarge",
    "Conflict",
    "CursorExpired",
    "Decision",
    "DecisionKind",
    "DeletedDossier",
    "DeletedPage",
    "DossierPage",
    "Forbidden",
    "Identity",
    "IntegrityError",
    "Invalid",
    "MalformedResponse",
    "MessageReceipt",
    "NotFound",
    "PortalConfigError",
    "PortalConnector",
    "PortalError",
    "PortalV1Connector",
    "PrefetchReport",
    "ProgressCallback",
    "RateLimited",
    "Role",
    "StaleVersion",
    "StoreSink",
    "SyncEngine",
    "SyncReport",
    "SyncStatus",
    "Unauthorized",
    "Unavailable",
    "make_connector",
    "phase_label",
    "run_sync",
    "sync_profile",
    "user_message",
]
