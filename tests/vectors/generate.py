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
        hello[:8] + b"\x02" + hello[9:],
        "version byte 2",
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


if __name__ == "__main__":
    import sys

    write_codenames() if sys.argv[1:] == ["codenames"] else main()
