"""French strings of the ui area (see i18n/fr.py)."""

CATALOG: dict[str, str] = {
}
