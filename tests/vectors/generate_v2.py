"""Writes the format v2 vectors (docs/FORMAT.md 9.5): `python -m tests.vectors.generate_v2`.

Nothing here is random: the file key and every HPKE ephemeral key are fixed (test inputs
only), and HPKE with a fixed ephemeral key comes from tests/crypto/rfc9180.py, so each `ok`
vector is exactly what crypto.Sealer writes from the same inputs (tests/crypto/
test_vectors_v2.py re-seals them) and what any other implementation must write.
Malformed envelopes are built here from the primitives, because crypto.Sealer cannot make them.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto import Identity, PublicKey, Sealer
from crypto.bundle import hour_stamp
from crypto.codename import Codename
from crypto.envelope import MAGIC, PREAMBLE_BYTES
from crypto.envelope_v2 import header_hash, header_mac, payload_key
from crypto.epochs import WEEK, Epoch, Statement, day_text, week_start, weeks
from crypto.followup import signed_trailer
from crypto.framing import BEGIN, CLOSE, DATA, END, PartInfo, record
from crypto.gcm_stream import nonce
from crypto.hpke_stanza import INFO
from crypto.padding import padded_length
from crypto.team import Signer
from tests.crypto import rfc9180

from .generate import SECRET_A, SECRET_B, SECRET_OTHER, entry_of, manifest_json, tar_member

HERE = Path(__file__).parent
FILE_KEY = bytes(range(0x40, 0x60))
OTHER_FILE_KEY = bytes(range(0x60, 0x80))
CHUNK = 65536
IDENTITIES = {"a": SECRET_A, "b": SECRET_B, "other": SECRET_OTHER}


def ephemeral(index: int) -> bytes:
    """The HPKE ephemeral secret of stanza ``index`` in every vector (a test input only)."""
    return hashlib.sha256(b"sealdrop-v2-vector-ephemeral-%d" % index).digest()


class FixedWrap:
    """HPKE SealBase with the fixed ephemeral keys, stanza by stanza."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, public_key: bytes, file_key: bytes) -> bytes:
        enc, wrapped = rfc9180.seal_base(public_key, INFO, b"", file_key, ephemeral(self.count))
        self.count += 1
        return enc + wrapped


def public(name: str) -> PublicKey:
    return Identity(IDENTITIES[name]).public_key


Part = tuple[PartInfo, bytes]


def seal_ok(recipients: Sequence[str], parts: Sequence[Part], trailer: dict) -> bytes:
    out = io.BytesIO()
    sealer = Sealer(
        out, [public(n) for n in recipients], version=2, file_key=FILE_KEY, wrap=FixedWrap()
    )
    for info, data in parts:
        sealer.begin_part(info)
        sealer.write(data)
        sealer.end_part()
    sealer.close(trailer)
    return out.getvalue()


def describe(parts: Sequence[Part]) -> list[dict[str, object]]:
    described = []
    for info, data in parts:
        part: dict[str, object] = {"kind": info.kind, "name": info.name, "type": info.media_type}
        if len(data) <= 4096:
            part["content_hex"] = data.hex()
        else:
            assert data == data[:1] * len(data)
            part.update(
                content_sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                content_fill_hex=data[:1].hex(),
            )
        described.append(part)
    return described


