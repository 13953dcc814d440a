"""The order in which reply checks get the CPU a no-JS check's mailbox derivation takes
(issue 17, G11): how many checks each circuit made lately, and the gate the derivations pass
one at a time per process. In memory only, per process; circuit ids are never logged or stored.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import busy_checks


class CircuitMemory:
    """How many checks each circuit made lately: a count that halves every ``half_life``
    seconds, in a table of at most ``max_circuits`` (the least recently seen forgotten first).
    A bucket forgets a circuit that checks every few seconds within a minute; this does not."""

    def __init__(
        self,
        half_life: float = 600.0,
        max_circuits: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.half_life = half_life
        self.max_circuits = max_circuits
        self.clock = clock
        self._counts: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, circuit: str) -> float:
        """Counts one check; returns the count before it (0 for a circuit not seen lately)."""
        now = self.clock()
        with self._lock:
            count, stamp = self._counts.pop(circuit, (0.0, now))
            count *= 0.5 ** ((now - stamp) / self.half_life)
            self._counts[circuit] = (count + 1, now)
            while len(self._counts) > self.max_circuits:
                self._counts.popitem(last=False)
            return count


# A circuit that made no check lately (CircuitMemory counts under one): its check waits its
# turn however many wait, as the first checks of a minute never meet the ceiling.
FRESH = -1.0 + 1e-9


@dataclass(eq=False)
class _Waiter:
    priority: float
    order: int
    evicted: bool = False


class DerivationGate:
    """The mailbox v2 derivations a no-JS check makes (crypto/mailbox.py: PBKDF2, tens of
    milliseconds of CPU each) run ``slots`` at a time in this process, so that a flood of
    valid-looking codenames takes at most that many cores, never the CPU a text needs. Who goes
    first is decided by ``priority``, the circuit's freshness (CheckAdmission.admit): a
    circuit's first check of a while waits its turn among the other first checks, however
    many there are (so many at once cost as many Tor circuits); checks of circuits that have
    been checking again and again wait behind them, at most ``waiting`` of them (the most-used
    pushed out first), instead of holding threads they do not use. No check waits longer than
    ``max_wait`` seconds: beyond, and beyond the room, the answer is busy (503)."""

    def __init__(self, slots: int, waiting: int, max_wait: float = 10.0) -> None:
        self.slots = slots
        self.waiting = waiting
        self.max_wait = max_wait
        self._running = 0
        self._waiters: list[_Waiter] = []
        self._order = 0
        self._cond = threading.Condition()

    @contextmanager
    def slot(self, priority: float) -> Iterator[None]:
        """Runs the block in a slot, or raises busy (503, Retry-After)."""
        with self._cond:
            if self._running >= self.slots or self._waiters:
                self._wait(priority)
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    def waiting_now(self, count: int, timeout: float) -> bool:
        """Blocks until exactly ``count`` checks wait (for tests and benchmarks)."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._waiters) == count, timeout)

    def _wait(self, priority: float) -> None:
        crowded = len([w for w in self._waiters if w.priority < FRESH]) >= self.waiting
        if priority < FRESH and crowded:
            # The lowest priority leaves (the newest of equals): only for a higher one.
            lowest = min(
                (w for w in self._waiters if w.priority < FRESH),
                key=lambda w: (w.priority, -w.order),
            )
            if lowest.priority >= priority:
                raise busy_checks()
            lowest.evicted = True
            self._waiters.remove(lowest)
            self._cond.notify_all()
        self._order += 1
        me = _Waiter(priority, self._order)
        self._waiters.append(me)
        self._cond.notify_all()  # tells whoever watches (tests) that one more waits
        deadline = time.monotonic() + self.max_wait
        while not me.evicted:
            first = max(self._waiters, key=lambda w: (w.priority, -w.order))
            if self._running < self.slots and first is me:
                self._waiters.remove(me)
                return
            left = deadline - time.monotonic()
            if left <= 0:
                self._waiters.remove(me)
                self._cond.notify_all()
                break
            self._cond.wait(left)
        raise busy_checks()
