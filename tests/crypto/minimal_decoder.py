"""A deliberately minimal, independent envelope decoder written from docs/FORMAT.md alone.

It shares no code with crypto/: if it opens the vectors the same way crypto/ does, the spec
is enough to implement the format. Whole-buffer, no streaming, no speed: clarity only.
"""

from __future__ import annotations

import contextlib
import json

import nacl.bindings as sodium
import nacl.exceptions


class Refused(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def blake2b(data: bytes, size: int, key: bytes = b"") -> bytes:
    return sodium.crypto_generichash.generichash_blake2b_salt_personal(
        data, digest_size=size, key=key
    )


def key_id(public_key: bytes) -> bytes:
    return blake2b(public_key, 32, b"sealdrop-fingerprint-v1")[:8]


def padme(n: int) -> int:
    e = n.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (n + mask) & ~mask


def decode(envelope: bytes, secret_keys: list[bytes]) -> tuple[list[dict], dict]:
    """Opens an envelope, reporting the first error in reading order (FORMAT.md §3.5)."""
    if envelope[:8] != b"SEALDROP":
        if envelope and len(envelope) < 8 and b"SEALDROP".startswith(envelope):
            raise Refused("truncated")
        raise Refused("not-an-envelope")
    if len(envelope) >= 9 and envelope[8] != 1:
        raise Refused("unsupported-version")
    if len(envelope) < 10:
        raise Refused("truncated")
    n = envelope[9]
    header_len = 10 + 88 * n + 24
    if not 1 <= n <= 64:
        raise Refused("corrupted")
    if len(envelope) < header_len:
        raise Refused("truncated")
    header = envelope[:header_len]
    stanzas = [header[10 + 88 * i : 10 + 88 * (i + 1)] for i in range(n)]
    if len({s[:8] for s in stanzas}) != n:
        raise Refused("corrupted")

    payload_key = None
    mine = False
    for stanza in stanzas:
        for sk in secret_keys:
            pk = sodium.crypto_scalarmult_base(sk)
            if stanza[:8] == key_id(pk) and payload_key is None:
                mine = True
                with contextlib.suppress(nacl.exceptions.CryptoError):
                    payload_key = sodium.crypto_box_seal_open(stanza[8:], pk, sk)
    if payload_key is None:
        raise Refused("corrupted" if mine else "not-for-you")

    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, header[-24:], payload_key)
    ad = blake2b(header, 32)
    body = envelope[header_len:]
    plaintext = b""
    start = 0
    while True:
        chunk = body[start : start + 65553]
        start += len(chunk)
        if len(chunk) <= 17:
            raise Refused("truncated")  # includes an "empty FINAL chunk": never written
        try:
            m, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, chunk, ad)
        except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError):
            raise Refused("corrupted") from None
        final = tag == sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
        if not final and tag != sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE:
            raise Refused("corrupted")
        if not final and len(m) != 65536:
            raise Refused("truncated")
        if final and start < len(body):
            raise Refused("corrupted")  # data after FINAL
        plaintext += m
        result = parse_records(plaintext, complete=final)
        if final:
            assert result is not None
            return result


