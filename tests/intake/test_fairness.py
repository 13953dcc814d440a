"""Invariant 6: nobody switches the drop off cheaply. Storage is charged for bytes received,
unfinished uploads hold a bounded share, a slice is kept for texts, every write checks the
budget and the disk first, and the bookkeeping does not grow with the uploads under way."""

from __future__ import annotations

import shutil
import threading
import time
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import event, insert
from werkzeug.serving import make_server

from intake.config import MIB
from intake.db import Upload
from intake.serve import QuietHandler

from .conftest import Intake, build
from .helpers import post_form, seal, upload

KIB = 1024


@pytest.fixture
def make(tmp_path: Path, watched_tmp: Path, captured_log):  # type: ignore[no-untyped-def]
    def make(**extra: object) -> Intake:
        return build(tmp_path, watched_tmp, captured_log, **extra)

    return make


def store_of(intake: Intake):  # type: ignore[no-untyped-def]
    return intake.app.extensions["sealdrop"]


def start(intake: Intake, size: int, lang: str = "en"):  # type: ignore[no-untyped-def]
    return intake.client.post(f"/api/v1/uploads?lang={lang}", json={"size": size})


def put(intake: Intake, upload_id: str, offset: int, data: bytes):  # type: ignore[no-untyped-def]
    return intake.client.put(
        f"/api/v1/uploads/{upload_id}?offset={offset}",
        data=data,
        content_type="application/octet-stream",
    )


def large_envelope(intake: Intake, size: int) -> bytes:
    return seal([intake.public_key], "big", [("big.bin", "application/octet-stream", b"x" * size)])


# --- charged for what arrives ------------------------------------------------------------


def test_declared_sizes_reserve_nothing(make) -> None:  # type: ignore[no-untyped-def]
    """13 starts declaring 3 MiB each against a 10 MiB budget: none is charged a byte, and a
    text still gets through (today's attack reserved the whole budget this way)."""
    intake = make(STORAGE_BUDGET_BYTES=10 * MIB, SMALL_RESERVE_BYTES=MIB)
    size = len(large_envelope(intake, 3 * MIB - 4 * KIB))
    for _ in range(13):
        assert start(intake, size).status_code == 201
    assert store_of(intake).used_bytes() == 0
    assert post_form(intake.client, "a text gets through").status_code == 200
    assert upload(intake.client, seal([intake.public_key], "and by JS")).status_code == 201


def test_unfinished_uploads_hold_at_most_their_share_then_starts_are_busy(make) -> None:  # type: ignore[no-untyped-def]
    intake = make(
        STORAGE_BUDGET_BYTES=10 * MIB, SMALL_RESERVE_BYTES=2 * MIB, UNFINISHED_SHARE_PERCENT=25
    )  # 8 MiB for anything, 2 MiB of it for unfinished large uploads
    envelope = large_envelope(intake, 3 * MIB)
    holder = start(intake, len(envelope)).json["id"]
    chunk = MIB
    for offset in (0, chunk):
        assert put(intake, holder, offset, envelope[offset : offset + chunk]).status_code == 200
    # The share is full: the next byte of a large upload, and a new large start, are busy.
    refused = put(intake, holder, 2 * chunk, envelope[2 * chunk : 3 * chunk])
    assert refused.status_code == 503 and refused.json["error"] == "busy"
    assert refused.headers["Retry-After"] == "300"
    busy = start(intake, len(envelope), lang="ru")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "300"
    assert "подождите несколько минут" in busy.json["message"]
    assert "storage" not in busy.json["message"]
    assert store_of(intake).used_bytes() == 2 * MIB  # what arrived, not what was declared
    # A small submission is not held up by them.
    assert upload(intake.client, seal([intake.public_key], "small")).status_code == 201
    assert post_form(intake.client, "small, without JS").status_code == 200


def test_a_slice_is_kept_for_texts_until_it_is_full_too(make) -> None:  # type: ignore[no-untyped-def]
    intake = make(
        STORAGE_BUDGET_BYTES=5 * MIB,
        SMALL_RESERVE_BYTES=2 * MIB,
        UNFINISHED_SHARE_PERCENT=100,
        MAX_SUBMISSION_BYTES=3 * MIB,
    )
    big = large_envelope(intake, 1536 * KIB)
    assert upload(intake.client, big).status_code == 201  # 1.5 MiB of the 3 for anything
    again = start(intake, len(big))
    assert again.status_code == 507 and again.json["error"] == "storage-full"
    # Texts keep coming: the general space's last 1.5 MiB, then the kept slice.
    text = seal([intake.public_key], "t" * 400 * KIB)
    stored = 0
    while upload_or_refusal(intake, text) == 201:
        stored += 1
    assert stored == (5 * MIB - len(big)) // len(text)
    assert post_form(intake.client, "t" * 400 * KIB).status_code == 507  # now all is full
    assert store_of(intake).used_bytes() <= 5 * MIB


