"""French catalogue: English source string → French.

Split by area so that people working on different layers do not edit one file: each module below
holds one area's strings. Keep each dict sorted by key.
"""

from instructor_tui.i18n.fr_core import CATALOG as _CORE
from instructor_tui.i18n.fr_portal import CATALOG as _PORTAL
from instructor_tui.i18n.fr_ui import CATALOG as _UI

CATALOG: dict[str, str] = {**_CORE, **_PORTAL, **_UI}
