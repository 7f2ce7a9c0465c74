"""Pure rules of the trade: no I/O, no Textual, no database."""
