"""Envelope throughput and memory, next to the raw primitives and a plain file copy: format
v1 next to raw secretstream (PyNaCl), format v2 next to raw AES-256-GCM (pyca) over the same
64 KiB chunks.

Each measurement runs in its own process so its peak RSS is its own. Rounds alternate the
operations (A B C A B C ...) and the median of the rounds is reported, so a noisy neighbour
hurts every column alike.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto import (
    CHUNK_SIZE,
    Contents,
    DirectorySink,
    Identity,
    NullSink,
    Part,
    PartInfo,
    Sealer,
    _sodium,
    gcm_stream,
    open_envelope,
    read_header,
)

GiB = 1 << 30
BLOCK = os.urandom(CHUNK_SIZE)
AD = bytes(32)


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)


def _raw_push(size: int) -> None:
    pusher = _sodium.StreamPusher(_sodium.stream_key())
    for _ in range(size // CHUNK_SIZE):
        pusher.push(BLOCK, AD, final=False)


def _raw_pull_file(envelope: Path, identity: Identity) -> None:
    """Raw secretstream pull over the same page-cached file that ``open`` reads."""
    with envelope.open("rb") as source:
        header = read_header(source)
        puller = _sodium.StreamPuller(
            identity.unseal_key(header.stanzas[0][1]), header.stream_header
        )
        ad = header.associated_data
        while chunk := source.read(CHUNK_SIZE + _sodium.STREAM_ABYTES):
            puller.pull(chunk, ad)


def _raw_gcm_seal(size: int, into: bool = False, copy: bool = False) -> None:
    """Raw AES-256-GCM over 64 KiB chunks: ``encrypt`` (a new object per chunk), or
    ``encrypt_into`` one reused buffer, as crypto.gcm_stream does; with ``copy``, each chunk
    is first copied into a buffer, the one copy v2 must make of written data (every chunk
    holds part of a record head, crypto.records.RecordWriter)."""
    aead = AESGCM(os.urandom(32))
    if copy:
        out, plain = bytearray(SEALED), bytearray(CHUNK_SIZE)
        for index in range(size // CHUNK_SIZE):
            plain[:] = BLOCK
            aead.encrypt_into(index.to_bytes(12, "big"), plain, None, out)
        return
    if into:
        out = bytearray(SEALED)
        for index in range(size // CHUNK_SIZE):
            aead.encrypt_into(index.to_bytes(12, "big"), BLOCK, None, out)
        return
    for index in range(size // CHUNK_SIZE):
        aead.encrypt(index.to_bytes(12, "big"), BLOCK, None)


RAW_KEY = bytes(32)
SEALED = CHUNK_SIZE + gcm_stream.TAG_BYTES


def _read_batches(source: BinaryIO) -> Iterator[memoryview]:
    """Sealed chunks read as opening a v2 file reads them (gcm_stream.sealed_chunks):
    READ_BATCH chunks per readinto into one reused buffer."""
    buffer = memoryview(bytearray(gcm_stream.READ_BATCH * SEALED))
    while got := source.readinto(buffer):
        for start in range(0, got, SEALED):
            yield buffer[start : min(start + SEALED, got)]


def _raw_gcm_open_file(sealed: Path, into: bool = False) -> None:
    """Raw AES-256-GCM decryption of 64 KiB chunks read from a page-cached file, read as
    ``open`` reads a v2 file."""
    aead = AESGCM(RAW_KEY)
    out = bytearray(CHUNK_SIZE)
    with sealed.open("rb") as source:
        for index, chunk in enumerate(_read_batches(source)):
            if into:
                aead.decrypt_into(index.to_bytes(12, "big"), chunk, None, out)
            else:
                aead.decrypt(index.to_bytes(12, "big"), chunk, None)


def _raw_gcm_seal_stream(source: BinaryIO, out: BinaryIO | _Discard) -> None:
    """Raw AES-256-GCM over 64 KiB chunks with the I/O that sealing a file in format v2 does
    (Sealer.add_file, crypto.records.RecordWriter): the plain file read 64 KiB at a time with
    readinto into a reused buffer, SEAL_BATCH sealed chunks per write."""
    aead = AESGCM(RAW_KEY)
    batch = memoryview(bytearray(gcm_stream.SEAL_BATCH * SEALED))
    plain = memoryview(bytearray(CHUNK_SIZE))
    index = fill = 0
    while got := source.readinto(plain):
        end = fill + got + gcm_stream.TAG_BYTES
        aead.encrypt_into(index.to_bytes(12, "big"), plain[:got], None, batch[fill:end])
        index, fill = index + 1, end
        if fill == len(batch):
            out.write(batch)
            fill = 0
    out.write(batch[:fill])


def _raw_gcm_seal_file(source_path: Path, target_path: Path | None) -> None:
    """The same, file -> file with one fsync, or a page-cached file -> discard."""
    with source_path.open("rb") as source:
        if target_path is None:
            _raw_gcm_seal_stream(source, _Discard())
            return
        with target_path.open("wb") as out:
            _raw_gcm_seal_stream(source, out)
            out.flush()
            os.fsync(out.fileno())


def _raw_gcm_open_to_vault(sealed: Path, out_dir: Path) -> None:
    """Raw AES-256-GCM open of a page-cached file into the vault's writer (DirectorySink:
    writeback started every few MiB, one fsync): what opening a v2 file does, without the
    format."""
    aead = AESGCM(RAW_KEY)
    out = memoryview(bytearray(CHUNK_SIZE))
    sink = DirectorySink(out_dir)
    info = PartInfo("file", "raw", "application/octet-stream")
    sink.begin_part(info)
    size = 0
    with sealed.open("rb") as source:
        for index, chunk in enumerate(_read_batches(source)):
            plaintext = out[: len(chunk) - gcm_stream.TAG_BYTES]
            aead.decrypt_into(index.to_bytes(12, "big"), chunk, None, plaintext)
            sink.write(plaintext)
            size += len(plaintext)
    sink.end_part(size)
    sink.commit(Contents([], [Part(info, size)]))


def _seal_memory(size: int, identity: Identity, version: int = 1) -> None:
    with Sealer(_Discard(), [identity.public_key], version=version) as sealer:
        sealer.begin_part(PartInfo("file", "bench", "application/octet-stream"))
        for _ in range(size // CHUNK_SIZE):
            sealer.write(BLOCK)
        sealer.end_part()


def _open_file(envelope: Path, identity: Identity, out_dir: Path | None) -> None:
    sink = DirectorySink(out_dir) if out_dir else NullSink()
    with envelope.open("rb") as source:
        open_envelope(source, [identity], sink)


def _seal_file(plain: Path, envelope: Path | None, identity: Identity) -> None:
    """Seals a file to a new file with one fsync, or a page-cached file -> discard."""
    with plain.open("rb") as source:
        if envelope is None:
            with Sealer(_Discard(), [identity.public_key]) as sealer:
                sealer.add_file(plain.name, "application/octet-stream", source)
            return
        with envelope.open("wb") as out:
            with Sealer(out, [identity.public_key]) as sealer:
                sealer.add_file(plain.name, "application/octet-stream", source)
            out.flush()
            os.fsync(out.fileno())


def _copy_file(plain: Path, copy: Path) -> None:
    with plain.open("rb") as source, copy.open("wb") as out:
        while block := source.read(1 << 20):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())


def _child(argv: list[str]) -> None:
    op, size, workdir = argv[0], int(argv[1]), Path(argv[2])
    identity = Identity(bytes.fromhex(argv[3]))
    start, cpu_start = time.perf_counter(), time.process_time()
    if op == "raw-push":
        _raw_push(size)
    elif op == "seal-memory":
        _seal_memory(size, identity)
    elif op == "raw-pull-file":
        _raw_pull_file(workdir / "payload.sdenv", identity)
    elif op == "open-memory":
        _open_file(workdir / "payload.sdenv", identity, None)
    elif op == "raw-gcm-seal":
        _raw_gcm_seal(size)
    elif op == "seal-memory-v2":
        _seal_memory(size, identity, version=2)
    elif op == "raw-gcm-seal-into":
        _raw_gcm_seal(size, into=True)
    elif op == "raw-gcm-seal-copy":
        _raw_gcm_seal(size, copy=True)
    elif op == "raw-gcm-seal-cached":
        _raw_gcm_seal_file(workdir / "plain", None)
    elif op == "seal-cached-v2":
        _seal_file(workdir / "plain", None, identity)
    elif op == "raw-gcm-open-file":
        _raw_gcm_open_file(workdir / "raw.gcm")
    elif op == "raw-gcm-open-file-into":
        _raw_gcm_open_file(workdir / "raw.gcm", into=True)
    elif op == "open-memory-v2":
        _open_file(workdir / "payload-v2.sdenv", identity, None)
    elif op == "raw-gcm-seal-file":
        _raw_gcm_seal_file(workdir / "plain", workdir / "copy")
    elif op == "raw-gcm-open-file-to-file":
        _raw_gcm_open_to_vault(workdir / "raw.gcm", workdir / "opened")
    elif op == "copy-file":
        _copy_file(workdir / "plain", workdir / "copy")
    elif op == "seal-file":
        _seal_file(workdir / "plain", workdir / "file.sdenv", identity)
    elif op == "open-file":
        _open_file(workdir / "file.sdenv", identity, workdir / "opened")
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_rss": peak}))


def _measure(op: str, size: int, workdir: Path, secret: str) -> dict[str, float]:
    for leftover in ("copy", "opened"):
        path = workdir / leftover
        if path.is_dir():
            for child in path.iterdir():
                child.unlink()
            path.rmdir()
        elif path.exists():
            path.unlink()
    if op == "seal-file":
        # as for the raw row's "copy": a new file, not the last round's truncated inside the
        # timing (freeing 1 GiB of page cache cost that row about a tenth of its CPU time)
        (workdir / "file.sdenv").unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "tests.bench.envelope_bench", op, str(size), str(workdir), secret],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def _prepare(workdir: Path, size: int, identity: Identity) -> None:
    with (workdir / "plain").open("wb") as out:
        for _ in range(size // CHUNK_SIZE):
            out.write(BLOCK)
    with (workdir / "payload.sdenv").open("wb") as out:
        _seal_memory_to(out, size, identity, 1)
    with (workdir / "payload-v2.sdenv").open("wb") as out:
        _seal_memory_to(out, size, identity, 2)
    aead = AESGCM(RAW_KEY)
    with (workdir / "raw.gcm").open("wb") as out:
        for index in range(size // CHUNK_SIZE):
            out.write(aead.encrypt(index.to_bytes(12, "big"), BLOCK, None))


def _seal_memory_to(out, size: int, identity: Identity, version: int) -> None:
    with Sealer(out, [identity.public_key], version=version) as sealer:
        sealer.begin_part(PartInfo("file", "bench", "application/octet-stream"))
        for _ in range(size // CHUNK_SIZE):
            sealer.write(BLOCK)
        sealer.end_part()


def run(size: int = GiB, rounds: int = 3) -> None:
    identity = Identity.generate()
    secret = identity._secret.hex()
    memory_ops = ["raw-push", "seal-memory", "raw-pull-file", "open-memory"]
    memory_ops += ["raw-gcm-seal", "raw-gcm-seal-into", "raw-gcm-seal-copy", "seal-memory-v2"]
    memory_ops += ["raw-gcm-seal-cached", "seal-cached-v2"]
    memory_ops += ["raw-gcm-open-file", "raw-gcm-open-file-into", "open-memory-v2"]
    file_ops = ["copy-file", "raw-gcm-seal-file", "seal-file", "raw-gcm-open-file-to-file"]
    file_ops += ["open-file"]
    results: dict[str, list[dict[str, float]]] = {op: [] for op in memory_ops + file_ops}
    with tempfile.TemporaryDirectory(
        prefix="sealdrop-bench-", dir=os.environ.get("BENCH_DIR")
    ) as d:
        workdir = Path(d)
        _prepare(workdir, size, identity)
        os.sync()  # so writeback of the prepared files does not land on the first measurement
        for _ in range(rounds):
            for op in memory_ops + file_ops:
                results[op].append(_measure(op, size, workdir, secret))

    def rate(op: str, clock: str = "seconds") -> float:
        return size / statistics.median(r[clock] for r in results[op]) / 1e6

    def peak(op: str) -> float:
        return max(r["peak_rss"] for r in results[op]) / (1 << 20)

    print(f"\n== envelope: {size / GiB:.2f} GiB payload, median of {rounds} alternating rounds ==")
    print(f"{'operation':<44}{'MB/s':>9}{'ratio':>8}{'CPU ratio':>11}{'peak RSS MiB':>14}")
    rows = [
        ("raw secretstream push (PyNaCl), memory", "raw-push", "raw-push"),
        ("seal v1, memory -> discard", "seal-memory", "raw-push"),
        ("raw secretstream pull, page-cached file", "raw-pull-file", "raw-push"),
        ("open v1, page-cached file -> discard", "open-memory", "raw-pull-file"),
        ("raw AES-256-GCM seal (pyca), memory", "raw-gcm-seal", "raw-gcm-seal"),
        ("  the same, encrypt_into one buffer", "raw-gcm-seal-into", "raw-gcm-seal"),
        ("  the same, each chunk copied in first", "raw-gcm-seal-copy", "raw-gcm-seal"),
        ("seal v2, memory -> discard", "seal-memory-v2", "raw-gcm-seal"),
        ("raw AES-256-GCM seal, page-cached file", "raw-gcm-seal-cached", "raw-gcm-seal"),
        ("seal v2, page-cached file -> discard", "seal-cached-v2", "raw-gcm-seal-cached"),
        ("raw AES-256-GCM open, page-cached file", "raw-gcm-open-file", "raw-gcm-seal"),
        ("  the same, decrypt_into one buffer", "raw-gcm-open-file-into", "raw-gcm-open-file"),
        ("open v2, page-cached file -> discard", "open-memory-v2", "raw-gcm-open-file"),
        ("plain copy, file -> file (fsync)", "copy-file", "copy-file"),
        ("raw AES-256-GCM seal, file -> file (fsync)", "raw-gcm-seal-file", "copy-file"),
        ("seal v2, file -> file (fsync)", "seal-file", "raw-gcm-seal-file"),
        ("raw AES-256-GCM open, file -> vault (fsync)", "raw-gcm-open-file-to-file", "copy-file"),
        ("open v2, file -> vault directory (fsync)", "open-file", "raw-gcm-open-file-to-file"),
    ]
    for label, op, base in rows:
        cpu_ratio = rate(op, "cpu") / rate(base, "cpu")
        print(
            f"{label:<44}{rate(op):>9.0f}{rate(op) / rate(base):>8.2f}{cpu_ratio:>11.2f}"
            f"{peak(op):>14.1f}"
        )
    print(
        f"open vs raw push: {rate('open-memory') / rate('raw-push'):.2f}. Ratios compare each "
        "row with the raw row above it that does the same I/O (the same read and write sizes, "
        "the vault's writer for both opens to disk); the CPU ratio uses CPU seconds, which a "
        "busy neighbour disturbs less than wall time."
    )
    print(
        "v2 against raw AES-256-GCM into one reused buffer (the calls v2 itself makes): seal "
        f"{rate('seal-memory-v2') / rate('raw-gcm-seal-into'):.2f}, open "
        f"{rate('open-memory-v2') / rate('raw-gcm-open-file-into'):.2f}; seal against raw "
        "with the one copy of written data that v2's records force: "
        f"{rate('seal-memory-v2') / rate('raw-gcm-seal-copy'):.2f} "
        f"(CPU {rate('seal-memory-v2', 'cpu') / rate('raw-gcm-seal-copy', 'cpu'):.2f}); "
        "from a page-cached file, as the open rows read and as a file is sealed (read "
        "straight into the records, no copy), seal against raw: "
        f"{rate('seal-cached-v2') / rate('raw-gcm-seal-cached'):.2f} "
        f"(CPU {rate('seal-cached-v2', 'cpu') / rate('raw-gcm-seal-cached', 'cpu'):.2f}; "
        "v2 also seals its Padme padding, up to 1/32 more at 1 GiB)"
    )
    print(
        "targets: v1 seal and open >= 0.80 of raw secretstream; v2 seal and open >= 0.90 of raw "
        "AES-256-GCM; peak RSS < 64 MiB"
    )


if __name__ == "__main__":
    _child(sys.argv[1:])
