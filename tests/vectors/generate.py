"""Regenerates the test vectors in this directory (docs/FORMAT.md, section 6).

Run: .venv/bin/python -m tests.vectors.generate. The vectors are committed; regenerating
changes every byte (sealing is randomised), so only do it when the format changes.
Malformed envelopes are built here from the primitives, because crypto.Sealer cannot make them.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import nacl.bindings as b

from crypto import Attachment, Identity, PublicKey, seal_bytes
from crypto import mailbox as mailboxes
from crypto.codename import Codename
from crypto.envelope import CHUNK_SIZE, MAGIC
from crypto.followup import proof_message, signed_trailer
from crypto.framing import BEGIN, CLOSE, DATA, END, PartInfo, record
from crypto.padding import padded_length

HERE = Path(__file__).parent
# Fixed secret keys, so the vectors' identities are reproducible. Test keys only.
SECRET_A = bytes(range(1, 33))
SECRET_B = bytes(range(101, 133))
SECRET_OTHER = bytes(range(201, 233))
MAILBOX_SALT = bytes(range(0xA0, 0xB0))  # a deployment's mailbox salt, for the vectors


def write(name: str, envelope: bytes, description: str, expect: str, **extra: object) -> None:
    (HERE / f"{name}.sdenv").write_bytes(envelope)
    doc = {"description": description, "expect": expect, "identities": ["a"], **extra}
    (HERE / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


def parts_json(parts: list[tuple[PartInfo, bytes]]) -> list[dict[str, object]]:
    described = []
    for info, data in parts:
        part: dict[str, object] = {"kind": info.kind, "name": info.name, "type": info.media_type}
        if len(data) <= 4096:
            part["content_hex"] = data.hex()
        else:
            part["content_sha256"] = hashlib.sha256(data).hexdigest()
            part["size"] = len(data)
        described.append(part)
    return described


def raw_envelope(
    recipients: list[PublicKey], plaintext: bytes, *, final_tag: bool = True, version: int = 1
) -> bytes:
    """Seals arbitrary plaintext exactly as section 3 says, but without checking it."""
    key = b.crypto_secretstream_xchacha20poly1305_keygen()
    state = b.crypto_secretstream_xchacha20poly1305_state()
    stream_header = b.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    header = MAGIC + bytes([version, len(recipients)])
    header += b"".join(r.key_id + b.crypto_box_seal(key, r.raw) for r in recipients)
    header += stream_header
    ad = b.crypto_generichash.generichash_blake2b_salt_personal(header, digest_size=32)
    chunks = [plaintext[i : i + CHUNK_SIZE] for i in range(0, len(plaintext), CHUNK_SIZE)]
    out = [header]
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        tag = (
            b.crypto_secretstream_xchacha20poly1305_TAG_FINAL
            if last and final_tag
            else b.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
        )
        out.append(b.crypto_secretstream_xchacha20poly1305_push(state, chunk, ad, tag))
    return b"".join(out)


def padded(records: bytes, pad_byte: int = 0, extra: int = 0) -> bytes:
    total = padded_length(len(records)) + extra
    return records + bytes([pad_byte]) * (total - len(records))


def message_records(text: bytes) -> bytes:
    return (
        record(BEGIN, PartInfo("message").to_json())
        + record(DATA, text)
        + record(END, struct.pack(">Q", len(text)))
    )


def write_codenames() -> None:
    """codenames.json (both versions, both lists, as typed) and followup-proofs.json."""
    codenames = []
    for canonical, typed, others in (
        (
            "abandon ability able about above absent absorb abstract",
            "  ABANDON-abil Able about, abov absent absorbing abstract\n",
            [],
        ),
        ("zoo zone youth year wrong zero act add", "zoo zone youth year wrong zero act add", []),
        _new_codename((3, 1023, 512, 7, 100, 900, 333, 64), "en"),
        _new_codename((5, 6, 1000, 250, 777, 42, 512, 999), "ru"),
    ):
        codename = Codename.parse(canonical)
        keys_of = codename.derive()
        master = codename.master()
        codenames.append(
            {
                "version": 1 if codename.legacy else 2,
                "language": codename.language,
                "canonical": canonical,
                "typed": typed,
                "same_codename": others,
                "secret_hex": codename.secret().hex(),
                "reply_public_key_line": keys_of.public_key.line,
                "mailbox": keys_of.mailbox,
                "verify_key": keys_of.verify_key.hex(),
                "master_hex": master.hex(),
                "mailbox_salt_hex": MAILBOX_SALT.hex(),
                "mailbox_v2_input_hex": mailboxes.v2_input(master).hex(),
                "mailbox_v2": codename.derive(MAILBOX_SALT).mailbox,
            }
        )
    (HERE / "codenames.json").write_text(
        json.dumps(codenames, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_proofs()


def _new_codename(positions: tuple[int, ...], language: str) -> tuple[str, str, list[str]]:
    """A version 2 codename, a typed form (numbered, shouted, one word cut to four letters,
    one with a typo, ё for е) and its spelling in the other list."""
    codename = Codename.from_positions(positions, language)
    words = list(codename.words)
    words[1] = words[1][:4].upper()
    word = words[2]
    swaps = [word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)]
    for swapped in swaps:  # two neighbouring letters swapped, where that still reads right
        words[2] = swapped
        typed = " ".join(f"{n}. {w}" for n, w in enumerate(words, 1)).replace("е", "ё")
        if swapped != word and Codename.parse(typed) == codename:
            break
    else:
        raise AssertionError(f"no swap of {word!r} reads right; choose other positions")
    other = "ru" if language == "en" else "en"
    return str(codename), typed, [str(codename.in_language(other))]


def write_proofs() -> None:
    """Signed trailers for fixed header hashes (Ed25519 is deterministic), and altered ones with
    the verdict a reviewer must reach."""
    codename = Codename.parse(json.loads((HERE / "codenames.json").read_text())[2]["canonical"])
    keys_of = codename.derive()
    header_hash = bytes(range(32))
    good = signed_trailer(keys_of, header_hash)
    other_keys = Codename.parse("zoo zone youth year wrong zero act add").derive()
    cases = [
        ("proven", "signed by the codename's key for this header", good),
        ("unproven", "no proof: sealed before proofs", _without(good, "verify_key", "proof")),
        ("forged", "another mailbox", {**good, "mailbox": other_keys.mailbox}),
        ("forged", "another's verify key", {**good, "verify_key": other_keys.verify_key.hex()}),
        ("forged", "verify key of the same person, proof removed", _without(good, "proof")),
        (
            "unproven",
            "both members null: the same as absent",
            {**good, "verify_key": None, "proof": None},
        ),
        ("forged", "the proof null, the verify key kept", {**good, "proof": None}),
        ("forged", "a proof in upper-case hex", {**good, "proof": good["proof"].upper()}),
        (
            "forged",
            "a proof made for another header",
            signed_trailer(keys_of, bytes(32)),
        ),
    ]
    proofs = {
        "header_hash_hex": header_hash.hex(),
        "signed_message_hex": proof_message(header_hash, keys_of.public_key, keys_of.mailbox).hex(),
        "trailers": [
            {"expect": expect, "about": about, "trailer": trailer}
            for expect, about, trailer in cases
        ],
    }
    (HERE / "followup-proofs.json").write_text(json.dumps(proofs, indent=2) + "\n")


def _without(trailer: dict[str, str], *names: str) -> dict[str, str]:
    return {name: value for name, value in trailer.items() if name not in names}


def main() -> None:
    a, b_, other = Identity(SECRET_A), Identity(SECRET_B), Identity(SECRET_OTHER)
    keys = {
        "identities": {
            name: {
                "secret_key_hex": secret.hex(),
                "public_key_hex": ident.public_key.raw.hex(),
                "public_key_line": ident.public_key.line,
                "key_id_hex": ident.public_key.key_id_hex,
                "fingerprint": ident.public_key.fingerprint,
            }
            for name, secret, ident in (
                ("a", SECRET_A, a),
                ("b", SECRET_B, b_),
                ("other", SECRET_OTHER, other),
            )
        },
        "invalid_public_key_lines": {
            "typo": a.public_key.line[:20]
            + ("a" if a.public_key.line[20] != "a" else "b")
            + a.public_key.line[21:],
            "truncated": a.public_key.line[:-1],
            "wrong-prefix": "sdpub2" + a.public_key.line[6:],
            "bad-character": a.public_key.line[:-1] + "1",
        },
    }
    (HERE / "keys.json").write_text(json.dumps(keys, indent=2) + "\n")

    write_codenames()

    passphrase = "correct horse battery staple — ключ"
    (HERE / "identity-a.txt").write_text(a.to_file_text(passphrase, opslimit=1, memlimit=8192))
    (HERE / "identity-a.json").write_text(
        json.dumps(
            {
                "passphrase": passphrase,
                "public_key_line": a.public_key.line,
                "secret_key_hex": SECRET_A.hex(),
                "wrong_passphrase": "correct horse battery staple",
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )

    pa, pb = a.public_key, b_.public_key
    write(
        "ok-hello",
        seal_bytes([pa], "hello"),
        "one recipient, the message 'hello', nothing else",
        "ok",
        parts=parts_json([(PartInfo("message"), b"hello")]),
        trailer={},
    )
    write(
        "ok-empty",
        seal_bytes([pa], ""),
        "an empty message",
        "ok",
        parts=parts_json([(PartInfo("message"), b"")]),
        trailer={},
    )
    photo = bytes(i * 7 % 251 for i in range(70_000))
    note = "Привет, мир\n".encode()
    env = seal_bytes(
        [pb, pa],
        "Что случилось: …",
        [
            Attachment("фото 1.jpg", "image/jpeg", photo),
            Attachment("note.txt", "text/plain", note),
        ],
        fields={"contact": "none"},
        trailer={"reply_key": None},
    )
    write(
        "ok-two-recipients",
        env,
        "two recipients (b, then a), a field, two files, payload over two chunks",
        "ok",
        parts=parts_json(
            [
                (PartInfo("message"), "Что случилось: …".encode()),
                (PartInfo("field", "contact"), b"none"),
                (PartInfo("file", "фото 1.jpg", "image/jpeg"), photo),
                (PartInfo("file", "note.txt", "text/plain"), note),
            ]
        ),
        trailer={"reply_key": None},
        identities=["a", "b"],
    )
    # A plaintext of exactly two full chunks: the second is FINAL and full.
    body = bytes(131072 - 200)
    records = (
        record(BEGIN, PartInfo("file", "zeros", "application/octet-stream").to_json())
        + b"".join(record(DATA, body[i : i + 65536]) for i in range(0, len(body), 65536))
        + record(END, struct.pack(">Q", len(body)))
        + record(CLOSE, b"{}")
    )
    assert padded_length(len(records)) == 131072, padded_length(len(records))
    write(
        "ok-exact-chunks",
        raw_envelope([pa], padded(records)),
        "plaintext of exactly 131072 bytes: two full chunks, the second FINAL",
        "ok",
        parts=parts_json([(PartInfo("file", "zeros", "application/octet-stream"), body)]),
        trailer={},
    )

    hello = seal_bytes([pa], "hello")
    big = seal_bytes([pa], "x" * 150_000)  # three chunks
    header_len = 10 + 88 + 24
    sealed_chunk = CHUNK_SIZE + 17
    write(
        "fail-not-an-envelope",
        b"age-encryption.org/v1\n" + hello[22:],
        "wrong magic",
        "not-an-envelope",
    )
    write(
        "fail-unsupported-version",
        hello[:8] + b"\x03" + hello[9:],
        "version byte 3",
        "unsupported-version",
    )
    write(
        "fail-not-for-you",
        seal_bytes([other.public_key], "hello"),
        "sealed to another key only",
        "not-for-you",
    )
    flipped = bytearray(hello)
    flipped[header_len + 40] ^= 0x01
    write("fail-bitflip-payload", bytes(flipped), "one bit flipped in the payload", "corrupted")
    flipped = bytearray(hello)
    flipped[10 + 8 + 5] ^= 0x80
    write(
        "fail-bitflip-sealed-key", bytes(flipped), "one bit flipped in a's sealed key", "corrupted"
    )
    two = seal_bytes([pa, pb], "hello")
    removed = two[:9] + b"\x01" + two[10 : 10 + 88] + two[10 + 176 :]
    write(
        "fail-removed-recipient",
        removed,
        "recipient b's stanza removed from the header",
        "corrupted",
    )
    swapped = two[:10] + two[10 + 88 : 10 + 176] + two[10 : 10 + 88] + two[10 + 176 :]
    write("fail-reordered-recipients", swapped, "the two recipient stanzas swapped", "corrupted")
    c0 = big[header_len : header_len + sealed_chunk]
    c1 = big[header_len + sealed_chunk : header_len + 2 * sealed_chunk]
    write(
        "fail-reordered-chunks",
        big[:header_len] + c1 + c0 + big[header_len + 2 * sealed_chunk :],
        "the first two chunks swapped",
        "corrupted",
    )
    write(
        "fail-truncated-at-chunk",
        big[: header_len + 2 * sealed_chunk],
        "the FINAL chunk removed",
        "truncated",
    )
    write("fail-truncated-header", hello[:60], "cut inside the header", "truncated")
    write("fail-extended", hello + b"\x00", "one byte after the FINAL chunk", "corrupted")
    write(
        "fail-missing-final-tag",
        raw_envelope([pa], padded(message_records(b"hi") + record(CLOSE, b"{}")), final_tag=False),
        "every chunk tagged MESSAGE, none FINAL",
        "truncated",
    )
    write(
        "fail-nonzero-padding",
        raw_envelope([pa], padded(message_records(b"hi") + record(CLOSE, b"{}"), pad_byte=1)),
        "padding bytes are 0x01",
        "malformed-content",
    )
    write(
        "fail-padding-length",
        raw_envelope([pa], padded(message_records(b"hi") + record(CLOSE, b"{}"), extra=1)),
        "one byte more padding than padme requires",
        "malformed-content",
    )
    write(
        "fail-data-outside-part",
        raw_envelope([pa], padded(record(DATA, b"hi") + record(CLOSE, b"{}"))),
        "a DATA record before any BEGIN",
        "malformed-content",
    )
    write(
        "fail-no-close",
        raw_envelope([pa], padded(message_records(b"hi"))),
        "records end without CLOSE",
        "malformed-content",
    )
    write(
        "fail-wrong-end-size",
        raw_envelope(
            [pa],
            padded(
                record(BEGIN, PartInfo("message").to_json())
                + record(DATA, b"hi")
                + record(END, struct.pack(">Q", 3))
                + record(CLOSE, b"{}")
            ),
        ),
        "END declares 3 bytes after 2 bytes of DATA",
        "malformed-content",
    )


# --- vectors for the check order and strictness (FORMAT.md §3.4, §3.5, §4) -----------------


def raw_stanzas(stanzas: list[tuple[bytes, bytes]], chunks: list[tuple[bytes, bool]]) -> bytes:
    """An envelope from explicit stanzas (key id, public key sealed to) and chunks
    (plaintext, FINAL?), for the cases a correct sealer never writes."""
    key = b.crypto_secretstream_xchacha20poly1305_keygen()
    state = b.crypto_secretstream_xchacha20poly1305_state()
    stream_header = b.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    header = MAGIC + bytes([1, len(stanzas)])
    header += b"".join(kid + b.crypto_box_seal(key, pk) for kid, pk in stanzas)
    header += stream_header
    ad = b.crypto_generichash.generichash_blake2b_salt_personal(header, digest_size=32)
    out = [header]
    for plaintext, final in chunks:
        tag = (
            b.crypto_secretstream_xchacha20poly1305_TAG_FINAL
            if final
            else b.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
        )
        out.append(b.crypto_secretstream_xchacha20poly1305_push(state, plaintext, ad, tag))
    return b"".join(out)


def begin_message(begin: bytes, close: bytes = b"{}") -> bytes:
    return padded(
        record(BEGIN, begin)
        + record(DATA, b"hi")
        + record(END, struct.pack(">Q", 2))
        + record(CLOSE, close)
    )


def write_key_line_variants() -> None:
    """Adds to keys.json the spellings of a key line a reader accepts, and non-ASCII
    look-alikes it refuses (FORMAT.md §1: case is folded only after non-ASCII is refused)."""
    keys = json.loads((HERE / "keys.json").read_text())
    line = Identity(SECRET_A).public_key.line
    at = next(i for i, ch in enumerate(line) if ch == "k" and i >= 6)
    keys["public_key_line_spellings"] = {
        "upper-case": line.upper(),
        "white-space-inside": f"  {line[:20]} {line[20:40]}\t{line[40:]}\r\n",
    }
    keys["invalid_public_key_lines"].update(
        {
            "kelvin-sign": line[:at] + "\u212a" + line[at + 1 :],
            "no-break-space-inside": line[:30] + "\u00a0" + line[30:],
            "fullwidth-digit": line[:-1] + "\uff12",
        }
    )
    (HERE / "keys.json").write_text(json.dumps(keys, indent=2) + "\n")


def write_strictness_vectors() -> None:
    write_key_line_variants()
    a, b_, other = Identity(SECRET_A), Identity(SECRET_B), Identity(SECRET_OTHER)
    pa, pb = a.public_key, b_.public_key
    hello = seal_bytes([pa], "hello")
    write("fail-empty-file", b"", "an empty file (zero bytes)", "not-an-envelope")
    write("fail-magic-prefix", b"SEAL", "the first 4 bytes of the magic, then the end", "truncated")
    write(
        "fail-version-then-eof",
        b"SEALDROP\x03",
        "magic, version byte 3, then the end: the version is judged first",
        "unsupported-version",
    )
    write("fail-version-1-then-eof", b"SEALDROP\x01", "magic, version 1, then the end", "truncated")
    write("fail-zero-recipients", hello[:9] + b"\x00" + hello[10:], "n = 0 recipients", "corrupted")
    write(
        "fail-duplicate-key-ids",
        hello[:9] + b"\x02" + hello[10:98] + hello[10:],
        "a's stanza twice (n = 2): two stanzas with one key id",
        "corrupted",
    )
    write(
        "fail-stanza-sealed-to-another-key",
        raw_stanzas(
            [(pb.key_id, pb.raw), (pa.key_id, other.public_key.raw)],
            [(begin_message(b'{"kind":"message"}'), True)],
        ),
        "a's stanza carries a's key id but was sealed to another key; b's stanza is good "
        "(b opens it: see ok-stanza-good-for-b)",
        "corrupted",
    )
    records = begin_message(b'{"kind":"message"}')
    write(
        "fail-empty-final-chunk",
        raw_stanzas(
            [(pa.key_id, pa.raw)],
            [(records + bytes(CHUNK_SIZE - len(records)), False), (b"", True)],
        ),
        "a full MESSAGE chunk, then a FINAL chunk of 0 bytes (17 sealed): never written",
        "truncated",
    )
    bad_padding = padded(record(BEGIN, b'{"kind":"message"}') + record(CLOSE, b"{}"), pad_byte=1)
    write(
        "fail-extended-and-malformed",
        raw_envelope([pa], bad_padding) + b"\x00",
        "non-zero padding in the FINAL chunk and a byte after it: the extension wins",
        "corrupted",
    )
    big = record(0x09, b"x") + bytes(3 * CHUNK_SIZE)
    write(
        "fail-malformed-before-truncation",
        raw_envelope([pa], big, final_tag=False),
        "an unknown record type in chunk 0, and no FINAL chunk: the first error in reading "
        "order wins",
        "malformed-content",
    )
    cases = [
        ("fail-json-duplicate-name", b'{"kind":"message","kind":"file"}', "a name twice"),
        ("fail-json-nan", b'{"kind":"message","n":NaN}', "NaN"),
        ("fail-json-infinity", b'{"kind":"message","n":Infinity}', "Infinity"),
        ("fail-json-overflow", b'{"kind":"message","n":1e400}', "a number too large"),
        ("fail-json-big-integer", b'{"kind":"message","n":9007199254740992}', "2^53"),
        ("fail-json-bom", b'\xef\xbb\xbf{"kind":"message"}', "a byte-order mark first"),
        ("fail-json-not-utf8", b'{"kind":"message","n":"\xff"}', "a byte that is not UTF-8"),
        ("fail-json-lone-surrogate", b'{"kind":"message","n":"\\ud800"}', "an unpaired surrogate"),
        (
            "fail-json-too-deep",
            b'{"kind":"message","n":' + b"[" * 16 + b"]" * 16 + b"}",
            "nesting 17 deep (the object is level 1)",
        ),
        ("fail-unknown-kind", b'{"kind":"picture"}', "a part of unknown kind"),
        ("fail-name-not-text", b'{"kind":"file","name":7}', "a file name that is a number"),
    ]
    for name, begin, what in cases:
        write(
            name,
            raw_envelope([pa], begin_message(begin)),
            f"BEGIN with {what}",
            "malformed-content",
        )
    write(
        "fail-trailer-nan",
        raw_envelope([pa], begin_message(b'{"kind":"message"}', b'{"n":NaN}')),
        "a CLOSE trailer with NaN",
        "malformed-content",
    )
    two = message_records(b"a") + message_records(b"b") + record(CLOSE, b"{}")
    write(
        "fail-second-message",
        raw_envelope([pa], padded(two)),
        "two message parts",
        "malformed-content",
    )
    deep = b'{"kind":"message","n":' + b"[" * 15 + b"]" * 15 + b"}"
    write(
        "ok-json-depth-16",
        raw_envelope([pa], begin_message(deep)),
        "BEGIN nested exactly 16 deep, unknown members ignored",
        "ok",
        parts=parts_json([(PartInfo("message"), b"hi")]),
        trailer={},
    )
    write(
        "ok-null-name-and-type",
        raw_envelope([pa], begin_message(b'{"kind":"message","name":null,"type":null}')),
        "a message whose name and type are null (the same as absent)",
        "ok",
        parts=parts_json([(PartInfo("message"), b"hi")]),
        trailer={},
    )
    write(
        "ok-stanza-good-for-b",
        (HERE / "fail-stanza-sealed-to-another-key.sdenv").read_bytes(),
        "the same envelope as fail-stanza-sealed-to-another-key, opened by b",
        "ok",
        parts=parts_json([(PartInfo("message"), b"hi")]),
        trailer={},
        identities=["b"],
    )


# --- bundle vectors (FORMAT.md §4) ------------------------------------------------------------

HOUR = "2026-11-24T12:00Z"
MAILBOX_A = "abcdefghijklmnopqrstuvwxyz"  # 26 characters of [a-z2-7]


def tar_header(name: str, size: int, kind: bytes = b"0", *, magic: bytes = b"ustar\x0000") -> bytes:
    """One ustar header block, written field by field as FORMAT.md §4.1 describes."""
    block = bytearray(512)
    block[0:100] = name.encode("ascii").ljust(100, b"\0")
    block[100:108] = b"0000600\0"
    block[108:116] = b"0000000\0"
    block[116:124] = b"0000000\0"
    block[124:136] = f"{size:011o}\0".encode()
    block[136:148] = b"00000000000\0"
    block[148:156] = b" " * 8
    block[156:157] = kind
    block[257:265] = magic
    block[148:156] = f"{sum(block):06o}\0 ".encode()
    return bytes(block)


def tar_member(name: str, data: bytes, kind: bytes = b"0", **options: bytes) -> bytes:
    return tar_header(name, len(data), kind, **options) + data + bytes(-len(data) % 512)


def pax_member(records: dict[str, str], name: str, data: bytes) -> bytes:
    body = b""
    for key, value in records.items():
        text = f" {key}={value}\n".encode()
        length = len(text) + 1
        length += len(str(length + len(str(length)))) - 1
        body += str(length).encode() + text
    return tar_member("PaxHeader/x", body, b"x") + tar_member(name, data)


def manifest_json(kind: str, entries: list[dict[str, object]], **changes: object) -> bytes:
    doc = {"format": "sealdrop-bundle", "version": 1, "kind": kind, "created": HOUR, kind: entries}
    return json.dumps({**doc, **changes}, indent=1).encode()


def entry_of(ident: str, envelope: bytes, kind: str, **changes: object) -> dict[str, object]:
    item: dict[str, object] = {"id": ident, "received": HOUR}
    if kind == "replies":
        item["mailbox"] = MAILBOX_A
    item.update(size=len(envelope), sha256=hashlib.sha256(envelope).hexdigest())
    return {**item, **changes}


def write_bundle_vector(name: str, data: bytes, description: str, expect: str, **extra: object):
    (HERE / f"{name}.tar").write_bytes(data)
    doc = {"description": description, "expect": expect, "kind": "submissions", **extra}
    (HERE / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


def write_bundle_vectors() -> None:
    e1 = (HERE / "ok-hello.sdenv").read_bytes()
    e2 = (HERE / "ok-two-recipients.sdenv").read_bytes()
    end = bytes(1024)
    sub = "sealdrop-bundle/submissions/"

    def bundle(kind: str = "submissions", members: bytes | None = None, **changes: object):
        listed = [entry_of("k3x9", e1, kind), entry_of("z0a1", e2, kind)]
        prefix = f"sealdrop-bundle/{kind}/"
        body = members
        if body is None:
            body = tar_member(prefix + "k3x9.sdenv", e1) + tar_member(prefix + "z0a1.sdenv", e2)
        return body + tar_member(
            "sealdrop-bundle/manifest.json", manifest_json(kind, listed, **changes)
        )

    ok_entries = [entry_of("k3x9", e1, "submissions"), entry_of("z0a1", e2, "submissions")]
    write_bundle_vector(
        "bundle-ok-submissions",
        bundle() + bytes(10240 - (len(bundle()) % 10240)),
        "two envelopes (ok-hello, ok-two-recipients), manifest last, padded to a 10240-byte record",
        "ok",
        entries=ok_entries,
    )
    write_bundle_vector(
        "bundle-ok-two-end-blocks",
        bundle() + end,
        "the same, ending with exactly the two zero blocks",
        "ok",
        entries=ok_entries,
    )
    write_bundle_vector(
        "bundle-ok-replies",
        bundle("replies") + end,
        "a replies bundle: each entry has a mailbox",
        "ok",
        kind="replies",
        entries=[entry_of("k3x9", e1, "replies"), entry_of("z0a1", e2, "replies")],
    )
    write_bundle_vector(
        "bundle-ok-pax-path-size",
        bundle(
            members=pax_member({"path": sub + "k3x9.sdenv", "size": str(len(e1))}, "x", e1)
            + tar_member(sub + "z0a1.sdenv", e2)
        )
        + end,
        "k3x9 named by a pax header (path and size records) before a member named 'x'",
        "ok",
        entries=ok_entries,
    )
    good = bundle()
    fails = [
        ("bundle-fail-empty", b"", "an empty file", "not-a-bundle"),
        (
            "bundle-fail-old-gnu-magic",
            tar_member(sub + "k3x9.sdenv", e1, magic=b"ustar  \0") + good + end,
            "the first header has the old GNU magic 'ustar  '",
            "not-a-bundle",
        ),
        (
            "bundle-fail-gnu-sparse",
            bundle(
                members=tar_member(sub + "k3x9.sdenv", e1)
                + tar_member(sub + "z0a1.sdenv", e2, b"S")
            )
            + end,
            "z0a1 is a GNU sparse member (type S)",
            "damaged",
        ),
        (
            "bundle-fail-symlink",
            tar_member(sub + "link.sdenv", b"", b"2") + good + end,
            "a symbolic link first",
            "not-a-bundle",
        ),
        (
            "bundle-fail-directory",
            bundle(
                members=tar_member(sub + "k3x9.sdenv", e1)
                + tar_member(sub, b"", b"5")
                + tar_member(sub + "z0a1.sdenv", e2)
            )
            + end,
            "a directory member between the envelopes",
            "damaged",
        ),
        (
            "bundle-fail-pax-comment",
            bundle(
                members=tar_member(sub + "k3x9.sdenv", e1)
                + pax_member({"comment": "hello"}, sub + "z0a1.sdenv", e2)
            )
            + end,
            "a pax header with a comment record",
            "damaged",
        ),
        (
            "bundle-fail-one-end-block",
            good + bytes(512),
            "only one zero block at the end",
            "damaged",
        ),
        (
            "bundle-fail-nonzero-after-end",
            good + end + b"\x01" + bytes(511),
            "a non-zero byte after the end-of-archive blocks",
            "damaged",
        ),
        (
            "bundle-fail-nonzero-padding",
            good.replace(e1 + bytes(-len(e1) % 512), e1 + b"\x01" + bytes(-len(e1) % 512 - 1))
            + end,
            "a non-zero byte in k3x9's padding",
            "damaged",
        ),
        (
            "bundle-fail-bad-checksum",
            tar_member(sub + "k3x9.sdenv", e1)
            + tar_member(sub + "z0a1.sdenv", e2)[:150]
            + b"9"
            + tar_member(sub + "z0a1.sdenv", e2)[151:]
            + good[good.index(b"sealdrop-bundle/manifest.json") :]
            + end,
            "z0a1's header checksum altered",
            "damaged",
        ),
        (
            "bundle-fail-manifest-not-last",
            tar_member("sealdrop-bundle/manifest.json", manifest_json("submissions", ok_entries))
            + tar_member(sub + "k3x9.sdenv", e1)
            + tar_member(sub + "z0a1.sdenv", e2)
            + end,
            "the manifest first",
            "damaged",
        ),
        ("bundle-fail-version-2", bundle(version=2) + end, "version 2", "unsupported-version"),
        (
            "bundle-fail-version-true",
            bundle(version=True) + end,
            "version true (not 1)",
            "unsupported-version",
        ),
        (
            "bundle-fail-version-float",
            bundle(version=1.0) + end,
            "version 1.0 (not the integer 1)",
            "unsupported-version",
        ),
        (
            "bundle-fail-wrong-kind",
            bundle("replies") + end,
            "a replies bundle, read as submissions",
            "wrong-kind",
        ),
        ("bundle-fail-format", bundle(format="other") + end, "format 'other'", "not-a-bundle"),
    ]
    big_pax = tar_member("PaxHeader/y", b"9" * 5000, b"x") + tar_member(sub + "z0a1.sdenv", e2)
    fails.append(
        (
            "bundle-fail-pax-too-large",
            bundle(members=tar_member(sub + "k3x9.sdenv", e1) + big_pax) + end,
            "a pax header of 5,000 bytes (more than 4,096)",
            "damaged",
        )
    )
    for name, data, description, expect in fails:
        write_bundle_vector(name, data, description, expect)
    for name, changes, description in [
        (
            "bundle-fail-upper-hex",
            {"sha256": hashlib.sha256(e1).hexdigest().upper()},
            "an upper-case hash",
        ),
        ("bundle-fail-size-infinity", {"size": "INF"}, "size Infinity"),
        ("bundle-fail-size-string", {"size": str(len(e1))}, "size as a string"),
        ("bundle-fail-hour-9999", {"received": "9999-99-99T99:00Z"}, "an hour that does not exist"),
        (
            "bundle-fail-hour-arabic",
            {"received": "٢٠٢٦-١١-٢٤T١٢:00Z"},
            "an hour in Arabic-Indic digits",
        ),
        ("bundle-fail-hour-minutes", {"received": "2026-11-24T12:30Z"}, "an hour with minutes"),
    ]:
        listed = [
            entry_of("k3x9", e1, "submissions", **changes),
            entry_of("z0a1", e2, "submissions"),
        ]
        text = manifest_json("submissions", listed)
        text = text.replace(b'"size": "INF"', b'"size": Infinity')
        data = (
            tar_member(sub + "k3x9.sdenv", e1)
            + tar_member(sub + "z0a1.sdenv", e2)
            + tar_member("sealdrop-bundle/manifest.json", text)
            + end
        )
        write_bundle_vector(name, data, f"k3x9's entry has {description}", "damaged")
    text = manifest_json("submissions", ok_entries).replace(
        b'"id": "k3x9"', b'"id": "k3x9", "id": "k3x9"'
    )
    write_bundle_vector(
        "bundle-fail-duplicate-name",
        tar_member(sub + "k3x9.sdenv", e1)
        + tar_member(sub + "z0a1.sdenv", e2)
        + tar_member("sealdrop-bundle/manifest.json", text)
        + end,
        "the manifest names 'id' twice in one entry",
        "damaged",
    )
    flipped = bytearray(good + end)
    at = bytes(flipped).index(e2) + 300
    flipped[at] ^= 1
    write_bundle_vector(
        "bundle-fail-hash",
        bytes(flipped),
        "one bit of z0a1's envelope flipped: the structure is fine, z0a1 fails its hash and "
        "k3x9 still opens",
        "hash-mismatch",
        entries=ok_entries,
        bad_entries=["z0a1"],
    )


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["codenames"]:
        write_codenames()
    elif sys.argv[1:] == ["strict"]:  # only the vectors of issue 10; the others stay as they are
        write_strictness_vectors()
        write_bundle_vectors()
    else:
        main()
        write_strictness_vectors()
        write_bundle_vectors()