def upload_or_refusal(intake: Intake, envelope: bytes) -> int:
    created = start(intake, len(envelope))
    if created.status_code != 201:
        return created.status_code
    upload_id = created.json["id"]
    sent = put(intake, upload_id, 0, envelope)
    if sent.status_code != 200:
        return sent.status_code
    return intake.client.post(f"/api/v1/uploads/{upload_id}/finish", json={}).status_code


def test_uploads_without_progress_expire_and_give_back_their_charge(make) -> None:  # type: ignore[no-untyped-def]
    intake = make(STORAGE_BUDGET_BYTES=10 * MIB, UPLOAD_IDLE_MINUTES=30)
    store = store_of(intake)
    now = [1_800_000_000.0]
    store.clock = lambda: now[0]
    envelope = seal([intake.public_key], "x" * 2000)
    upload_id = start(intake, len(envelope)).json["id"]
    assert put(intake, upload_id, 0, envelope[:1000]).status_code == 200
    assert store.used_bytes() == 1000
    now[0] += 29 * 60
    assert store.cleanup_expired_uploads() == 0
    assert put(intake, upload_id, 1000, envelope[1000:1500]).status_code == 200  # progress
    now[0] += 29 * 60
    assert store.cleanup_expired_uploads() == 0  # 29 minutes since the last progress
    now[0] += 17 * 60
    assert store.cleanup_expired_uploads() == 1  # 46: past the timeout and its half
    assert store.used_bytes() == 0 and intake.files("uploads") == []
    assert intake.client.get(f"/api/v1/uploads/{upload_id}").status_code == 404


def test_too_many_uploads_under_way_is_busy_not_full(make) -> None:  # type: ignore[no-untyped-def]
    intake = make(MAX_UNFINISHED_UPLOADS=3)
    envelope = seal([intake.public_key], "hello")
    for _ in range(3):
        assert (
            put(intake, start(intake, len(envelope)).json["id"], 0, envelope[:100]).status_code
            == 200
        )
    refused = put(intake, start(intake, len(envelope)).json["id"], 0, envelope[:100])
    assert refused.status_code == 503 and refused.json["error"] == "busy"
    # Issue 17, G1: no count ever refuses a text, sent whole with JS or without.
    assert upload(intake.client, envelope).status_code == 201
    assert post_form(intake.client, "a text").status_code == 200
    assert intake.counts() == (2, 3)


def test_starts_that_send_nothing_hold_nothing(make) -> None:  # type: ignore[no-untyped-def]
    """Issue 17, G1: 2,000 starts that never send a byte write no row and no file, so they
    take nothing a text needs, however few uploads may be under way."""
    intake = make(MAX_UNFINISHED_UPLOADS=1, STORAGE_BUDGET_BYTES=10 * MIB)
    envelope = seal([intake.public_key], "hello")
    store = store_of(intake)
    writes: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SELECT", "PRAGMA")):
            writes.append(statement)

    store._next_expiry_check = float("inf")  # the once-a-minute expiry pass aside
    event.listen(store.engine, "before_cursor_execute", count)
    for _ in range(2000):
        assert start(intake, len(envelope)).status_code == 201
    event.remove(store.engine, "before_cursor_execute", count)
    assert writes == [] and intake.files("uploads") == [] and intake.counts() == (0, 0)
    assert upload(intake.client, envelope).status_code == 201
    assert post_form(intake.client, "a text").status_code == 200


