"""Sharing one worker process fairly: body-streaming requests get a bounded share of its
threads and must keep up a minimum average rate; reply checks are throttled per Tor circuit,
and a circuit's first few checks are never refused for what other circuits do.

Everything here lives in memory only, per process, and names nobody: a circuit id (passed on
by nginx as X-Sealdrop-Circuit, docs/THREAT_MODEL.md) is a key in a bounded table of token
buckets, never logged or stored.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import BinaryIO

from .checkorder import CircuitMemory
from .config import Settings
from .errors import busy_streams, too_slow

CIRCUIT_HEADER = "X-Sealdrop-Circuit"
# nginx sets this to "1" (and only nginx: it overwrites any client's value) when it read the
# whole body into memory before passing it on: a text, as a no-JS post or as the one chunk of
# a JS upload, under 64,000 bytes (deploy/nginx/). Such a body arrives at once, so it needs no
# slot among the slow streams, which large slow uploads may hold.
BUFFERED_HEADER = "X-Sealdrop-Buffered"
# A stream is closed once what it has handed out, plus this, is behind the minimum average
# rate; and a read asks the server for this much at least (gunicorn's body reader waits until
# it has all it was asked for, so the bytes counted lag the bytes received).
READ_PIECE = 64 * 1024
# A stream ahead of its minimum rate asks for more at once, up to this: as much as it could
# send at that rate before falling behind, so that a client keeping up the rate is never
# closed in the middle of a read, and one that stalls is closed exactly when it would be with
# READ_PIECE reads. Fewer, larger reads cost less per byte (issue 18).
MAX_READ_PIECE = 1 << 20
WATCH_EVERY_SECONDS = 1.0


def held_by_front(headers: Mapping[str, str]) -> bool:
    """The front server read this request's whole body before passing it on."""
    return headers.get(BUFFERED_HEADER) == "1"


class WatchedStream:
    """A request body that counts what it hands out and refuses to go on once it falls
    below the minimum average rate. ``close`` interrupts a read blocked on a stalled client
    (it shuts the connection's socket down)."""

    def __init__(
        self,
        stream: BinaryIO,
        guard: StreamGuard,
        close: Callable[[], None] | None,
    ) -> None:
        self._stream = stream
        self._guard = guard
        self._close = close
        self.started = guard.clock()
        self.received = 0
        self.killed = False

    def _ahead(self, now: float) -> float:
        """Bytes handed out beyond what the minimum average rate asks by ``now`` (the grace
        counts as time still to come)."""
        settings = self._guard.settings
        late = now - self.started - settings.stream_grace_seconds
        return self.received - late * settings.stream_min_bytes_per_second

    def too_slow(self, now: float) -> bool:
        """Behind the minimum average rate, even granting READ_PIECE of the read under way."""
        late = now - self.started - self._guard.settings.stream_grace_seconds
        return late > 0 and self._ahead(now) + READ_PIECE < 0

    def piece(self, now: float) -> int:
        """How much the next read may ask for: READ_PIECE, plus what the stream is ahead."""
        return int(min(MAX_READ_PIECE, READ_PIECE + max(0.0, self._ahead(now))))

    def kill(self) -> None:
        if not self.killed:
            self.killed = True
            if self._close is not None:
                self._close()

    def read(self, size: int = -1) -> bytes:
        now = self._guard.clock()
        if self.killed or self.too_slow(now):
            self.kill()
            raise too_slow()
        piece = self.piece(now)
        want = piece if size is None or size < 0 else min(size, piece)
        try:
            block = self._stream.read(want)
        except Exception:
            if self.killed:
                raise too_slow() from None
            raise
        if self.killed:
            raise too_slow()
        self.received += len(block)
        return block


