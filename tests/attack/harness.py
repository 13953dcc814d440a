"""Attacks on the production stack (tests/support/stack.py), each beside legitimate submitters.

    outcome = run(ATTACKS["idle"], root)          # the attack, with legitimate traffic beside it
    outcome = run(ATTACKS["idle"], root, attack=False)   # the same traffic, no attack

Every attack runs for ATTACK_SECONDS (at most 20 s), on loopback, and stops by itself; every
socket has a timeout. The legitimate traffic, from circuits of its own (people, one circuit
each), is: a no-JavaScript text submission and a reply check, one after the other in a loop,
and one 10 MiB upload through the chunk API, sealed in Python as the browser seals it (it
retries on 429/502/503/504 as the browser's upload.js does). A watcher samples the bytes
stored throughout, to show the budget is never exceeded; afterwards every file the stack
could have written is searched for the legitimate and attacking canaries and circuit ids.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import socket
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from crypto.codename import Codename
from crypto.envelope import header_length, padded_length, sealed_payload_length
from tests.deploy.helpers import multipart, seal
from tests.support.stack import CircuitClient, Stack, circuit_id, proxy_line, running_stack

ATTACK_SECONDS = 15.0
RAMP_SECONDS = 2.0  # the attack gets going before the legitimate traffic starts
UPLOAD_BYTES = 10 << 20
CHUNK_BYTES = 1 << 20
RETRYABLE = (429, 502, 503, 504)
MIB = 1 << 20
# Circuit numbers: attackers below 1 << 24, legitimate people above.
LEGIT_BASE = 1 << 24
CIRCUIT_TRACE = b"dead:beef"  # in every circuit id tor writes


@dataclass
class Sample:
    ok: bool
    seconds: float
    status: int | str


@dataclass
class Outcome:
    attack: str
    under_attack: bool
    samples: dict[str, list[Sample]]
    budget: int | None
    most_stored: int
    attack_note: str
    leaks: list[tuple[str, bytes]]


@dataclass
class Attack:
    name: str
    title: str
    # Extra SEALDROP_* settings for the stack (a small budget, for instance).
    env: dict[str, str]
    run: Callable[[Stack, float, AttackLog], None]
    # The legitimate people also send small texts through the JS upload API.
    js_texts: bool = False
    # What the legitimate 10 MiB upload may end as, besides stored: e.g. " 503" (told to
    # wait: the uploads under way are at their limit; texts never are).
    upload_may_end: tuple[str, ...] = ()


@dataclass
class AttackLog:
    """What the attacker saw (for the table), and the canaries it sent."""

    statuses: dict[str, int] = field(default_factory=dict)
    canaries: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int | str) -> None:
        with self.lock:
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1

    def note(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))


_circuit_counter = iter(range(LEGIT_BASE, LEGIT_BASE + 10_000_000))
_counter_lock = threading.Lock()


def person() -> str:
    """A fresh circuit, as a new person arriving through Tor would have."""
    with _counter_lock:
        return circuit_id(next(_circuit_counter))


# --- legitimate traffic -------------------------------------------------------------------


def nojs_text(stack: Stack, canaries: list[bytes]) -> Sample:
    token = f"legit-text-{secrets.token_hex(6)}"
    canaries.append(token.encode())
    began = time.monotonic()
    try:
        reply = stack.client(person(), timeout=30).submit_nojs(
            f"{token}: what happened", [], browser=True
        )
        return Sample(reply.status == 200, time.monotonic() - began, reply.status)
    except (OSError, http.client.HTTPException) as exc:
        return Sample(False, time.monotonic() - began, type(exc).__name__)


def reply_check(stack: Stack) -> Sample:
    began = time.monotonic()
    try:
        # A whole codename, so that the server derives its mailbox v2 ids (PBKDF2) as it does
        # for every person's check.
        reply = stack.client(person(), timeout=30).request(
            "POST",
            "/replies?lang=en",
            codename_form(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        return Sample(reply.status == 200, time.monotonic() - began, reply.status)
    except (OSError, http.client.HTTPException) as exc:
        return Sample(False, time.monotonic() - began, type(exc).__name__)


def codename_form() -> bytes:
    """A reply check's form with a new valid codename (no replies: as costly as it gets)."""
    return b"codename=" + str(Codename.generate()).replace(" ", "+").encode()


