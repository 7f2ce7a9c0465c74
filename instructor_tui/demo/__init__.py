"""The reference portal (Portal API v1 over its own SQLite database) and its demo data generator.

Never imported by the app except by `instructor-tui demo` / `portal serve`; depends on `domain` only.
"""
