"""Every parser of untrusted bytes is linear: time per MiB of its worst-case input we know, at
two sizes (256 KiB and 4 MiB, 16 times larger). A linear parser keeps the time per MiB about flat
(within a factor of RATIO_LIMIT: caches and the garbage collector make large inputs a
little dearer); a quadratic one multiplies it by the size ratio (16x). A ratio above
RATIO_LIMIT is flagged.

The inputs are the attacks of issue 17 (G3) and their relatives: a JSON string of escaped
quotes that never ends (the old reader rescanned to the end at every quote), empty containers,
integers, a tar of empty members, a bundle listing many envelopes, an envelope of one-byte
records, a multipart body of line breaks, near-boundaries, empty parts or one long head.
Inputs of bounded size (key lines, identity files, codenames, the 4 KiB upload body, the 4 KiB
reply-check form) cost at most a constant and are not listed.

    python -m tests.bench parsers          (or `make bench`)
"""

from __future__ import annotations

import io
import tarfile
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from crypto import Identity, MemorySink, PartInfo, Sealer, open_envelope, ustar
from crypto.bundle import Bundle, BundleWriter
from crypto.strictjson import JSONRefused, loads
from intake.multipart import MultipartDecoder

SMALL, LARGE = 256 << 10, 4 << 20
RATIO_LIMIT = 3.0
ROUNDS = 5
MiB = 1 << 20
_MESSAGE_HEAD = b'--b\r\nContent-Disposition: form-data; name="message"\r\n\r\n'


def _json(make: Callable[[int], bytes]) -> Callable[[int], Callable[[], object]]:
    def prepare(size: int) -> Callable[[], object]:
        data = make(size)

        def parse() -> object:
            with suppress(JSONRefused):
                return loads(data, max_bytes=1 << 30, max_depth=8)
            return None

        return parse

    return prepare


def _tar_members(size: int) -> Callable[[], object]:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for n in range(size // 512):
            tar.addfile(tarfile.TarInfo(f"m{n}"))
    data = out.getvalue()
    return lambda: ustar.read_members(io.BytesIO(data))


def _bundle(size: int) -> Callable[[], object]:
    """A bundle of empty envelopes: a header and a manifest entry each (about 650 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="sealdrop-bench-")) / "bundle.tar"
    with path.open("wb") as out:
        writer = BundleWriter(out)
        for n in range(max(1, size // 650)):
            writer.add(f"s{n}", "2026-11-24T13:00Z", io.BytesIO(), 0)
        writer.close()

    def read() -> object:
        with Bundle(path) as bundle:
            return len(bundle.entries)

    return read


def _envelope_records(size: int) -> Callable[[], object]:
    """An envelope whose message is one-byte records (six bytes of plaintext each)."""
    identity = Identity.generate()
    out = io.BytesIO()
    sealer = Sealer(out, [identity.public_key])
    sealer.begin_part(PartInfo("message"))
    for _ in range(size // 6):
        sealer.write(b"x")
    sealer.end_part()
    sealer.close()
    envelope = out.getvalue()
    return lambda: open_envelope(io.BytesIO(envelope), [identity], MemorySink(1 << 30))


def _multipart(
    fill: bytes,
    read: int = 1 << 20,
    head: bytes = _MESSAGE_HEAD,
    end: bytes = b"\r\n--b--\r\n",
    max_header_bytes: int = 1 << 18,
) -> Callable[[int], Callable[[], object]]:
    """The no-JavaScript form's decoder as intake/nojs.py drives it (``read``-byte reads)."""

    def prepare(size: int) -> Callable[[], object]:
        body = head + fill * (size // len(fill)) + end

        def decode() -> object:
            decoder = MultipartDecoder(b"b", max_header_bytes=max_header_bytes, max_parts=1 << 20)
            events = 0
            for position in range(0, len(body), read):
                for _ in decoder.feed(body[position : position + read]):
                    events += 1
            decoder.finish()
            return events

        return decode

    return prepare


CASES: dict[str, Callable[[int], Callable[[], object]]] = {
    "JSON: unterminated escaped quotes": _json(lambda n: b'"' + b'\\"' * (n // 2)),
    "JSON: a trailing backslash": _json(lambda n: b'["' + b'\\"' * (n // 2 - 2) + b"\\"),
    "JSON: empty arrays": _json(lambda n: b"[" + b"[]," * (n // 3) + b"[]]"),
    "JSON: integers": _json(lambda n: b"[" + b"0," * (n // 2) + b"0]"),
    "JSON: nesting at the limit": _json(lambda n: b"[" + b"[[[[[[[]]]]]]]," * (n // 15) + b"1]"),
    "tar: empty members": _tar_members,
    "bundle: many entries": _bundle,
    "envelope: one-byte records": _envelope_records,
    "multipart: line breaks": _multipart(b"\r\n"),
    "multipart: near-boundaries": _multipart(b"\r\n--"),
    "multipart: near-boundaries, 61 B reads": _multipart(b"\r\n--", read=61),
    "multipart: empty parts": _multipart(
        b'\r\n--b\r\nContent-Disposition: form-data; name="m"\r\n'
    ),
    "multipart: one long head, 61 B reads": _multipart(
        b"p",
        read=61,
        head=b'--b\r\nContent-Disposition: form-data; name="m"\r\nX-Pad: ',
        end=b"\r\n\r\n\r\n--b--\r\n",
        max_header_bytes=1 << 30,
    ),
}


def seconds_per_mib(prepare: Callable[[int], Callable[[], object]], size: int) -> float:
    run = prepare(size)
    best = float("inf")
    for _ in range(ROUNDS):
        began = time.process_time()  # CPU seconds: robust on a shared machine
        run()
        best = min(best, time.process_time() - began)
    return best / (size / MiB)


def measure() -> list[tuple[str, float, float]]:
    return [
        (name, seconds_per_mib(prepare, SMALL), seconds_per_mib(prepare, LARGE))
        for name, prepare in CASES.items()
    ]


def run() -> None:
    print(f"\n== parsers: seconds per MiB at {SMALL >> 10} KiB and {LARGE >> 10} KiB ==")
    print(f"{'input':<38} {'small':>10} {'large':>10} {'ratio':>7}")
    for name, small, large in measure():
        ratio = large / small if small else float("inf")
        flag = "  <- not linear" if ratio > RATIO_LIMIT else ""
        print(f"{name:<38} {small:10.4f} {large:10.4f} {ratio:7.2f}{flag}")
