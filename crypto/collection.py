"""Pausing Python's cycle collector while many new, acyclic containers are made.

CPython runs a collection each time enough new containers have survived, and a full one walks
every container alive: building a large tree of lists and dicts (a parsed JSON document, the
staff app's caseload) makes those passes walk the growing tree again and again and find
nothing, so the work grows faster than the tree. Such a tree holds no reference cycle, so
nothing is lost by waiting until it is built.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector waits for the block; it runs again after (unless it was off already)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
