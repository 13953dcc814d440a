"""Envelopes sealed by the browser's JS (run in Node) open in Python, and the reverse.

The JS side is intake/static/src/envelope.js, the very module the Web Worker bundles.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import nacl.public
import pytest

from crypto import Identity, MemorySink, Sealer, open_envelope
from crypto.codename import new_codename
from crypto.convenience import Attachment, seal_bytes
from crypto.followup import Proof, check, signed_trailer

HERE = Path(__file__).resolve().parent
CHUNK = 65536
MIB = 1 << 20
# message part overhead: BEGIN {"kind":"message"} (5+18), one DATA head (5), END (13),
# and CLOSE {} (5+2): a message of 65536 - 48 bytes fills exactly one chunk.
ONE_CHUNK_MESSAGE = CHUNK - 48


def new_identity() -> tuple[Identity, str]:
    secret = bytes(nacl.public.PrivateKey.generate())
    return Identity(secret), secret.hex()


def js_seal(
    node: str,
    tmp_path: Path,
    recipients: list[Identity],
    message: str,
    files: list[tuple[str, str, bytes]] = (),
    node_flags: tuple[str, ...] = (),
    chunk_bytes: int = MIB,
    trailer: dict | None = None,
    codename: str | None = None,
) -> tuple[bytes, dict]:
    specs = []
    for index, (name, media_type, data) in enumerate(files):
        path = tmp_path / f"input-{index}"
        path.write_bytes(data)
        specs.append({"path": str(path), "name": name, "type": media_type})
    out = tmp_path / "js.sdenv"
    spec = {
        "recipients": [r.public_key.line for r in recipients],
        "message": message,
        "files": specs,
        "out": str(out),
        "chunk_bytes": chunk_bytes,
        "trailer": trailer or {},
        "codename": codename,
    }
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run(
        [node, *node_flags, str(HERE / "seal.js"), str(spec_path)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return out.read_bytes(), json.loads(result.stdout)


def js_open(node: str, tmp_path: Path, secret_hex: str, envelope: bytes) -> tuple[dict, list]:
    path = tmp_path / "py.sdenv"
    path.write_bytes(envelope)
    outdir = tmp_path / "opened"
    result = subprocess.run(
        [node, str(HERE / "open.js"), secret_hex, str(path), str(outdir)],
        capture_output=True,
        check=True,
        timeout=120,
    )
    listing = json.loads(result.stdout)
    datas = [(outdir / f"part-{i:03d}").read_bytes() for i in range(len(listing["parts"]))]
    return listing, datas


def py_open(envelope: bytes, identity: Identity):
    return open_envelope(io.BytesIO(envelope), [identity], MemorySink(64 * MIB))


def check_js_envelope(envelope, report, identity, message, files):
    assert report["predicted"] == report["written"] == len(envelope)
    contents = py_open(envelope, identity)
    assert contents.trailer == {}
    assert [p.info.kind for p in contents.parts] == ["message"] + ["file"] * len(files)
    assert contents.message.data == message.encode("utf-8")
    for part, (name, media_type, data) in zip(contents.files, files, strict=True):
        assert (part.info.name, part.info.media_type) == (name, media_type)
        assert part.data == data


CASES = {
    "empty message, no files": ("", []),
    "message filling exactly one chunk": ("x" * ONE_CHUNK_MESSAGE, []),
    "message one byte over one chunk": ("x" * (ONE_CHUNK_MESSAGE + 1), []),
    "message one byte under one chunk": ("x" * (ONE_CHUNK_MESSAGE - 1), []),
    "files around the record size": (
        "see attached",
        [
            ("a.bin", "application/octet-stream", bytes(range(256)) * 255 + b"\x01" * 255),
            ("b.bin", "application/octet-stream", b"\x02" * CHUNK),
            ("c.bin", "application/octet-stream", b"\x03" * (CHUNK + 1)),
            ("empty.txt", "text/plain", b""),
        ],
    ),
    "non-ASCII message and names": (
        'Привет, это сообщение 😀\n\tс табуляцией и "кавычками"',
        [
            ("фото 2026 😀.jpg", "image/jpeg", b"\xff\xd8\xff" + b"\x00" * 5000),
            ('naïve "quoted"\\name.txt', "text/plain; charset=utf-8", "ü".encode() * 999),
        ],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_js_sealed_opens_in_python(node, tmp_path, case):
    identity, _ = new_identity()
    message, files = CASES[case]
    envelope, report = js_seal(node, tmp_path, [identity], message, files)
    check_js_envelope(envelope, report, identity, message, files)


def test_one_chunk_case_really_is_one_chunk(node, tmp_path):
    identity, _ = new_identity()
    envelope, _ = js_seal(node, tmp_path, [identity], "x" * ONE_CHUNK_MESSAGE)
    assert len(envelope) == 122 + CHUNK + 17
    envelope, _ = js_seal(node, tmp_path, [identity], "x" * (ONE_CHUNK_MESSAGE + 1))
    assert len(envelope) > 122 + CHUNK + 17


def test_js_upload_chunks_and_several_recipients(node, tmp_path):
    """A file over two upload chunks (each written at its offset, as the worker uploads it),
    sealed to two reviewers: each of them opens it."""
    first, _ = new_identity()
    second, _ = new_identity()
    data = bytes(range(251)) * (2 * MIB // 251 + 3000)
    files = [("big.bin", "application/octet-stream", data), ("small.txt", "text/plain", b"hi")]
    envelope, report = js_seal(node, tmp_path, [first, second], "two files", files)
    expected_offsets = list(range(0, len(envelope), MIB))
    assert report["offsets"] == expected_offsets
    check_js_envelope(envelope, report, first, "two files", files)
    check_js_envelope(envelope, report, second, "two files", files)


def test_js_without_webassembly(node, tmp_path):
    """Tor Browser's Safer level has no WebAssembly: the pure-JS libsodium must agree."""
    identity, _ = new_identity()
    files = [("doc.pdf", "application/pdf", b"%PDF" + bytes(70000))]
    envelope, report = js_seal(
        node, tmp_path, [identity], "no wasm", files, node_flags=("--no-expose-wasm",)
    )
    assert report["wasm"] is False
    check_js_envelope(envelope, report, identity, "no wasm", files)


