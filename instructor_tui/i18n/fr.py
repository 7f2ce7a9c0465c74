"""French catalogue: English source string → French. Keep entries sorted by area, then alphabetically."""

CATALOG: dict[str, str] = {
}