class StreamGuard:
    """The body-streaming requests of one worker process: at most
    ``settings.streaming_threads`` at once, each closed when it falls below the minimum
    average rate after its grace period (checked by a watchdog thread every second, and on
    every read)."""

    def __init__(
        self, settings: Settings, clock: Callable[[], float] = time.monotonic, watch: bool = True
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._watch = watch
        self._lock = threading.Lock()
        self._active: set[WatchedStream] = set()
        self._watcher_pid = 0

    @property
    def active(self) -> int:
        return len(self._active)

    @contextmanager
    def streaming(
        self, stream: BinaryIO, close: Callable[[], None] | None = None, buffered: bool = False
    ) -> Iterator[WatchedStream]:
        """A slot for one body-streaming request, or busy (HTTP 503, Retry-After). A body the
        front server already holds whole (``buffered``) takes no slot."""
        watched = WatchedStream(stream, self, close)
        if buffered:
            yield watched
            return
        with self._lock:
            if len(self._active) >= self.settings.streaming_threads:
                raise busy_streams()
            self._active.add(watched)
            self._start_watcher()
        try:
            yield watched
        finally:
            with self._lock:
                self._active.discard(watched)

    def check(self) -> int:
        """Closes every stream that fell below the rate; returns how many."""
        now = self.clock()
        with self._lock:
            slow = [w for w in self._active if not w.killed and w.too_slow(now)]
        for watched in slow:
            watched.kill()
        return len(slow)

    def _start_watcher(self) -> None:
        # Started in the worker process that serves (a thread does not survive a fork).
        if not self._watch or self._watcher_pid == os.getpid():
            return
        self._watcher_pid = os.getpid()
        watcher = threading.Thread(
            target=self._watch_forever, name="sealdrop-stream-watch", daemon=True
        )
        watcher.start()

    def _watch_forever(self) -> None:
        while True:
            time.sleep(WATCH_EVERY_SECONDS)
            self.check()


def socket_closer(environ: dict[str, object]) -> Callable[[], None] | None:
    """Shuts down the client connection's socket under gunicorn or werkzeug's server."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket):
        return None

    def close() -> None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    return close


class CircuitBuckets:
    """A token bucket per circuit id (``per_minute`` a minute, bursts as large), in a table
    of at most ``max_circuits`` entries; the least recently seen is forgotten first."""

    def __init__(
        self,
        per_minute: int,
        max_circuits: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_circuits = max_circuits
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, circuit: str) -> bool:
        return self.spend(circuit) is not None

    def spend(self, circuit: str) -> float | None:
        """Takes a token: how many this circuit had before (None: none left, refused)."""
        now = self.clock()
        with self._lock:
            tokens, stamp = self._buckets.pop(circuit, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            allowed = tokens >= 1
            self._buckets[circuit] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self.max_circuits:
                self._buckets.popitem(last=False)
            return tokens if allowed else None


# A person checks for replies, mistypes the codename, checks again: their first few checks
# of a minute are theirs whatever anyone else does.
FRESH_CHECKS = 3


class CheckAdmission:
    """Who may check for replies now (issue 17). Each circuit has its bucket
    (``per_circuit`` a minute). A circuit's first FRESH_CHECKS checks of a minute never meet
    the ceiling: a flood cannot use up a person's share, only its own. Checks beyond them
    share ``ceiling`` a minute among all circuits, so heavy circuits together stay bounded.
    A check without a whole codename is cheap (a parse, indexed lookups, no sleep by default);
    one with a codename derives mailbox v2 ids (PBKDF2), which DerivationGate bounds and orders
    by ``admit``'s freshness: how few checks the circuit made lately (CircuitMemory)."""

    def __init__(
        self, per_circuit: int, ceiling: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.circuits = CircuitBuckets(per_circuit, clock=clock)
        self.fresh_above = per_circuit - min(FRESH_CHECKS, per_circuit)
        self._ceiling = CircuitBuckets(ceiling, max_circuits=1, clock=clock)
        self.recent = CircuitMemory(clock=clock)

    def refusal(self, circuit: str) -> str | None:
        """None when this check may go ahead; else "throttled" (this circuit's share is
        spent) or "busy" (the ceiling for heavy circuits is reached)."""
        return self.admit(circuit)[0]

    def admit(self, circuit: str) -> tuple[str | None, float]:
        """As ``refusal``, with how fresh the circuit is: minus the checks it made lately (0
        for a person's first check of a while; what DerivationGate orders by)."""
        fresh = -self.recent.note(circuit)
        had = self.circuits.spend(circuit)
        if had is None:
            return "throttled", fresh
        if had >= self.fresh_above + 1 or self._ceiling.take(""):
            return None, fresh
        return "busy", fresh