def parse_records(plaintext: bytes, complete: bool = True) -> tuple[list[dict], dict] | None:
    """Checks the records in ``plaintext``; if not ``complete``, running out of bytes is not
    an error yet (the next chunk may bring them) and None is returned."""
    parts: list[dict] = []
    current: dict | None = None
    pos = 0
    while True:
        if pos + 5 > len(plaintext):
            if complete:
                raise Refused("malformed-content")
            return None
        kind = plaintext[pos]
        length = int.from_bytes(plaintext[pos + 1 : pos + 5], "big")
        allowed = {  # record type: (inside a part?, shortest body, longest body)
            1: (False, 2, 8192),
            2: (True, 1, 65536),
            3: (True, 8, 8),
            4: (False, 2, 8192),
        }.get(kind)
        if allowed is None or allowed[0] != (current is not None):
            raise Refused("malformed-content")
        if not allowed[1] <= length <= allowed[2]:
            raise Refused("malformed-content")
        body = plaintext[pos + 5 : pos + 5 + length]
        if len(body) != length:
            if complete:
                raise Refused("malformed-content")
            return None
        pos += 5 + length
        if kind == 1:
            info = strict_json_object(body)
            name, media_type = info.get("name"), info.get("type")
            if info.get("kind") not in ("message", "file", "field"):
                raise Refused("malformed-content")
            if not all(v is None or isinstance(v, str) for v in (name, media_type)):
                raise Refused("malformed-content")
            if info["kind"] != "message" and name is None:
                raise Refused("malformed-content")
            if info["kind"] == "message" and any(p["kind"] == "message" for p in parts):
                raise Refused("malformed-content")
            current = {"kind": info["kind"], "name": name, "type": media_type, "content": b""}
        elif kind == 2:
            assert current is not None
            current["content"] += body
        elif kind == 3:
            assert current is not None
            if int.from_bytes(body, "big") != len(current["content"]):
                raise Refused("malformed-content")
            parts.append(current)
            current = None
        else:
            trailer = strict_json_object(body)
            padding = plaintext[pos:]
            if padding.count(0) != len(padding):
                raise Refused("malformed-content")
            if not complete:
                return None
            if len(plaintext) != padme(max(pos, 2048)):
                raise Refused("malformed-content")
            return parts, trailer


def strict_json_object(body: bytes, max_depth: int = 16) -> dict:
    """FORMAT.md §3.4, written here from the spec: UTF-8 without BOM, no repeated names, no
    NaN or Infinity, integers within ±(2^53 − 1), no unpaired surrogates, depth ≤ max_depth."""

    def pairs(items: list) -> dict:
        names = [name for name, _ in items]
        if len(set(names)) != len(names):
            raise Refused("malformed-content")
        return dict(items)

    def constant(_: str) -> None:
        raise Refused("malformed-content")

    def integer(text: str) -> int:
        if len(text) > 17 or abs(int(text)) > 2**53 - 1:
            raise Refused("malformed-content")
        return int(text)

    def number(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise Refused("malformed-content")
        return value

    def depth(value: object) -> int:
        if isinstance(value, dict):
            return 1 + max(map(depth, value.values()), default=0)
        if isinstance(value, list):
            return 1 + max(map(depth, value), default=0)
        return 0

    def texts(value: object) -> None:
        if isinstance(value, str):
            value.encode("utf-8")  # refuses unpaired surrogates
        elif isinstance(value, dict):
            for name, item in value.items():
                texts(name)
                texts(item)
        elif isinstance(value, list):
            for item in value:
                texts(item)

    try:
        text = body.decode("utf-8")
        if text.startswith("\ufeff"):
            raise Refused("malformed-content")
        value = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=constant,
            parse_int=integer,
            parse_float=number,
        )
        if not isinstance(value, dict) or depth(value) > max_depth:
            raise Refused("malformed-content")
        texts(value)
    except (ValueError, RecursionError):  # UnicodeError is a ValueError
        raise Refused("malformed-content") from None
    return value


# --- bundles (FORMAT.md §4), whole-file ----------------------------------------------------


