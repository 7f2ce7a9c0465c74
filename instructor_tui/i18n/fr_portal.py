"""French strings of the portal area (see i18n/fr.py)."""

CATALOG: dict[str, str] = {
}
