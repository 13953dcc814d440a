"""Body-streaming requests (no-JS posts, chunk PUTs) take at most their share of a worker's
threads and must keep up a minimum average rate, or are closed: a handful of slow or stalled
clients cannot hold every thread. Time is an injected clock here, never a sleep."""

from __future__ import annotations

import io
import socket
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from intake.errors import IntakeError
from intake.fairness import MAX_READ_PIECE, READ_PIECE, StreamGuard
from intake.serve import QuietHandler

from .conftest import Intake, build
from .helpers import post_form, seal

GRACE = 60
RATE = 2048


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slow_intake(tmp_path: Path, watched_tmp: Path, captured_log) -> Intake:  # type: ignore[no-untyped-def]
    intake = build(
        tmp_path,
        watched_tmp,
        captured_log,
        WORKER_THREADS=4,
        STREAMING_THREADS_PERCENT=50,
        STREAM_GRACE_SECONDS=GRACE,
        STREAM_MIN_BYTES_PER_SECOND=RATE,
    )
    guard = intake.app.extensions["sealdrop_streams"]
    guard.clock = Clock()
    guard._watch = False  # the test runs the watchdog's checks itself
    return intake


def guard_of(intake: Intake) -> StreamGuard:
    return intake.app.extensions["sealdrop_streams"]


def test_streams_get_a_share_of_the_threads_then_a_clear_busy(slow_intake: Intake) -> None:
    guard = guard_of(slow_intake)
    assert slow_intake.settings.streaming_threads == 2
    with guard.streaming(io.BytesIO()), guard.streaming(io.BytesIO()):
        refused = post_form(slow_intake.client, "hello", lang="ru")
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "60"
        assert refused.headers["Connection"] == "close"  # the body is not read
        assert "многие отправляют файлы" in refused.get_data(as_text=True)
        # Pages and reply checks do not stream bodies: they are served.
        assert slow_intake.client.get("/").status_code == 200
        assert slow_intake.client.get("/replies").status_code == 200
    slow_intake.assert_nothing_stored()
    assert post_form(slow_intake.client, "hello").status_code == 200  # slots come back


def test_a_chunk_put_needs_a_slot_too(slow_intake: Intake) -> None:
    envelope = seal([slow_intake.public_key], "hello")
    created = slow_intake.client.post("/api/v1/uploads", json={"size": len(envelope)})
    upload_id = created.json["id"]
    guard = guard_of(slow_intake)
    with guard.streaming(io.BytesIO()), guard.streaming(io.BytesIO()):
        refused = slow_intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope)
        assert refused.status_code == 503 and refused.json["error"] == "busy"
    sent = slow_intake.client.put(f"/api/v1/uploads/{upload_id}?offset=0", data=envelope)
    assert sent.status_code == 200


class Trickle(io.RawIOBase):
    """A body whose every read advances the clock as a client sending ``rate`` bytes a
    second would."""

    def __init__(self, clock: Clock, rate: float) -> None:
        self.clock = clock
        self.rate = rate
        self.asked: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.asked.append(size)
        self.clock.now += max(size, 0) / self.rate
        return b"x" * max(size, 0)


def _guard(clock: Clock) -> StreamGuard:
    from intake.config import Settings

    settings = Settings(
        data_dir=Path("/nonexistent"),
        database_url="sqlite://",
        recipient_files=(),
        recipients=(),
        max_submission_bytes=1 << 30,
        storage_budget_bytes=None,
        upload_ttl_hours=24,
        disk_reserve_bytes=0,
        stream_grace_seconds=GRACE,
        stream_min_bytes_per_second=RATE,
    )
    return StreamGuard(settings, clock=clock, watch=False)


def test_a_body_below_the_average_rate_is_closed_after_the_grace() -> None:
    clock = Clock()
    guard = _guard(clock)
    closed: list[bool] = []
    # Half the rate: fine during the grace, then behind for good.
    half = Trickle(clock, RATE / 2)
    with (
        guard.streaming(half, lambda: closed.append(True)) as body,
        pytest.raises(IntakeError) as refused,
    ):
        while True:
            body.read(1 << 20)
    assert refused.value.message_key == "error_too_slow"
    assert closed == [True]
    elapsed = clock.now - 1000.0
    assert GRACE < elapsed < GRACE + 2 * READ_PIECE / RATE + 3 * READ_PIECE / (RATE / 2)
    # A generous rate is never refused, and its reads grow to MAX_READ_PIECE.
    fast = Trickle(clock, RATE * 4)
    with guard.streaming(fast) as body:
        for _ in range(200):
            assert len(body.read(1 << 20)) == fast.asked[-1]
    assert fast.asked[0] >= READ_PIECE and fast.asked[-1] == MAX_READ_PIECE


def test_a_large_read_grants_a_stall_no_more_than_a_small_one() -> None:
    """A stream far ahead reads a mebibyte at once; if it then stalls inside that read, it is
    closed at the moment it would have been with READ_PIECE reads: when what it handed out,
    plus READ_PIECE, is behind the rate."""
    clock = Clock()
    guard = _guard(clock)
    fast = Trickle(clock, RATE * 100)
    with guard.streaming(fast) as body:
        while fast.asked[-1:] != [MAX_READ_PIECE]:
            body.read(1 << 20)
        stalled_at = (body.received + READ_PIECE) / RATE + GRACE  # seconds after the start
        clock.now = body.started + stalled_at - 0.5
        assert guard.check() == 0
        clock.now = body.started + stalled_at + 0.5
        assert guard.check() == 1


def test_a_stalled_client_is_disconnected_and_its_thread_freed(slow_intake: Intake) -> None:
    """A client that sends 100 bytes of a declared 100 000 and then nothing: the watchdog
    shuts its connection down once it is behind, and the thread goes back to serving."""
    guard = guard_of(slow_intake)
    server = make_server(
        "127.0.0.1", 0, slow_intake.app, threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stalled = socket.create_connection(("127.0.0.1", server.server_port), timeout=30)
        stalled.sendall(
            b"POST /submit HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 100000\r\n\r\n" + b"--b\r\n" + b"x" * 95
        )
        wait_until(lambda: guard.active == 1)
        assert guard.check() == 0  # within its grace
        guard.clock.now += GRACE + (READ_PIECE + 100) / RATE + 1
        assert guard.check() == 1
        # The connection ends (an error page, or just closed) instead of hanging forever.
        received = b""
        while block := stalled.recv(65536):
            received += block
        assert received == b"" or received.startswith(b"HTTP/1.")
        wait_until(lambda: guard.active == 0)
        stalled.close()
    finally:
        server.shutdown()
        thread.join()
    slow_intake.assert_nothing_stored()


def wait_until(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Waits for a condition another thread brings about (not a sleep standing in for one)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never came about"
        time.sleep(0.01)