def test_a_large_no_js_post_is_charged_in_steps_never_ahead_of_what_arrived(
    make, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A 3 MiB post sealed to a file: charged a mebibyte at a time (not per write), each
    charge before its bytes are written, and never more than the body received so far seals
    to, plus at most the one write that needs it."""
    from crypto.gcm_stream import SEAL_BATCH, SEALED_CHUNK_SIZE
    from intake import nojs, sealwriter

    intake = make(MAX_SUBMISSION_BYTES=8 * MIB)
    store = store_of(intake)
    received = [0]
    charged: list[int] = []
    original_read, original_charge = nojs._read, store.charge

    def read(stream):  # type: ignore[no-untyped-def]
        block = original_read(stream)
        received[0] += len(block)
        return block

    def charge(upload_id: str, n: int, small: bool) -> None:
        original_charge(upload_id, n, small)
        charged.append(n)
        arrived = received[0] + received[0] // sealwriter.EXPANSION
        assert sum(charged) <= arrived + SEAL_BATCH * SEALED_CHUNK_SIZE, (charged, received)

    monkeypatch.setattr(nojs, "_read", read)
    monkeypatch.setattr(store, "charge", charge)
    size = 3 * MIB
    files = [("big.bin", "application/octet-stream", b"z" * size)]
    assert post_form(intake.client, "big", files).status_code == 200
    # The header (written before the body is read), a mebibyte at a time as the reads grow,
    # the padding: not one per write (a dozen).
    assert sum(charged) >= size and len(charged) <= size // sealwriter.WRITE_BYTES + 3, charged
    assert store.ledger().unfinished_large == 0


# --- atomic across threads, and the disk reserve before every write ----------------------------


def test_parallel_no_js_posts_never_exceed_the_budget(make) -> None:  # type: ignore[no-untyped-def]
    """Six simultaneous 3 MiB posts against a budget with room for two: each write is charged
    before it is made, so at most two are stored and the budget is never crossed (today all
    six were stored against it)."""
    budget = 7 * MIB
    intake = make(
        STORAGE_BUDGET_BYTES=budget,
        SMALL_RESERVE_BYTES=0,
        UNFINISHED_SHARE_PERCENT=100,
        MAX_SUBMISSION_BYTES=4 * MIB,
    )
    server = make_server("127.0.0.1", 0, intake.app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    store = store_of(intake)
    try:
        body = b"y" * 3 * MIB
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(lambda _: post_raw(server.server_port, body), range(6)))
    finally:
        server.shutdown()
        thread.join()
    # Charged by what arrives, concurrent large posts may also all run out of room part-way
    # (each answered "busy"); what matters is that the budget is never crossed.
    assert statuses.count(200) <= 2, statuses
    assert set(statuses) <= {200, 503, 507}
    assert store.used_bytes() <= budget
    assert sum(p.stat().st_size for p in intake.files("blobs")) <= budget
    assert intake.files("tmp") == [] and intake.counts() == (statuses.count(200), 0)
    assert store.ledger().unfinished_large == 0 and store.ledger().unfinished_count == 0


def post_raw(port: int, body: bytes) -> int:
    import http.client

    boundary = "fairness-boundary"
    payload = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="f.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "POST",
            "/submit",
            body=payload,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    except (ConnectionError, http.client.HTTPException):
        return 0  # answered before the body was sent: refused
    finally:
        connection.close()


DiskUsage = namedtuple("DiskUsage", "total used free")


def test_the_disk_reserve_is_checked_before_every_write(make, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The disk has 3 MiB above the reserve when a 1 MiB post starts; then something else
    takes 2 MiB. The post is refused at the write that would cross the reserve, not 64 MiB
    later, and the reserve is never touched."""
    reserve = 10 * MIB
    intake = make(DISK_RESERVE_BYTES=reserve)
    written = [0]
    other = [0]

    def free_space(_path: object) -> DiskUsage:
        return DiskUsage(0, 0, reserve + 3 * MIB - other[0] - written[0])

    monkeypatch.setattr(shutil, "disk_usage", free_space)
    store = store_of(intake)
    original_charge = store.charge

    def charge(upload_id: str, n: int) -> None:
        other[0] = 2 * MIB  # the post has begun writing; the disk fills meanwhile
        original_charge(upload_id, n)
        written[0] += n  # what is about to be written leaves the disk

    monkeypatch.setattr(store, "charge", charge)
    files = [("big.bin", "application/octet-stream", b"z" * MIB)]
    refused = post_form(intake.client, "big", files)
    assert refused.status_code == 507, refused.status_code
    assert free_space(None).free >= reserve
    intake.assert_nothing_stored()
    other[0] = written[0] = 0
    assert post_form(intake.client, "a text").status_code == 200


# --- O(1) bookkeeping ---------------------------------------------------------------------


def test_a_start_costs_the_same_after_1500_starts(make, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    intake = make()
    store = store_of(intake)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    envelope = seal([intake.public_key], "hello")

    def one_start() -> int:
        statements.clear()
        upload_id = start(intake, len(envelope)).json["id"]
        assert put(intake, upload_id, 0, envelope[:100]).status_code == 200
        return len(statements)

    event.listen(store.engine, "before_cursor_execute", count)
    store._next_expiry_check = float("inf")  # the once-a-minute expiry pass aside
    first = one_start()
    with store.engine.begin() as connection:
        connection.execute(
            insert(Upload),
            [
                {
                    "id": f"bulk{n:05d}",
                    "nojs": False,
                    "small": True,
                    "size": 5000,
                    "received": 0,
                    "created_hour": 0,
                    "idle_tick": 10**12,
                }
                for n in range(1500)
            ],
        )
    store.recount()

    def no_scans(*_args: object) -> None:
        raise AssertionError("a start must not list the upload directory")

    monkeypatch.setattr(Path, "glob", no_scans)
    monkeypatch.setattr(Path, "iterdir", no_scans)
    assert one_start() == first
    assert store.ledger().unfinished_count == 1502


def test_texts_stored_at_once_share_one_commit_and_never_cross_the_budget(make) -> None:  # type: ignore[no-untyped-def]
    """Issue 18: 16 small envelopes finishing together are registered in one transaction
    (group commit) after the first; each is still charged on its own, so with room for 5
    exactly 5 are stored and the rest refused, with nothing left on disk for them."""
    intake = make(STORAGE_BUDGET_BYTES=10 * MIB, SMALL_RESERVE_BYTES=0)
    store = store_of(intake)
    text = seal([intake.public_key], "t" * 400 * KIB)
    room = 5
    # Fill the budget so that exactly `room` more texts fit.
    with store.engine.begin() as connection:
        store.release_stored(connection, -(10 * MIB - room * len(text)))
    held = threading.Event()
    original = store.commits._commit
    first = [True]

    def register(batch):  # type: ignore[no-untyped-def]
        if first[0]:
            first[0] = False
            assert held.wait(30)  # the first leader waits until the others have queued
        return original(batch)

    store.commits._commit = register
    before = store.commits.batches
    results: list[object] = []

    def one(_n: int) -> None:
        try:
            results.append(store.store_whole(text))
        except Exception as error:
            results.append(error)

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(one, n) for n in range(16)]
        deadline = time.monotonic() + 30
        while len(store.commits._queue) < 15 and time.monotonic() < deadline:
            time.sleep(0.01)  # polling a condition, bounded
        held.set()
        for future in futures:
            future.result()
    assert store.commits.batches - before == 2
    stored = [r for r in results if isinstance(r, str)]
    assert len(stored) == room
    assert all(getattr(r, "code", None) == "storage-full" for r in results if r not in stored)
    assert len(intake.files("blobs")) == room and intake.counts() == (room, 0)
    assert store.used_bytes() == 10 * MIB


def test_a_batch_finishing_uploads_forgets_them_at_once_and_refuses_only_the_gone_one(
    make,
) -> None:  # type: ignore[no-untyped-def]
    """Two uploads in progress finish in one group commit; one of them expired meanwhile (its
    row is gone). The other is stored and its charge moves from unfinished to stored; the
    gone one hears not-found and changes nothing."""
    from intake.db import this_hour
    from intake.errors import IntakeError
    from intake.registrar import Entry

    intake = make()
    store = store_of(intake)
    envelope = seal([intake.public_key], "hello")
    ids = []
    for _ in range(2):
        upload_id = start(intake, len(envelope)).json["id"]
        assert put(intake, upload_id, 0, envelope[:100]).status_code == 200
        ids.append(store.find_upload(upload_id).id)
    kept, gone = ids
    store.discard_upload(gone)
    assert store.ledger().unfinished_count == 1
    hour = this_hour()
    results = store._register(
        [Entry("a" * 26, 100, hour, upload=gone), Entry("b" * 26, 100, hour, upload=kept)]
    )
    assert isinstance(results[0], IntakeError) and results[0].code == "not-found"
    assert results[1] is None
    ledger = store.ledger()
    assert (ledger.unfinished_count, ledger.unfinished_small, ledger.unfinished_large) == (0, 0, 0)
    assert ledger.stored == 100 and intake.counts() == (1, 0)
