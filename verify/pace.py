"""Keeping the checker within what a service lets one Tor circuit ask (deploy/nginx: 10
requests a second with bursts of 40, 20 posts a minute with bursts of 10): a token bucket
per kind of request, shared by the threads that fetch, so a run is never told to slow down."""

from __future__ import annotations

import threading
import time


class Bucket:
    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second, self.burst = per_second, burst
        self._tokens = float(burst)
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> None:
        """Returns when a request may start (at once while the burst lasts)."""
        if self.per_second <= 0:
            return
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.per_second)
            self._stamp = now
            self._tokens -= 1
            wait = -self._tokens / self.per_second if self._tokens < 0 else 0.0
        if wait:
            time.sleep(wait)


POSTS_PER_MINUTE = 18


class Pace:
    """``per_second`` requests a second (bursts of 30), and posts at POSTS_PER_MINUTE (bursts
    of 8); 0 paces nothing (for a service without per-circuit limits)."""

    def __init__(self, per_second: float) -> None:
        self.gets = Bucket(per_second, 30)
        self.posts = Bucket(POSTS_PER_MINUTE / 60 if per_second > 0 else 0, 8)

    def take(self, method: str) -> None:
        (self.posts if method == "POST" else self.gets).take()
