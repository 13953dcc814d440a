"""The inbox app (Textual). Start it with ``sealdrop-reviewer`` and no command."""
