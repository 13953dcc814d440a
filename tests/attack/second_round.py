"""The server attacks of issue 17's second security test, on the production stack beside the
same legitimate people as every attack (tests/attack/harness.py): no-JS texts, JS texts,
reply checks and one 10 MiB upload. Each lasts ATTACK_SECONDS and stops by itself.

- G3: 250 circuits sending 4 KiB JSON bodies built to make a quadratic string scan crawl to
  POST /api/v1/uploads (the old reader took 0.1 s on each, and texts' p95 rose to 9-14 s).
- G5: 40 circuits, each holding 2 chunk PUTs at 3 KiB/s (just over the minimum rate): every
  streaming slot the app has; a JS text must not need one.
- Reply checks from 1,000 circuits, each at its own allowance: people's checks must not meet
  a ceiling the flood spent (42 % got through a shared one).
- G10: 800 connections holding 99.99 % of a no-JS post (half declaring 990 KB, half just under
  the 64,000 bytes nginx holds in memory): nginx's memory must stay bounded; the peak resident
  memory of its processes is reported.
"""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from crypto.envelope import header_length, padded_length, sealed_payload_length
from tests.support.stack import CircuitClient, Stack, circuit_id

from .harness import BIG_BUDGET, Attack, AttackLog, _raw, codename_form, post_upload_start

MIB = 1 << 20


def _each_until(until: float, workers: int, one: Callable[[int], None]) -> None:
    """``workers`` threads, each calling ``one(n)`` with its next number until ``until``."""
    counter = iter(range(1 << 30))
    lock = threading.Lock()

    def loop() -> None:
        while time.monotonic() < until:
            with lock:
                n = next(counter)
            one(n)

    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(loop) for _ in range(workers)]:
            future.result()


