"""French strings of the core area (see i18n/fr.py)."""

CATALOG: dict[str, str] = {
}
