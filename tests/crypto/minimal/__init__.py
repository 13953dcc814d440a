"""An independent reader of every sealdrop format, written from docs/FORMAT.md alone (see
tests/crypto/minimal_decoder.py, which gathers it)."""