def read_bundle(data: bytes, kind: str = "submissions") -> dict:
    """``entries`` and ``events``: (manifest entry, envelope bytes) for each, and ``acks``
    (replies only, else None); or Refused with the error class of §4.3: not-a-bundle,
    unsupported-version, wrong-kind or damaged. Hashes are not checked here (that is per
    entry: see entry_matches)."""
    members = _tar_members(data)
    if not members or members[-1][0] != "sealdrop-bundle/manifest.json":
        raise Refused("damaged")
    try:
        manifest = strict_json_object(members[-1][1], max_depth=8)
    except Refused:
        raise Refused("damaged") from None
    if manifest.get("format") != "sealdrop-bundle":
        raise Refused("not-a-bundle")
    if type(manifest.get("version")) is not int or manifest["version"] != 1:
        raise Refused("unsupported-version")
    found = manifest.get("kind", "submissions")
    if found not in ("submissions", "replies"):
        raise Refused("damaged")
    if found != kind:
        raise Refused("wrong-kind")
    acks = manifest.get("acks") if kind == "replies" else None  # §4.3: ignored in submissions
    if "acks" in manifest and kind == "replies" and not _acks_ok(acks):
        raise Refused("damaged")
    listing, events = manifest.get(kind), manifest.get("events", [])
    if not isinstance(listing, list) or not isinstance(events, list):
        raise Refused("damaged")
    bodies: dict[str, dict[str, bytes]] = {kind: {}, "events": {}}
    for name, body in members[:-1]:
        folder, _, file = name.removeprefix("sealdrop-bundle/").partition("/")
        stem = file.removesuffix(".sdenv")
        if not name.startswith("sealdrop-bundle/") or folder not in bodies:
            raise Refused("damaged")
        if not file.endswith(".sdenv") or not _id_ok(stem) or stem in bodies[folder]:
            raise Refused("damaged")
        bodies[folder][stem] = body
    result = {"acks": acks}
    for folder, entries, entry_kind in ((kind, listing, kind), ("events", events, "events")):
        paired = []
        for entry in entries:
            if not _entry_ok(entry, entry_kind) or entry["id"] not in bodies[folder]:
                raise Refused("damaged")
            if len(bodies[folder][entry["id"]]) != entry["size"]:
                raise Refused("damaged")
            paired.append((entry, bodies[folder][entry["id"]]))
        ids = {e["id"] for e, _ in paired}
        if len(ids) != len(paired) or len(paired) != len(bodies[folder]):
            raise Refused("damaged")
        result["entries" if folder == kind else "events"] = paired
    return result


def _acks_ok(acks: object) -> bool:
    if not isinstance(acks, dict) or not isinstance(acks.get("reviewer"), str):
        return False
    if len(acks["reviewer"]) != 16 or any(c not in "0123456789abcdef" for c in acks["reviewer"]):
        return False
    lists = [acks.get("submissions"), acks.get("events")]
    return all(
        isinstance(ids, list) and all(isinstance(i, str) and _id_ok(i) for i in ids)
        for ids in lists
    )


def entry_matches(entry: dict, envelope: bytes) -> bool:
    import hashlib

    return hashlib.sha256(envelope).hexdigest() == entry["sha256"]


def _id_ok(text: str) -> bool:
    return 1 <= len(text) <= 64 and all(c in "abcdefghijklmnopqrstuvwxyz0123456789" for c in text)


def _entry_ok(entry: object, kind: str) -> bool:
    import calendar

    fields = {"id", "received", "size", "sha256"} | ({"mailbox"} if kind == "replies" else set())
    if not isinstance(entry, dict) or not fields <= set(entry):
        return False
    if type(entry["size"]) is not int or not 0 <= entry["size"] <= 2**53 - 1:
        return False
    if not all(isinstance(entry[f], str) for f in fields - {"size"}):
        return False
    hour = entry["received"]
    shape = "dddd-dd-ddTdd:00Z"  # d: an ASCII digit
    if len(hour) != len(shape) or not all(
        (c in "0123456789") if s == "d" else c == s for c, s in zip(hour, shape, strict=True)
    ):
        return False
    year, month, day, h = int(hour[0:4]), int(hour[5:7]), int(hour[8:10]), int(hour[11:13])
    if not (year >= 1 and 1 <= month <= 12 and h <= 23):
        return False
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    if not (len(entry["sha256"]) == 64 and all(c in "0123456789abcdef" for c in entry["sha256"])):
        return False
    mailbox = entry.get("mailbox")
    if kind == "replies" and not (
        len(mailbox) == 26 and all(c in "abcdefghijklmnopqrstuvwxyz234567" for c in mailbox)
    ):
        return False
    return _id_ok(entry["id"])