def _json_request(
    client: CircuitClient, method: str, path: str, body: bytes, content_type: str, deadline: float
) -> tuple[int, dict[str, object]]:
    """One API request, retried while the answer says to (as upload.js does)."""
    while True:
        try:
            reply = client.request(method, path, body, {"Content-Type": content_type})
            status = reply.status
            if status not in RETRYABLE:
                try:
                    return status, json.loads(reply.body or b"{}")
                except ValueError:  # not our API's answer (a page from nginx): say what came
                    return status, {"unreadable": reply.body[:200].decode("latin-1")}
        except (OSError, http.client.HTTPException):
            status = 0
        if time.monotonic() > deadline:
            return status, {}
        time.sleep(0.5)  # the browser's back-off before it retries, bounded by the deadline


def js_upload(stack: Stack, envelope: bytes, deadline: float) -> Sample:
    began = time.monotonic()
    client = stack.client(person(), timeout=30)
    size = json.dumps({"size": len(envelope)}).encode()
    status, created = _json_request(
        client, "POST", "/api/v1/uploads", size, "application/json", deadline
    )
    if status != 201:
        return Sample(False, time.monotonic() - began, f"create {status}")
    upload = created["id"]
    offset = 0
    while offset < len(envelope):
        piece = envelope[offset : offset + CHUNK_BYTES]
        path = f"/api/v1/uploads/{upload}?offset={offset}"
        status, body = _json_request(
            client, "PUT", path, piece, "application/octet-stream", deadline
        )
        if status != 200:
            unreadable = f" ({body['unreadable']!r})" if "unreadable" in body else ""
            return Sample(False, time.monotonic() - began, f"put{unreadable} {status}")
        offset = int(body["received"])  # type: ignore[call-overload]
        if body.get("stored") is True:  # a small upload stored whole: as upload.js, no finish
            return Sample(True, time.monotonic() - began, 200)
    status, _ = _json_request(
        client, "POST", f"/api/v1/uploads/{upload}/finish", b"{}", "application/json", deadline
    )
    return Sample(status == 201, time.monotonic() - began, status)


def js_text(stack: Stack, canaries: list[bytes], deadline: float) -> Sample:
    """A short text sealed as the browser seals it and sent through the upload API."""
    token = f"legit-js-text-{secrets.token_hex(6)}"
    canaries.append(token.encode())
    return js_upload(
        stack, seal(stack.deployment.identity, f"{token}: what happened", []), deadline
    )


def legit_traffic(
    stack: Stack,
    until: float,
    samples: dict[str, list[Sample]],
    canaries,
    js_texts: bool = False,
) -> None:
    """Texts and reply checks in a loop, and one 10 MiB upload alongside, until ``until``."""
    token = f"legit-upload-{secrets.token_hex(6)}"
    canaries.append(token.encode())
    envelope = seal(
        stack.deployment.identity, token, [(f"{token}.bin", "x/y", os.urandom(UPLOAD_BYTES))]
    )

    def upload() -> None:
        samples["upload"].append(js_upload(stack, envelope, until + 10))

    def send_js_texts() -> None:  # another person, beside the first, using JavaScript
        while time.monotonic() < until:
            samples["js text"].append(js_text(stack, canaries, time.monotonic() + 30))

    helpers = [threading.Thread(target=upload)]
    if js_texts:
        helpers.append(threading.Thread(target=send_js_texts))
    for helper in helpers:
        helper.start()
    while time.monotonic() < until:
        samples["text"].append(nojs_text(stack, canaries))
        samples["reply check"].append(reply_check(stack))
    for helper in helpers:
        helper.join()