def write(name: str, envelope: bytes, description: str, expect: str, **extra: object) -> None:
    (HERE / f"{name}.sdenv").write_bytes(envelope)
    doc = {"description": description, "expect": expect, "identities": ["a"], **extra}
    (HERE / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


def write_ok(name: str, description: str, recipients: list[str], parts: list[Part], trailer: dict):
    envelope = seal_ok(recipients, parts, trailer)
    write(
        name,
        envelope,
        description,
        "ok",
        recipients=recipients,
        file_key_hex=FILE_KEY.hex(),
        ephemeral_secrets_hex=[ephemeral(i).hex() for i in range(len(recipients))],
        header_hash_hex=header_hash(envelope[: 42 + 88 * len(recipients)]).hex(),
        parts=describe(parts),
        trailer=trailer,
    )
    return envelope


def raw_v2(
    recipients: Sequence[str],
    plaintext: bytes,
    *,
    keys: Sequence[bytes] | None = None,
    flags: Sequence[bool] | None = None,
    order: Sequence[int] | None = None,
) -> bytes:
    """Seals arbitrary plaintext by section 9 without checking it: ``keys`` wraps another file
    key per stanza, ``flags`` sets each chunk's last byte, ``order`` reorders the chunks."""
    wrap_keys = list(keys or [FILE_KEY] * len(recipients))
    wrapper = FixedWrap()
    stanzas = b"".join(
        public(n).key_id + wrapper(public(n).raw, wrap_keys[i]) for i, n in enumerate(recipients)
    )
    body = MAGIC + bytes([2, len(recipients)]) + stanzas
    header = body + header_mac(FILE_KEY, body)
    aead = AESGCM(payload_key(FILE_KEY, header))
    pieces = [plaintext[i : i + CHUNK] for i in range(0, len(plaintext), CHUNK)]
    last = list(flags) if flags is not None else [i == len(pieces) - 1 for i in range(len(pieces))]
    sealed = [aead.encrypt(nonce(i, last[i]), p, None) for i, p in enumerate(pieces)]
    return header + b"".join(sealed[i] for i in (order or range(len(sealed))))


def message_plaintext(text: bytes, close: bytes = b"{}", pad: int = 0) -> bytes:
    records = (
        record(BEGIN, b'{"kind":"message"}')
        + b"".join(record(DATA, text[i : i + CHUNK]) for i in range(0, len(text), CHUNK))
        + record(END, len(text).to_bytes(8, "big"))
        + record(CLOSE, close)
    )
    return records + bytes([pad]) * (padded_length(len(records)) - len(records))


def message_of_plaintext(length: int) -> bytes:
    """A message whose padded plaintext is exactly ``length`` bytes (a Padmé length)."""
    for size in range(length, 0, -1):
        data_records = -(-size // CHUNK)
        if padded_length(48 + size + 5 * (data_records - 1)) == length:
            return b"x" * size
    raise AssertionError(length)


def write_hpke() -> None:
    """RFC 9180 A.1.1, and the same inputs through our suite (AES-256-GCM, our info)."""
    rfc = {
        "info": "4f6465206f6e2061204772656369616e2055726e",
        "ikmE": "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234",
        "pkEm": "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
        "skEm": "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736",
        "ikmR": "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037",
        "pkRm": "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
        "skRm": "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
        "enc": "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
        "shared_secret": "fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc",
        "key_schedule_context": "00725611c9d98c07c03f60095cd32d400d8347d45ed67097bbad50fc56da742d"
        "07cb6cffde367bb0565ba28bb02c90744a20f5ef37f30523526106f637abb05449",
        "secret": "12fff91991e93b48de37e7daddb52981084bd8aa64289c3788471d9a9712f397",
        "key": "4531685d41d65f03dc48f6b8302c05b0",
        "base_nonce": "56d890e5accaaf011cff4b7d",
        "exporter_secret": "45ff1c2e220db587171952c0592d5f5ebe103f1561a2614e38f2ffd47e99e3f8",
        "pt": "4265617574792069732074727574682c20747275746820626561757479",
        "aad": "436f756e742d30",
        "ct": "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a9"
        "6d8770ac83d07bea87e13c512a",
    }
    pk_r, sk_e = bytes.fromhex(rfc["pkRm"]), bytes.fromhex(rfc["skEm"])
    enc, wrapped = rfc9180.seal_base(pk_r, INFO, b"", FILE_KEY, sk_e, aead_id=2)
    ours = {
        "info": INFO.hex(),
        "aad": "",
        "pt": FILE_KEY.hex(),
        "skEm": rfc["skEm"],
        "pkRm": rfc["pkRm"],
        "skRm": rfc["skRm"],
        "key": rfc9180.key_schedule(rfc9180.encap(pk_r, sk_e)[0], INFO, 2).key.hex(),
        "stanza_body": (enc + wrapped).hex(),
    }
    doc = {
        "source": "RFC 9180, Appendix A.1.1: mode 0, kem_id 32, kdf_id 1, aead_id 1 "
        "(sequence number 0); the RFC publishes no vector with aead_id 2",
        "rfc9180_a_1_1": rfc,
        "sealdrop_v2_stanza": ours,
    }
    (HERE / "hpke-rfc9180.json").write_text(json.dumps(doc, indent=2) + "\n")


def write_envelopes() -> list[tuple[str, bytes]]:
    hello = [(PartInfo("message"), b"hello")]
    ok_hello = write_ok("v2-ok-hello", "one recipient, the message 'hello'", ["a"], hello, {})
    write_ok(
        "v2-ok-three-recipients",
        "three recipients (a, b, other): each opens it",
        ["a", "b", "other"],
        [(PartInfo("message"), "Сообщение для троих".encode())],
        {},
    )
    one = message_of_plaintext(CHUNK)
    write_ok(
        "v2-ok-exactly-one-chunk",
        "the padded plaintext is exactly 65,536 bytes: one full chunk, marked last",
        ["a"],
        [(PartInfo("message"), one)],
        {},
    )
    two = message_of_plaintext(2 * CHUNK)
    write_ok(
        "v2-ok-two-chunks",
        "the padded plaintext is exactly 131,072 bytes: two full chunks, the second marked last",
        ["a"],
        [(PartInfo("message"), two)],
        {},
    )
    codename = Codename.parse(json.loads((HERE / "codenames.json").read_text())[2]["canonical"])
    parts = [
        (PartInfo("message"), b"what happened, in words"),
        (PartInfo("field", "contact"), b"signal"),
        (PartInfo("file", "photo.jpg", "image/jpeg"), b"\xff\xd8" * 600),
        (PartInfo("file", "notes.txt", "text/plain"), b"n" * 70000),
    ]
    # The proof signs the header hash, which does not depend on the content: seal once to
    # learn it (the header is fixed by the file key and the ephemeral keys), then for real.
    header = seal_ok(["a", "b"], parts, {})[: 42 + 88 * 2]
    trailer = signed_trailer(codename.derive(), header_hash(header))
    write_ok(
        "v2-ok-proven-followup",
        "a multi-part submission (message, field, two files) to a and b, with the codename's "
        "reply key, mailbox and proof over the v2 header hash (codenames.json entry 2)",
        ["a", "b"],
        parts,
        trailer,
    )
    # the same bytes, two readers: a reads it; b's stanza wraps another file key, which the MAC
    # refuses, so b can never be shown another plaintext from this envelope
    commit = raw_v2(["a", "b"], message_plaintext(b"for a"), keys=[FILE_KEY, OTHER_FILE_KEY])
    write(
        "v2-ok-key-commitment-a",
        commit,
        "a and b; a's stanza wraps the file key the MAC and payload use: a reads it",
        "ok",
        parts=describe([(PartInfo("message"), b"for a")]),
        trailer={},
    )
    write(
        "v2-fail-key-commitment",
        commit,
        "the same bytes as v2-ok-key-commitment-a, read by b, whose stanza wraps another file "
        "key: the header MAC fails under it, so b reads nothing (step 8)",
        "corrupted",
        identities=["b"],
    )
    write_failures(ok_hello)
    return [("v2hello", ok_hello)]


def write_failures(hello: bytes) -> None:
    header_len = 42 + 88
    big = message_plaintext(b"z" * 150_000)  # three chunks
    sealed = raw_v2(["a"], big)
    chunks = [
        sealed[header_len + i : header_len + i + CHUNK + 16]
        for i in range(0, 3 * (CHUNK + 16), CHUNK + 16)
    ]
    flip = bytearray(hello)
    flip[header_len + 5] ^= 1
    flip_stanza = bytearray(hello)
    flip_stanza[PREAMBLE_BYTES + 8 + 40] ^= 1
    flip_mac = bytearray(hello)
    flip_mac[header_len - 1] ^= 1
    cases = [
        (
            "v2-fail-version-then-eof",
            b"SEALDROP\x02",
            "magic, version 2, then the end",
            "truncated",
        ),
        (
            "v2-fail-truncated-header",
            hello[: header_len - 1],
            "the header without its last byte",
            "truncated",
        ),
        ("v2-fail-zero-recipients", hello[:9] + b"\x00" + hello[10:], "n = 0", "corrupted"),
        (
            "v2-fail-duplicate-key-ids",
            raw_v2(["a", "a"], message_plaintext(b"x")),
            "a's stanza twice",
            "corrupted",
        ),
        (
            "v2-fail-not-for-you",
            raw_v2(["other"], message_plaintext(b"x")),
            "sealed to another key only",
            "not-for-you",
        ),
        (
            "v2-fail-bitflip-stanza",
            bytes(flip_stanza),
            "one bit flipped in a's wrapped file key",
            "corrupted",
        ),
        ("v2-fail-bitflip-mac", bytes(flip_mac), "one bit flipped in the header MAC", "corrupted"),
        ("v2-fail-bitflip-payload", bytes(flip), "one bit flipped in the only chunk", "corrupted"),
        (
            "v2-fail-truncated-at-chunk",
            sealed[: header_len + 2 * (CHUNK + 16)],
            "the first two of three chunks: the second opens only as not last",
            "truncated",
        ),
        (
            "v2-fail-truncated-inside-chunk",
            sealed[:-1],
            "the last chunk without its last byte",
            "corrupted",
        ),
        (
            "v2-fail-no-header-end-chunk",
            hello[:header_len] + hello[header_len : header_len + 16],
            "a chunk of 16 bytes (no plaintext): never written",
            "truncated",
        ),
        ("v2-fail-extended", hello + b"\x00", "one byte after the last chunk", "corrupted"),
        (
            "v2-fail-reordered-chunks",
            sealed[:header_len] + chunks[1] + chunks[0] + chunks[2],
            "chunks 0 and 1 swapped",
            "corrupted",
        ),
        (
            "v2-fail-dropped-chunk",
            sealed[:header_len] + chunks[0] + chunks[2],
            "chunk 1 of 3 removed",
            "corrupted",
        ),
        (
            "v2-fail-missing-last-flag",
            raw_v2(["a"], big, flags=[False, False, False]),
            "every chunk sealed as not last",
            "truncated",
        ),
        (
            "v2-fail-two-last-flags",
            raw_v2(["a"], big, flags=[True, False, True]),
            "chunk 0 sealed as last, more follows",
            "corrupted",
        ),
        (
            "v2-fail-empty-last-chunk",
            raw_v2(["a"], message_plaintext(message_of_plaintext(2 * CHUNK)), flags=[False, False])
            + AESGCM(payload_key(FILE_KEY, sealed[:header_len])).encrypt(nonce(2, True), b"", None),
            "two chunks not last, then an empty last chunk (16 bytes): never written",
            "truncated",
        ),
        (
            "v2-fail-nonzero-padding",
            raw_v2(["a"], message_plaintext(b"x", pad=1)),
            "padding bytes 0x01",
            "malformed-content",
        ),
        (
            "v2-fail-no-close",
            raw_v2(
                ["a"],
                message_plaintext(b"x")[:0]
                + record(BEGIN, b'{"kind":"message"}')
                + record(END, bytes(8))
                + bytes(2048 - 36),
            ),
            "records end without CLOSE",
            "malformed-content",
        ),
        (
            "v2-fail-malformed-before-truncation",
            raw_v2(["a"], b"\x09" + bytes(3 * CHUNK - 1), flags=[False, False, False])[
                : header_len + 2 * (CHUNK + 16)
            ],
            "an unknown record type in chunk 0, and no last chunk: the first error wins",
            "malformed-content",
        ),
        (
            "v2-fail-extended-and-malformed",
            raw_v2(["a"], message_plaintext(b"x", pad=1)) + b"\x00",
            "non-zero padding in the last chunk and a byte after it: the extension wins",
            "corrupted",
        ),
    ]
    for name, envelope, description, expect in cases:
        write(name, envelope, description, expect)


def write_mixed_bundle(v2_envelopes: list[tuple[str, bytes]]) -> None:
    v1 = (HERE / "ok-hello.sdenv").read_bytes()
    members = [("k3x9", v1), *v2_envelopes]
    entries = [entry_of(ident, env, "submissions") for ident, env in members]
    body = b"".join(tar_member(f"sealdrop-bundle/submissions/{i}.sdenv", e) for i, e in members)
    body += tar_member("sealdrop-bundle/manifest.json", manifest_json("submissions", entries))
    body += bytes(1024)
    (HERE / "bundle-ok-mixed-versions.tar").write_bytes(body)
    doc = {
        "description": "a v1 envelope (ok-hello) and a v2 envelope (v2-ok-hello) in one bundle",
        "expect": "ok",
        "kind": "submissions",
        "entries": entries,
    }
    (HERE / "bundle-ok-mixed-versions.json").write_text(json.dumps(doc, indent=2) + "\n")


def write_epoch_vectors() -> None:
    """Statements good and bad (FORMAT.md 10.5), and an envelope sealed to a deleted week."""
    folder = HERE / "epochs"
    folder.mkdir(exist_ok=True)
    reviewer = Identity(SECRET_A)
    signer = Signer(reviewer)
    monday = week_start(1_796_000_000)
    keys = [Identity(hashlib.sha256(b"sealdrop-epoch-vector-%d" % i).digest()) for i in range(3)]
    epochs = tuple(
        Epoch(start, end, key.public_key)
        for (start, end), key in zip(weeks(monday, 3), keys, strict=True)
    )
    good = Statement(reviewer.public_key, signer.public_key, monday, epochs)
    text = good.signed_by(signer)
    body = text.rsplit("signature: ", 1)[0]
    stranger = Signer(Identity(SECRET_OTHER))
    overlapping = Statement(
        good.reviewer,
        good.signing_key,
        monday,
        (epochs[0], Epoch(monday + 3600, monday + WEEK + 3600, keys[1].public_key)),
    )
    cases = {
        "ok": (text, "ok", "three weeks, signed by a's signing key"),
        "fail-other-signer": (
            good.signed_by(stranger),
            "bad-signature",
            "the same body signed by another key",
        ),
        "fail-altered": (
            text.replace("issued: ", "issued:  ", 1),
            "bad-signature",
            "a space added after the signature was made",
        ),
        "fail-no-newline": (text[:-1], "malformed", "the final newline missing"),
        "fail-short-signature": (body + "signature: AAAA\n", "malformed", "a 3-byte signature"),
        "fail-overlap": (
            overlapping.signed_by(signer),
            "malformed",
            "two weeks that overlap, properly signed",
        ),
    }
    for name, (statement, _, _) in cases.items():
        (folder / f"{name}.txt").write_text(statement, encoding="ascii")
    envelope = seal_ok_to([keys[0].public_key], [(PartInfo("message"), b"late")])
    (folder / "deleted-week.sdenv").write_bytes(envelope)
    doc = {
        "reviewer_secret_key_hex": SECRET_A.hex(),
        "reviewer_public_key_line": reviewer.public_key.line,
        "signing_key_line": signer.public_key.line,
        "statements": {
            f"{name}.txt": {"expect": expect, "description": description}
            for name, (_, expect, description) in cases.items()
        },
        "ok_epochs": [
            {
                "not_before": hour_stamp(e.not_before),
                "not_after": hour_stamp(e.not_after),
                "public_key_line": e.public_key.line,
            }
            for e in epochs
        ],
        "sealing_key_at": {
            hour_stamp(monday + 3600): keys[0].public_key.line,
            hour_stamp(monday + WEEK - 2 * 3600): keys[1].public_key.line,
            hour_stamp(monday + 3 * WEEK): reviewer.public_key.line,
        },
        "deleted_week": {
            "envelope": "deleted-week.sdenv",
            "sealed_to": keys[0].public_key.line,
            "not_after": hour_stamp(epochs[0].not_after),
            "deleted": hour_stamp(monday + 6 * WEEK),
            "expect": "epoch-key-deleted",
            "week_ending": day_text(epochs[0].not_after - 86400),
            "deleted_on": day_text(monday + 6 * WEEK),
        },
    }
    (folder / "epochs.json").write_text(json.dumps(doc, indent=2) + "\n")


def seal_ok_to(recipients: Sequence[PublicKey], parts: Sequence[Part]) -> bytes:
    out = io.BytesIO()
    sealer = Sealer(out, recipients, version=2, file_key=FILE_KEY, wrap=FixedWrap())
    for info, data in parts:
        sealer.begin_part(info)
        sealer.write(data)
        sealer.end_part()
    sealer.close({})
    return out.getvalue()


def main() -> None:
    write_hpke()
    write_mixed_bundle(write_envelopes())
    write_epoch_vectors()


if __name__ == "__main__":
    main()