def _tar_members(data: bytes) -> list[tuple[str, bytes]]:
    """§4.1: ustar headers of type 0, each optionally preceded by one small pax header."""
    members: list[tuple[str, bytes]] = []
    pos = 0
    pax: dict[str, str] | None = None
    while True:
        block = data[pos : pos + 512]
        if len(block) < 512:
            raise Refused("not-a-bundle" if pos == 0 else "damaged")
        if block == bytes(512):
            if pax is not None or len(data) < pos + 1024 or data[pos:].count(0) != len(data) - pos:
                raise Refused("damaged")
            return members
        error = "not-a-bundle" if pos == 0 else "damaged"
        if block[257:265] != b"ustar\x0000":
            raise Refused(error)
        checksum = block[148:156].strip(b" \0")
        if not checksum or any(c not in b"01234567" for c in checksum):
            raise Refused(error)
        if int(checksum, 8) != sum(block[:148]) + 256 + sum(block[156:]):
            raise Refused(error)
        kind = block[156:157]
        size_field = block[124:136].rstrip(b" \0").lstrip(b" ")
        if (
            kind not in (b"0", b"x")
            or not size_field
            or any(c not in b"01234567" for c in size_field)
        ):
            raise Refused(error)
        size = int(size_field, 8)
        if kind == b"x" and size > 4096:  # judged from this block's size field alone
            raise Refused(error)
        if kind == b"0" and pax is not None and "size" in pax:
            if not pax["size"].isdigit() or not pax["size"].isascii():
                raise Refused("damaged")
            size = int(pax["size"])
        name = block[0:100].split(b"\0")[0]
        prefix = block[345:500].split(b"\0")[0]
        try:
            path = (prefix + b"/" + name if prefix else name).decode("ascii")
        except UnicodeDecodeError:
            raise Refused(error) from None
        body = data[pos + 512 : pos + 512 + size]
        end = pos + 512 + -(-size // 512) * 512
        if (
            len(body) != size
            or len(data) < end
            or data[pos + 512 + size : end].count(0) != end - pos - 512 - size
        ):
            raise Refused("damaged")
        if kind == b"x":
            if pax is not None or size > 4096:
                raise Refused("damaged")
            pax = _pax_records(body)
        else:
            if pax is not None:
                path = pax.get("path", path)
                pax = None
            members.append((path, body))
        pos = end


def _pax_records(body: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        space = body.find(b" ", pos)
        length_text = body[pos:space]
        if space < 0 or not length_text.isdigit() or length_text.startswith(b"0"):
            raise Refused("damaged")
        record = body[pos : pos + int(length_text)]
        if len(record) != int(length_text) or not record.endswith(b"\n"):
            raise Refused("damaged")
        key, sep, value = record[space - pos + 1 : -1].partition(b"=")
        if not sep or key not in (b"path", b"size") or key.decode() in records:
            raise Refused("damaged")
        records[key.decode()] = value.decode("utf-8")
        pos += len(record)
    return records


# --- deployment statements (FORMAT.md §7), whole-file -------------------------------------


def signing_fingerprint(public_key: bytes) -> str:
    digest = blake2b(public_key, 16, b"sealdrop-signing-fingerprint-v1").hex()
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def strict_base64(text: bytes) -> bytes | None:
    import base64
    import binascii

    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    return data if base64.b64encode(data) == text else None


def verify_statement(data: bytes, public_key: bytes) -> str:
    """ok, bad-signature or malformed, checked in §7's order."""
    import datetime
    import re

    if len(data) > 65536 or not data.endswith(b"\n"):
        return "malformed"
    lines = data.split(b"\n")[:-1]
    body = b"".join(line + b"\n" for line in lines[:-1])
    last = lines[-1]
    signature = strict_base64(last[11:]) if last.startswith(b"signature: ") else None
    if signature is None or len(signature) != 64:
        return "malformed"
    try:
        sodium.crypto_sign_open(signature + body, public_key)
    except nacl.exceptions.BadSignatureError:
        return "bad-signature"
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return "malformed"
    rows = text.split("\n")[:-1]
    if not rows or rows[0] != "sealdrop-deployment-v1" or "\r" in text:
        return "malformed"
    fields = [row.split(": ", 1) if ": " in row else [row, ""] for row in rows[1:]]
    names = [name for name, _ in fields]
    n_recipients = names.count("recipient")
    n_assets = len(names) - 3 - n_recipients
    expected = ["onion", "version", "issued"] + ["recipient"] * n_recipients + ["asset"] * n_assets
    if names != expected or n_recipients < 1 or n_assets < 1:
        return "malformed"
    values = [value for _, value in fields]
    onion, version, issued = values[:3]
    recipients, assets = values[3 : 3 + n_recipients], values[3 + n_recipients :]
    if not re.fullmatch(r"[a-z2-7]{56}\.onion", onion):
        return "malformed"
    if not re.fullmatch(r"[0-9A-Za-z.+!-]{1,64}", version):
        return "malformed"
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", issued):
        return "malformed"
    try:
        datetime.date(int(issued[:4]), int(issued[5:7]), int(issued[8:]))
    except ValueError:
        return "malformed"
    if not all(re.fullmatch(r"[0-9a-f]{4}( [0-9a-f]{4}){7}", r) for r in recipients):
        return "malformed"
    if recipients != sorted(set(recipients)):
        return "malformed"
    segment = r"[a-z0-9][a-z0-9._-]*"
    paths = []
    for asset in assets:
        digest, _, path = asset.partition(" ")
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            return "malformed"
        if not re.fullmatch(f"{segment}(/{segment})*", path):
            return "malformed"
        paths.append(path.encode())
    return "ok" if paths == sorted(set(paths)) else "malformed"


# --- staff events (FORMAT.md §8.2) ----------------------------------------------------------


def read_staff_event(envelope: bytes, secret_keys: list[bytes], team: dict[bytes, bytes]) -> str:
    """ok, forged or malformed; ``team`` maps each member's Ed25519 key to their X25519 key.
    Envelope errors are not expected here (Refused propagates)."""
    import re

    parts, trailer = decode(envelope, secret_keys)
    shape = ("file", "staff-event", "application/vnd.sealdrop.staff-event")
    if trailer.get("sealdrop") != "staff-event-v1" or len(parts) != 1:
        return "forged"
    if (parts[0]["kind"], parts[0]["name"], parts[0]["type"]) != shape:
        return "forged"
    blob = parts[0]["content"]
    spk, signature, item = blob[:32], blob[32:96], blob[96:]
    if len(blob) < 96 or len(item) > 1 << 20 or spk not in team:
        return "forged"
    context = b"sealdrop-staff-event-v1\x00"
    try:
        sodium.crypto_sign_open(signature + context + spk + item, spk)
    except nacl.exceptions.BadSignatureError:
        return "forged"
    try:
        record = strict_json_object(item, max_depth=8).get("event")
    except Refused:
        return "malformed"
    names = {"v", "id", "author", "clock", "conversation", "kind", "hour", "payload"}
    if not isinstance(record, dict) or set(record) != names or type(record["v"]) is not int:
        return "malformed"
    checks = [
        record["v"] == 1,
        isinstance(record["id"], str) and re.fullmatch("[a-z2-7]{26}", record["id"]),
        isinstance(record["author"], str) and re.fullmatch("[0-9a-f]{16}", record["author"]),
        type(record["clock"]) is int and 1 <= record["clock"] <= 2**53 - 1,
        isinstance(record["conversation"], str)
        and re.fullmatch("[a-z0-9]{1,64}", record["conversation"]),
        isinstance(record["kind"], str) and re.fullmatch("[a-z-]{1,32}", record["kind"]),
        isinstance(record["hour"], str)
        and _entry_ok(
            {"id": "x", "received": record["hour"], "size": 0, "sha256": "0" * 64}, "events"
        ),
        isinstance(record["payload"], dict),
    ]
    if not all(checks):
        return "malformed"
    if record["kind"] == "note":  # the kind these vectors use; the others are alike
        text = record["payload"].get("text")
        blank = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
        blank += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
        if not isinstance(text, str) or not 1 <= len(text) <= 65536 or not text.strip(blank):
            return "malformed"
    if record["author"] != key_id(team[spk]).hex():
        return "forged"
    return "ok"


# --- key files (FORMAT.md §1, §2) ----------------------------------------------------------

_SPACE = " \t\r"
_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def read_key_line(line: str, prefix: str = "sdpub1", label: bytes = b"sealdrop-pubkey-checksum-v1"):
    """The 32-byte key of a §1 line, or Refused("invalid")."""
    import base64

    text = "".join(c for c in line if c not in " \t\r\n")
    if not text.isascii():
        raise Refused("invalid")
    text = text.lower()
    body = text[len(prefix) :]
    if not text.startswith(prefix) or len(body) != 58 or any(c not in _B32 for c in body):
        raise Refused("invalid")
    data = base64.b32decode(body.upper() + "======")
    if base64.b32encode(data).decode().rstrip("=").lower() != body:
        raise Refused("invalid")
    if blake2b(data[:32], 4, label) != data[32:]:
        raise Refused("invalid")
    return data[:32]


def read_public_key_file(data: bytes) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("invalid") from None
    for line in text.split("\n"):
        line = line.strip(_SPACE)
        if line.startswith("public-key:"):
            return read_key_line(line[len("public-key:") :])
        if line and not line.startswith("#") and ":" not in line:
            return read_key_line(line)
    raise Refused("invalid")


def read_identity(data: bytes, passphrase: str) -> bytes:
    """The 32-byte secret key, or Refused naming the first failure of §2's order."""
    import unicodedata

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("not-utf8") from None
    fields: dict[str, str] = {}
    for line in text.split("\n"):
        line = line.strip(_SPACE)
        if not line or line.startswith("#") or ":" not in line:
            continue
        name, value = (part.strip(_SPACE) for part in line.split(":", 1))
        if name in fields:
            raise Refused("repeated-field")
        fields[name] = value
    if "secret-key" not in fields:
        raise Refused("no-secret-key")
    blob = strict_base64(fields["secret-key"].encode()) if fields["secret-key"].isascii() else None
    if blob is None:
        raise Refused("bad-base64")
    if len(blob) != 101:
        raise Refused("blob-length")
    if blob[0] != 1:
        raise Refused("unsupported-version")
    opslimit, memlimit = int.from_bytes(blob[1:5], "big"), int.from_bytes(blob[5:13], "big")
    if not (1 <= opslimit <= 64 and 8192 <= memlimit <= 4 << 30):
        raise Refused("limits")
    if not passphrase:
        raise Refused("wrong-passphrase")
    key = sodium.crypto_pwhash_alg(
        32,
        unicodedata.normalize("NFC", passphrase).encode(),
        blob[13:29],
        opslimit,
        memlimit,
        sodium.crypto_pwhash_ALG_ARGON2ID13,
    )
    try:
        secret = sodium.crypto_secretbox_open(blob[53:], blob[29:53], key)
    except nacl.exceptions.CryptoError:
        raise Refused("wrong-passphrase") from None
    if "public-key" in fields:
        try:
            public = read_key_line(fields["public-key"])
        except Refused:
            raise Refused("public-key-mismatch") from None
        if public != sodium.crypto_scalarmult_base(secret):
            raise Refused("public-key-mismatch")
    return secret


# --- typed codenames (FORMAT.md §5.2, §5.3) -------------------------------------------------

_SEPARATORS = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff0123456789-_.,;:/()"
)


def _fold(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFC", text).lower()
    return folded.translate(str.maketrans("ёйщъ", "еишь"))


def _osa_one(a: str, b: str) -> bool:
    """Optimal string alignment distance exactly 1, by brute force over the four edits."""
    if a == b:
        return False
    letters = set(a) | set(b)
    edits = {a[:i] + a[i + 1 :] for i in range(len(a))}
    edits |= {a[:i] + c + a[i:] for i in range(len(a) + 1) for c in letters}
    edits |= {a[:i] + c + a[i + 1 :] for i in range(len(a)) for c in letters}
    edits |= {a[:i] + a[i + 1] + a[i] + a[i + 2 :] for i in range(len(a) - 1)}
    return b in edits


def read_codename(text: str) -> dict:
    from pathlib import Path

    import mnemonic

    root = Path(__file__).resolve().parents[2] / "crypto" / "wordlists"
    lists = {lang: (root / f"{lang}.txt").read_text("utf-8").split() for lang in ("en", "ru")}
    bip39 = mnemonic.Mnemonic("english").wordlist
    pieces = [text]
    for separator in _SEPARATORS:
        pieces = [part for piece in pieces for part in piece.split(separator)]
    pieces = [p for p in (_fold(p) for p in pieces) if p]
    if len(pieces) != 8:
        return {"error": "count", "count": len(pieces)}
    words = [(lang, i, _fold(w)) for lang, ws in lists.items() for i, w in enumerate(ws)]

    def bip39_match(piece: str) -> str | None:
        if piece in bip39:
            return piece
        heads = [w for w in bip39 if len(piece) >= 4 and w[:4] == piece[:4]]
        return heads[0] if heads else None

    def names_new_word(piece: str) -> bool:
        heads = {w for _, _, w in words} | {w[:4] for _, _, w in words}
        return piece in heads or (len(piece) >= 4 and piece[:4] in heads)

    apart = sum(1 for p in pieces if names_new_word(p) and bip39_match(p) is None)
    if apart < 2:
        found = [bip39_match(p) for p in pieces]
        for number, word in enumerate(found, 1):
            if word is None:
                return {"error": "word", "position": number}
        canonical = " ".join(found)  # type: ignore[arg-type]
        return {"version": 1, "canonical": canonical, "secret_hex": canonical.encode().hex()}
    resolved = []
    for number, piece in enumerate(pieces, 1):
        rules = [lambda w, p=piece: w == p or w[:4] == p]
        if len(piece) >= 4:
            rules += [
                lambda w, p=piece: _osa_one(p, w),
                lambda w, p=piece: w[:4] == p[:4],
                lambda w, p=piece: _osa_one(p[:4], w[:4]),
            ]
        found = []
        for rule in rules:
            found = [(lang, i) for lang, i, w in words if rule(w)]
            if found:
                break
        if len(found) != 1:
            return {"error": "word", "position": number}
        resolved.append(found[0])
    language = resolved[0][0]
    positions = [i for _, i in resolved]
    return {
        "version": 2,
        "canonical": " ".join(lists[language][i] for i in positions),
        "secret_hex": b"".join(i.to_bytes(2, "big") for i in positions).hex(),
    }


# --- threads (FORMAT.md §5.6) ---------------------------------------------------------------


def thread_members(submissions: list[dict]) -> list[str]:
    """The ids, of submissions naming one reply key in order, that belong to its thread."""
    proven = [s for s in submissions if s["proof"] == "proven"]
    unproven = [s for s in submissions if s["proof"] == "unproven"]
    anchor = (proven or unproven or [None])[0]
    before = submissions.index(proven[0]) if proven else len(submissions)
    return [
        s["id"]
        for place, s in enumerate(submissions)
        if s["proof"] == "proven"
        or (s["proof"] == "unproven" and place < before and s["mailbox"] == anchor["mailbox"])
    ]
