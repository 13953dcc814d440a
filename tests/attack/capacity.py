"""Capacity attacks (issue 17 G1, issue 18): what anyone may send, sent by many circuits at
once, must cost its senders, never the person sending a text.

- ``starts``: upload starts from 1,050 circuits, each as many as nginx's burst lets through
  (10), declaring a small envelope; one in ten sends a single byte (so that the uploads under
  way reach SEALDROP_MAX_UNFINISHED_UPLOADS), the rest nothing. Until issue 17 this refused
  every text for half an hour. Now a start is only a name, a byte makes an upload in progress,
  and no count of those ever refuses a text.
- ``text flood``: 300 circuits each sending valid short texts at the rate nginx allows a
  circuit (a burst of 10, then 20 a minute): the machine's whole capacity for texts, shared
  with the people beside them.
"""

from __future__ import annotations

import http.client
import json
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from crypto.envelope import MAGIC, header_length, padded_length, sealed_payload_length
from tests.support.stack import CircuitClient, Stack, circuit_id

from .harness import AttackLog

START_CIRCUITS = 1050
STARTS_PER_CIRCUIT = 10  # nginx's burst for upload starts (limit_req ... burst=10)
# Few enough that the attack fills it within its 15 s on a shared 2-core machine.
MAX_UNFINISHED = 300
FLOOD_CIRCUITS = 300
FLOOD_BURST = 10
FLOOD_PER_MINUTE = 20


def _small_envelope_size() -> int:
    """2,187 bytes: a short text sealed for one reviewer, as in the report of G1."""
    return header_length(1) + sealed_payload_length(padded_length(1))


def upload_starts_g1(stack: Stack, until: float, log: AttackLog) -> None:
    size = _small_envelope_size()
    body = json.dumps({"size": size}).encode()
    json_type = {"Content-Type": "application/json"}

    def one(n: int) -> None:
        if time.monotonic() >= until:
            return
        circuit = circuit_id(20_000 + n % START_CIRCUITS)
        client = CircuitClient("127.0.0.1", stack.proxy_port, timeout=5, circuit=circuit)
        try:
            reply = client.request("POST", "/api/v1/uploads", body, json_type)
            log.count(f"start {reply.status}")
            if reply.status == 201 and n % 10 == 0:  # one in ten sends a byte, then nothing
                upload = json.loads(reply.body)["id"]
                put = client.request(
                    "PUT",
                    f"/api/v1/uploads/{upload}?offset=0",
                    MAGIC[:1],  # a right first byte: the upload is under way
                    {"Content-Type": "application/octet-stream"},
                )
                log.count(f"one byte {put.status}")
        except (OSError, http.client.HTTPException):
            log.count("error")

    with ThreadPoolExecutor(48) as pool:
        list(pool.map(one, range(START_CIRCUITS * STARTS_PER_CIRCUIT)))


def text_flood(stack: Stack, until: float, log: AttackLog) -> None:
    canary = f"flood-canary-{secrets.token_hex(6)}"
    log.canaries.append(canary.encode())
    began = time.monotonic()

    def allowed(sent: int) -> float:
        """When a circuit may send its next text: its burst at once, then at the rate."""
        return began + max(0, sent - FLOOD_BURST + 1) * 60 / FLOOD_PER_MINUTE

    def circuit_loop(n: int) -> None:
        client = CircuitClient(
            "127.0.0.1", stack.proxy_port, timeout=30, circuit=circuit_id(40_000 + n)
        )
        sent = 0
        while True:
            wait = allowed(sent) - time.monotonic()
            if time.monotonic() + max(wait, 0) >= until:
                return
            if wait > 0:
                time.sleep(wait)  # the circuit's allowed pace, not a synchronisation
            try:
                # a browser's boundary: each text is also remembered against a resend
                reply = client.submit_nojs(
                    f"{canary} {n} {sent}: a short, valid text", [], browser=True
                )
                log.count(reply.status)
            except (OSError, http.client.HTTPException):
                log.count("error")
            sent += 1

    threads = [threading.Thread(target=circuit_loop, args=(n,)) for n in range(FLOOD_CIRCUITS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