# --- the attacks --------------------------------------------------------------------------


def _raw(circuit: str, port: int, timeout: float = 5) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(proxy_line(circuit, sock.getsockname()[1]))
    return sock


def idle_connections(stack: Stack, until: float, log: AttackLog) -> None:
    """1,000 connections over 50 circuits that send half a request header, then nothing."""
    held: list[socket.socket] = []
    try:
        for n in range(1000):
            try:
                sock = _raw(circuit_id(n % 50), stack.proxy_port)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                held.append(sock)
                log.count("held")
            except OSError:
                log.count("refused")
        while time.monotonic() < until:
            time.sleep(0.2)  # holding the connections open until the attack's end
    finally:
        for sock in held:
            sock.close()


def slow_bodies(stack: Stack, until: float, log: AttackLog) -> None:
    """From 10 circuits, as many no-JS posts and chunk PUTs as nginx lets each one hold,
    each trickling 90 bytes and then a byte a second."""
    canary = f"slow-canary-{secrets.token_hex(6)}".encode()
    log.canaries.append(canary)

    def one(n: int) -> None:
        circuit = circuit_id(1000 + n % 10)
        while time.monotonic() < until:
            try:
                with _raw(circuit, stack.proxy_port, timeout=2) as sock:
                    sock.sendall(
                        b"POST /submit?lang=en HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/"
                        b"form-data; boundary=b\r\nContent-Length: 10000000\r\n\r\n"
                        b'--b\r\nContent-Disposition: form-data; name="message"\r\n\r\n' + canary
                    )
                    log.count(_trickle(sock, until))
            except OSError:
                log.count("refused")
            if time.monotonic() < until:
                time.sleep(0.5)  # the attacker's pause before it tries again

    with ThreadPoolExecutor(60) as pool:
        list(pool.map(one, range(60)))


def _trickle(sock: socket.socket, until: float) -> str:
    """A byte a second until the end, or until the server answers or closes."""
    while time.monotonic() < until:
        sock.sendall(b"x")
        try:
            answer = sock.recv(4096, socket.MSG_DONTWAIT)
            return f"answered {answer[9:12].decode(errors='replace')}" if answer else "closed"
        except (BlockingIOError, TimeoutError):  # nothing to read yet (a socket with a timeout)
            pass
        time.sleep(1)  # the attack's pace: a byte a second
    return "held to the end"


def post_upload_start(
    stack: Stack, circuit: str, body: bytes, timeout: float, log: AttackLog
) -> None:
    """One upload start (POST /api/v1/uploads) from ``circuit``; its answer counted in ``log``."""
    client = CircuitClient("127.0.0.1", stack.proxy_port, timeout=timeout, circuit=circuit)
    try:
        reply = client.request(
            "POST", "/api/v1/uploads", body, {"Content-Type": "application/json"}
        )
        log.count(reply.status)
    except (OSError, http.client.HTTPException):
        log.count("error")


def upload_starts(stack: Stack, until: float, log: AttackLog) -> None:
    """2,000 upload starts declaring 1.9 GiB each (the most allowed), from 200 circuits,
    no byte ever sent."""
    # The largest padded envelope under the 2 GiB limit (1.94 GiB).
    size = header_length(1) + sealed_payload_length(padded_length((2 << 30) - (64 << 20)))
    body = json.dumps({"size": size}).encode()

    def one(n: int) -> None:
        if time.monotonic() >= until:
            return
        post_upload_start(stack, circuit_id(2000 + n % 200), body, 5, log)

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(one, range(2000)))


