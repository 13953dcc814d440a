"""Bundles (FORMAT.md §4, §8.3), whole-file."""

from __future__ import annotations

from .envelope import Refused, strict_json_object


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