@pytest.mark.parametrize(
    "message_size", [0, 1, 2000, 2001, 4096, 60000, ONE_CHUNK_MESSAGE, 200_000, 300_001]
)
def test_size_precomputation(node, tmp_path, message_size):
    identity, _ = new_identity()
    files = [("f", "", b"z" * (message_size // 3))]
    envelope, report = js_seal(node, tmp_path, [identity], "m" * message_size, files)
    assert report["predicted"] == len(envelope)


PY_CASES = {
    "empty message": ("", []),
    "one chunk exactly": ("x" * ONE_CHUNK_MESSAGE, []),
    "chunk boundaries and names": (
        "сообщение",
        [
            Attachment("ровно.bin", "application/octet-stream", b"\x07" * CHUNK),
            Attachment("minus.bin", "application/octet-stream", b"\x08" * (CHUNK - 1)),
            Attachment("plus 😀.bin", "application/x-test", b"\x09" * (CHUNK + 1)),
            Attachment("empty", "text/plain", b""),
        ],
    ),
}


@pytest.mark.parametrize("case", PY_CASES)
def test_python_sealed_opens_in_js(node, tmp_path, case):
    identity, secret_hex = new_identity()
    other, _ = new_identity()
    message, attachments = PY_CASES[case]
    # The JS opener here reads format v1 (the replies page's libsodium path, kept for v1
    # replies); the browser's v2 code is tested with its own opener.
    envelope = seal_bytes([other.public_key, identity.public_key], message, attachments, version=1)
    listing, datas = js_open(node, tmp_path, secret_hex, envelope)
    assert listing["trailer"] == {}
    assert listing["parts"][0]["info"] == {"kind": "message"}
    assert datas[0] == message.encode("utf-8")
    for part, data, attachment in zip(listing["parts"][1:], datas[1:], attachments, strict=True):
        assert part["info"] == {
            "kind": "file",
            "name": attachment.name,
            "type": attachment.media_type,
        }
        assert data == attachment.data


def test_python_streamed_file_opens_in_js(node, tmp_path):
    identity, secret_hex = new_identity()
    data = bytes(range(256)) * 5000  # 1.28 MB, read by Sealer 64 KiB at a time
    out = io.BytesIO()
    with Sealer(out, [identity.public_key], version=1) as sealer:
        sealer.add_message("streamed")
        sealer.add_file("stream.bin", "application/octet-stream", io.BytesIO(data))
    listing, datas = js_open(node, tmp_path, secret_hex, out.getvalue())
    assert [p["info"]["kind"] for p in listing["parts"]] == ["message", "file"]
    assert datas == [b"streamed", data]


def test_js_opener_refuses_tampering(node, tmp_path):
    """The JS opener is a test oracle; it must not accept what Python would refuse."""
    identity, secret_hex = new_identity()
    envelope = bytearray(seal_bytes([identity.public_key], "secret", version=1))
    envelope[-5] ^= 1
    with pytest.raises(subprocess.CalledProcessError) as failure:
        js_open(node, tmp_path, secret_hex, bytes(envelope))
    assert b"corrupted" in failure.value.stderr or b"ciphertext" in failure.value.stderr


def test_js_trailer_is_sealed_and_counted(node, tmp_path):
    """CLOSE carries a trailer object (follow-up keys, later); its length enters the
    precomputed size like any other record."""
    identity, _ = new_identity()
    trailer = {"reply_key": "k" * 52, "note": "ключ"}
    envelope, report = js_seal(node, tmp_path, [identity], "with trailer", trailer=trailer)
    assert report["predicted"] == report["written"] == len(envelope)
    assert py_open(envelope, identity).trailer == trailer


def test_js_shortens_a_file_name_too_long_for_a_record(node, tmp_path):
    """BEGIN's JSON is at most 8192 bytes: an absurdly long name is shortened from the front
    (its extension kept) rather than failing the whole submission."""
    identity, _ = new_identity()
    name = "я" * 6000 + ".pdf"
    files = [(name, "application/pdf", b"%PDF-1.7")]
    envelope, report = js_seal(node, tmp_path, [identity], "", files)
    assert report["predicted"] == len(envelope)
    [part] = py_open(envelope, identity).files
    assert part.info.name.startswith("…") and part.info.name.endswith("я.pdf")
    assert len(part.info.name.encode()) < 8192
    assert part.data == b"%PDF-1.7"


def test_js_signed_follow_up_is_proven_in_python(node, tmp_path):
    """The trailer the worker signs with the envelope's header hash (FORMAT.md §5.5) is the
    one Python writes, and proves the codename; the size was known before sealing."""
    identity, _ = new_identity()
    codename = new_codename("ru")
    envelope, report = js_seal(node, tmp_path, [identity], "снова я", codename=str(codename))
    assert report["predicted"] == report["written"] == len(envelope)
    contents = py_open(envelope, identity)
    assert contents.trailer == signed_trailer(codename.derive(), contents.header_hash)
    assert check(contents.trailer, contents.header_hash) is Proof.PROVEN
