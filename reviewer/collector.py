"""Keeping Python's cycle collector out of the way while the caseload is built.

CPython runs a full collection each time enough new objects have survived, walking every
object alive. Building the inbox of 10,000 conversations makes 100,000s of objects that all
stay alive and hold no reference cycle, so those passes walk the caseload again and again and
find nothing: about a third of the app's start-up. While the caseload is built the collector
waits, and the first caseload of a process (with the modules imported before it) is then set
aside from later full passes (``gc.freeze``): it lives as long as the app.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from crypto import collection

_frozen = False


@contextmanager
def building() -> Iterator[None]:
    global _frozen
    try:
        with collection.paused():
            yield
    finally:
        # Only once: a later freeze would also keep for ever any cyclic garbage the app made
        # meanwhile (closed screens), which the next full pass would otherwise free.
        if not _frozen:
            _frozen = True
            gc.freeze()
