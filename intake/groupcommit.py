"""Group commit: requests that finish at the same moment share one durable transaction.

Each caller hands over an item and waits. The first caller to find no commit under way
becomes the leader: it takes every item queued so far, runs ``commit`` on the batch (one
transaction, one fsync) and hands each caller its own result, while items queued meanwhile
wait for the next leader. Nothing runs in a background thread, so nothing survives a fork
half-done. An error in a batch reaches every caller in it: the leader raises it, the others a
"busy" of their own (an exception object is never shared between requests, since a request
attaches what its person typed to its error).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .errors import IntakeError

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Waiter(Generic[Item, Result]):
    item: Item
    done: bool = False
    result: Result | None = None
    error: BaseException | None = None
    leader: bool = False
    event: threading.Event = field(default_factory=threading.Event)


class GroupCommit(Generic[Item, Result]):
    def __init__(self, commit: Callable[[Sequence[Item]], Sequence[Result]]) -> None:
        self._commit = commit
        self._lock = threading.Lock()
        self._queue: list[_Waiter[Item, Result]] = []
        self._leading = False
        self.batches = 0  # how many transactions ran (for tests and the bench)

    def submit(self, item: Item) -> Result:
        """Commits ``item`` with whatever else is queued; returns its result or raises the
        batch's error."""
        waiter: _Waiter[Item, Result] = _Waiter(item)
        with self._lock:
            self._queue.append(waiter)
        while True:
            with self._lock:
                if waiter.done:
                    break
                lead = not self._leading
                if lead:
                    self._leading = True
                    batch, self._queue = self._queue, []
            if lead:
                waiter.leader = True
                self._run(batch)
            else:
                waiter.event.wait()
                waiter.event.clear()
        if waiter.error is not None:
            if waiter.leader:
                raise waiter.error
            raise IntakeError("busy") from waiter.error
        return waiter.result  # type: ignore[return-value]

    def _run(self, batch: list[_Waiter[Item, Result]]) -> None:
        try:
            results = self._commit([w.item for w in batch])
        except BaseException as error:  # every caller in the batch hears it
            for waiter in batch:
                waiter.error = error
        else:
            for waiter, result in zip(batch, results, strict=True):
                waiter.result = result
        finally:
            self.batches += 1
            with self._lock:
                self._leading = False
                for waiter in batch:
                    waiter.done = True
                waiting = list(self._queue)
            for waiter in [*batch, *waiting]:
                waiter.event.set()  # done, or the next to lead
