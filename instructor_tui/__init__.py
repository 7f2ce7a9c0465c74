"""instructor-tui: a keyboard-driven workstation for instructing grant applications."""

__version__ = "0.1.0"
