"""Defaults of the demo that the command line needs without importing the demo's web stack."""

DEFAULT_DOSSIERS = 16_900
DEFAULT_SEED = 2022
DEMO_USER = "demo-instructor-1"
"""Documented demo token (docs/portal-api.md); the portal maps it to the user `instructor-1`."""
