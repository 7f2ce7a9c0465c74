"""The Textual app: screens, widgets, styles. Only this package imports Textual."""