def quadratic_json(stack: Stack, until: float, log: AttackLog) -> None:
    """250 circuits, 4 KiB bodies of escaped quotes that never end, to POST /api/v1/uploads."""
    body = b'{"size":"' + b'\\"' * ((4096 - 10) // 2)
    assert len(body) <= 4096

    def one(n: int) -> None:
        post_upload_start(stack, circuit_id(20_000 + n % 250), body, 10, log)

    _each_until(until, 32, one)


def _declared_upload_size(payload: int) -> int:
    return header_length(1) + sealed_payload_length(padded_length(payload))


def slow_chunks(stack: Stack, until: float, log: AttackLog) -> None:
    """40 circuits x 2 chunk PUTs of 1 MiB, each sent at 3 KiB/s, started again when closed."""
    size = _declared_upload_size(4 * MIB)

    def one(n: int) -> None:
        circuit = circuit_id(30_000 + n // 2)
        client = CircuitClient("127.0.0.1", stack.proxy_port, timeout=10, circuit=circuit)
        while time.monotonic() < until:
            try:
                created = client.request(
                    "POST",
                    "/api/v1/uploads",
                    json.dumps({"size": size}).encode(),
                    {"Content-Type": "application/json"},
                )
                if created.status != 201:
                    log.count(f"create {created.status}")
                    time.sleep(1)  # the attacker's pause before it tries again
                    continue
                upload = json.loads(created.body)["id"]
                with _raw(circuit, stack.proxy_port, timeout=2) as sock:
                    sock.sendall(
                        f"PUT /api/v1/uploads/{upload}?offset=0 HTTP/1.1\r\nHost: x\r\n"
                        f"Content-Type: application/octet-stream\r\nContent-Length: {MIB}\r\n"
                        "\r\n".encode()
                    )
                    log.count(_trickle(sock, until, 3 * 1024))
            except (OSError, http.client.HTTPException, ValueError):
                log.count("error")

    with ThreadPoolExecutor(80) as pool:
        list(pool.map(one, range(80)))


def _trickle(sock: socket.socket, until: float, per_second: int) -> str:
    """``per_second`` bytes every second until the end, or until the server answers."""
    piece = bytes(per_second)
    while time.monotonic() < until:
        try:
            sock.sendall(piece)
            answer = sock.recv(4096, socket.MSG_DONTWAIT)
            return f"answered {answer[9:12].decode(errors='replace')}" if answer else "closed"
        except (BlockingIOError, TimeoutError):  # nothing to read yet
            pass
        except OSError:
            return "closed"
        time.sleep(1)  # the attack's pace
    return "held to the end"


def reply_flood_1000(stack: Stack, until: float, log: AttackLog) -> None:
    """Reply checks from 1,000 circuits in turn, as fast as 64 connections carry them, each
    with a valid codename, which makes the server derive mailbox v2 ids (PBKDF2)."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def one(n: int) -> None:
        client = CircuitClient(
            "127.0.0.1", stack.proxy_port, timeout=10, circuit=circuit_id(40_000 + n % 1000)
        )
        try:
            log.count(client.request("POST", "/replies?lang=en", codename_form(), form).status)
        except (OSError, http.client.HTTPException):
            log.count("error")

    _each_until(until, 64, one)


def held_bodies(stack: Stack, until: float, log: AttackLog) -> None:
    """800 connections from 200 circuits, each sending 99.99 % of a no-JS post and holding:
    half declare 990 KB, half 63,999 bytes (what nginx holds in memory); the peak resident
    memory of nginx's processes goes into the note."""
    canary = f"held-canary-{secrets.token_hex(6)}".encode()
    log.canaries.append(canary)
    peak = [_nginx_rss(stack)]
    held: list[socket.socket] = []

    def one(n: int) -> None:
        declared = 990_000 if n % 2 else 63_999
        head = (
            b"POST /submit?lang=en HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
            b"boundary=b\r\nContent-Length: " + str(declared).encode() + b"\r\n\r\n"
            b'--b\r\nContent-Disposition: form-data; name="message"\r\n\r\n' + canary
        )
        rest = b"x" * (declared * 9999 // 10000 - len(head) + head.index(b"--b"))
        try:
            sock = _raw(circuit_id(50_000 + n % 200), stack.proxy_port, timeout=5)
            sock.sendall(head)
        except OSError:
            log.count("refused")
            return
        held.append(sock)
        sock.settimeout(0.5)
        try:
            sock.sendall(rest)
            log.count("held, sent")
        except TimeoutError:
            log.count("held, not read on")  # nginx (or the app behind it) stopped reading
        except OSError:
            log.count("closed")

    try:
        with ThreadPoolExecutor(64) as pool:
            list(pool.map(one, range(800)))
        while time.monotonic() < until:
            peak[0] = max(peak[0], _nginx_rss(stack))
            time.sleep(0.5)  # sampling nginx's memory while the bodies are held
    finally:
        for sock in held:
            sock.close()
        log.count(f"nginx peak {peak[0] / MIB:.0f} MiB")


def _nginx_rss(stack: Stack) -> int:
    """The resident memory of this stack's nginx processes, in bytes."""
    marker = str(stack.nginx_dir).encode()
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker not in (entry / "cmdline").read_bytes() and not _is_nginx_child(
                entry, marker
            ):
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def _is_nginx_child(entry: Path, marker: bytes) -> bool:
    """nginx's workers show only "nginx: worker process" as their command line."""
    if not (entry / "cmdline").read_bytes().startswith(b"nginx: worker"):
        return False
    parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
    return marker in Path(f"/proc/{parent}/cmdline").read_bytes()


def nginx_peak_mib(note: str) -> float:
    """The figure held_bodies put into its note."""
    word = note.split("nginx peak ", 1)[1].split(" MiB", 1)[0]
    return float(word)


ATTACKS = {
    attack.name: attack
    for attack in [
        Attack(
            "json",
            "G3: 4 KiB quadratic-JSON bodies, 250 circuits",
            BIG_BUDGET,
            quadratic_json,
            js_texts=True,
        ),
        # The slow streams hold the slots a large upload needs (a text needs none): the 10 MiB
        # upload may still be told to wait when the attack ends.
        Attack(
            "chunks",
            "G5: 40 circuits x 2 chunk PUTs at 3 KiB/s",
            BIG_BUDGET,
            slow_chunks,
            js_texts=True,
            upload_may_end=(" 503",),
        ),
        Attack(
            "checks",
            "reply checks from 1,000 circuits",
            BIG_BUDGET,
            reply_flood_1000,
            js_texts=True,
        ),
        Attack(
            "held",
            "G10: 800 connections holding no-JS posts",
            BIG_BUDGET,
            held_bodies,
            js_texts=True,
            upload_may_end=(" 503",),
        ),
    ]
}