def fill_budget(stack: Stack, until: float, log: AttackLog) -> None:
    """From 40 circuits, real bytes: 4 MiB uploads and 2 MiB no-JS posts, as fast as loopback
    carries them, until the time is up."""
    canary = f"fill-canary-{secrets.token_hex(6)}"
    log.canaries.append(canary.encode())
    envelope = seal(stack.deployment.identity, canary, [("f.bin", "x/y", os.urandom(4 * MIB))])
    files = [(f"{canary}.bin", "x/y", canary.encode() + os.urandom(2 * MIB))]

    def one(n: int) -> None:
        circuit = circuit_id(5000 + n)
        while time.monotonic() < until:
            client = CircuitClient("127.0.0.1", stack.proxy_port, timeout=10, circuit=circuit)
            try:
                if n % 2:
                    log.count(f"upload {js_upload_once(client, envelope)}")
                else:
                    log.count(f"post {client.submit_nojs(canary, files).status}")
            except (OSError, http.client.HTTPException):
                log.count("error")

    with ThreadPoolExecutor(40) as pool:
        list(pool.map(one, range(40)))


def js_upload_once(client: CircuitClient, envelope: bytes) -> int:
    created = client.request(
        "POST",
        "/api/v1/uploads",
        json.dumps({"size": len(envelope)}).encode(),
        {"Content-Type": "application/json"},
    )
    if created.status != 201:
        return created.status
    upload = json.loads(created.body)["id"]
    for offset in range(0, len(envelope), CHUNK_BYTES):
        put = client.request(
            "PUT",
            f"/api/v1/uploads/{upload}?offset={offset}",
            envelope[offset : offset + CHUNK_BYTES],
            {"Content-Type": "application/octet-stream"},
        )
        if put.status != 200:
            return put.status
    finish = client.request(
        "POST", f"/api/v1/uploads/{upload}/finish", b"{}", {"Content-Type": "application/json"}
    )
    return finish.status


