"""Test sources for the paths that read envelopes and plain files."""

from __future__ import annotations

import io


class CountingReader(io.BytesIO):
    """A wrapper that must see every byte through its own read (as CheckedReader hashes)."""

    count = 0

    def read(self, n: int | None = -1) -> bytes:
        data = super().read(n)
        self.count += len(data)
        return data