def concurrent_posts(stack: Stack, until: float, log: AttackLog) -> None:
    """100 no-JS posts of 1.5 MiB at once, from 50 circuits, against a 64 MiB budget; again
    each time a wave ends, until the time is up."""
    canary = f"wave-canary-{secrets.token_hex(6)}"
    log.canaries.append(canary.encode())
    files = [("w.bin", "x/y", canary.encode() + os.urandom(3 * MIB // 2))]
    body, content_type = multipart({"message": canary}, files)

    def one(n: int) -> None:
        client = CircuitClient(
            "127.0.0.1", stack.proxy_port, timeout=15, circuit=circuit_id(8000 + n % 50)
        )
        try:
            reply = client.request("POST", "/submit?lang=en", body, {"Content-Type": content_type})
            log.count(reply.status)
        except (OSError, http.client.HTTPException):
            log.count("error")

    with ThreadPoolExecutor(100) as pool:
        while time.monotonic() < until:
            list(pool.map(one, range(100)))


def reply_flood(stack: Stack, until: float, log: AttackLog) -> None:
    """Reply checks as fast as 5 circuits can send them, 4 connections each."""

    def one(n: int) -> None:
        client = CircuitClient(
            "127.0.0.1", stack.proxy_port, timeout=10, circuit=circuit_id(9000 + n % 5)
        )
        while time.monotonic() < until:
            try:
                reply = client.request(
                    "POST",
                    "/replies?lang=en",
                    b"codename=" + b"+".join([b"guess"] * 7),
                    {"Content-Type": "application/x-www-form-urlencoded"},
                )
                log.count(reply.status)
            except (OSError, http.client.HTTPException):
                log.count("error")

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(one, range(20)))


BIG_BUDGET = {"SEALDROP_STORAGE_BUDGET_BYTES": str(2 << 30)}
ATTACKS = {
    attack.name: attack
    for attack in [
        Attack(
            "idle", "1,000 idle half-open connections, 50 circuits", BIG_BUDGET, idle_connections
        ),
        Attack("slow", "slow bodies, 10 circuits, 60 senders", BIG_BUDGET, slow_bodies),
        Attack(
            "starts",
            "2,000 upload starts declaring 1.9 GiB, 200 circuits",
            BIG_BUDGET,
            upload_starts,
        ),
        Attack(
            "fill",
            "filling a 160 MiB budget with real bytes, 40 circuits",
            {"SEALDROP_STORAGE_BUDGET_BYTES": str(160 * MIB)},
            fill_budget,
        ),
        Attack(
            "posts",
            "100 concurrent 1.5 MiB no-JS posts, 64 MiB budget",
            {"SEALDROP_STORAGE_BUDGET_BYTES": str(64 * MIB)},
            concurrent_posts,
        ),
        Attack("replies", "reply-check flood from 5 circuits", BIG_BUDGET, reply_flood),
    ]
}


def _capacity_attacks() -> list[Attack]:
    from . import capacity

    return [
        Attack(
            "g1-starts",
            f"{capacity.START_CIRCUITS * capacity.STARTS_PER_CIRCUIT:,} upload starts of a text "
            f"from {capacity.START_CIRCUITS:,} circuits, one in ten sending a byte",
            {**BIG_BUDGET, "SEALDROP_MAX_UNFINISHED_UPLOADS": str(capacity.MAX_UNFINISHED)},
            capacity.upload_starts_g1,
            js_texts=True,
            upload_may_end=(" 503",),
        ),
        Attack(
            "text-flood",
            f"valid short texts from {capacity.FLOOD_CIRCUITS} circuits at their allowed rate",
            BIG_BUDGET,
            capacity.text_flood,
            js_texts=True,
        ),
    ]


ATTACKS.update((attack.name, attack) for attack in _capacity_attacks())


# --- running one ---------------------------------------------------------------------------


def stored_bytes(stack: Stack) -> int:
    data_dir = Path(stack.deployment.env["SEALDROP_DATA_DIR"])
    total = 0
    for sub in ("blobs", "uploads"):
        with contextlib.suppress(FileNotFoundError), os.scandir(data_dir / sub) as entries:
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):
                    if entry.is_file():
                        total += entry.stat().st_size
    return total


def search_written(stack: Stack, needles: list[bytes]) -> list[tuple[str, bytes]]:
    data_dir = Path(stack.deployment.env["SEALDROP_DATA_DIR"])
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    files += [*stack.written_by_nginx(), stack.gunicorn_log]
    hits = []
    for path in files:
        content = path.read_bytes()
        hits += [(str(path), needle) for needle in needles if needle in content]
    return hits


def run(attack: Attack, root: Path, under_attack: bool = True) -> Outcome:
    samples: dict[str, list[Sample]] = {"text": [], "reply check": [], "upload": []}
    if attack.js_texts:
        samples["js text"] = []
    canaries: list[bytes] = []
    log = AttackLog()
    with running_stack(root, attack.env) as stack:
        budget_text = stack.deployment.env.get("SEALDROP_STORAGE_BUDGET_BYTES")
        budget = int(budget_text) if budget_text else None
        most = 0
        done = threading.Event()

        def watch() -> None:
            nonlocal most
            while not done.is_set():
                most = max(most, stored_bytes(stack))
                done.wait(0.1)

        watcher = threading.Thread(target=watch)
        watcher.start()
        began = time.monotonic()
        until = began + ATTACK_SECONDS
        attacker = None
        if under_attack:
            attacker = threading.Thread(target=attack.run, args=(stack, until, log))
            attacker.start()
            time.sleep(RAMP_SECONDS)  # the attack takes hold before the people arrive
        try:
            legit_traffic(stack, until, samples, canaries, attack.js_texts)
        finally:
            if attacker is not None:
                attacker.join()
            done.set()
            watcher.join()
        most = max(most, stored_bytes(stack))
        leaks = search_written(stack, [*canaries, *log.canaries, CIRCUIT_TRACE])
    return Outcome(attack.name, under_attack, samples, budget, most, log.note(), leaks)


def summary(samples: list[Sample]) -> tuple[float, float, float]:
    """(success rate, median seconds, p95 seconds) of the samples."""
    if not samples:
        return 0.0, float("nan"), float("nan")
    seconds = sorted(s.seconds for s in samples)
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    return sum(s.ok for s in samples) / len(samples), statistics.median(seconds), p95
