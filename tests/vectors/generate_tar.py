"""Bundle vectors for the tar subset (FORMAT.md §4.1), the member and entry rules (§4.2, §4.3)
and bundles carrying staff events and confirmations (§8.3). Written beside generate.py's
bundle vectors, in the same form (``bundle-NAME.tar`` and ``bundle-NAME.json``).

Run: .venv/bin/python -m tests.vectors.generate_tar (after generate.py and generate_team.py:
it packs their envelopes, so it is deterministic given them).
"""

from __future__ import annotations

import json

from .generate import HERE, HOUR, entry_of, pax_member, write_bundle_vector

SUB = "sealdrop-bundle/submissions/"
EVENTS = "sealdrop-bundle/events/"
MANIFEST = "sealdrop-bundle/manifest.json"
END = bytes(1024)
EVENT_ID = "aaaaaaaaaaaaaaaaaaaaaaaaaa"


def header(
    name: str,
    size: int,
    kind: bytes = b"0",
    *,
    prefix: str = "",
    size_field: bytes | None = None,
) -> bytes:
    """One ustar header block; ``size_field`` replaces the octal size (base-256, say)."""
    block = bytearray(512)
    block[0:100] = name.encode("ascii").ljust(100, b"\0")
    block[100:108] = b"0000600\0"
    block[108:116] = b"0000000\0"
    block[116:124] = b"0000000\0"
    block[124:136] = size_field if size_field is not None else f"{size:011o}\0".encode()
    block[136:148] = b"00000000000\0"
    block[148:156] = b" " * 8
    block[156:157] = kind
    block[257:265] = b"ustar\x0000"
    block[345:500] = prefix.encode("ascii").ljust(155, b"\0")
    block[148:156] = f"{sum(block):06o}\0 ".encode()
    return bytes(block)


def member(
    name: str, data: bytes, kind: bytes = b"0", *, prefix: str = "", size_field: bytes | None = None
) -> bytes:
    block = header(name, len(data), kind, prefix=prefix, size_field=size_field)
    return block + data + bytes(-len(data) % 512)


def manifest(entries: list[dict[str, object]], kind: str = "submissions", **extra: object) -> bytes:
    doc = {"format": "sealdrop-bundle", "version": 1, "kind": kind, "created": HOUR, kind: entries}
    return json.dumps({**doc, **extra}, indent=1).encode()


def main() -> None:
    e1 = (HERE / "ok-hello.sdenv").read_bytes()
    e2 = (HERE / "ok-two-recipients.sdenv").read_bytes()
    event = (HERE / "team" / "ok-note-from-a.sdenv").read_bytes()
    one, two = entry_of("k3x9", e1, "submissions"), entry_of("z0a1", e2, "submissions")
    envelopes = member(SUB + "k3x9.sdenv", e1) + member(SUB + "z0a1.sdenv", e2)
    event_entry = {**entry_of(EVENT_ID, event, "submissions")}

    def bundle(members: bytes = envelopes, entries: list | None = None, **extra: object) -> bytes:
        listed = [one, two] if entries is None else entries
        return members + member(MANIFEST, manifest(listed, **extra)) + END

    def fail(name: str, data: bytes, description: str, expect: str = "damaged") -> None:
        write_bundle_vector(name, data, description, expect)

    # §4.1: the tar subset.
    fail(
        "bundle-fail-nul-type",
        bundle(member(SUB + "k3x9.sdenv", e1) + member(SUB + "z0a1.sdenv", e2, b"\0")),
        "z0a1 has the pre-POSIX NUL type flag",
    )
    fail(
        "bundle-fail-gnu-long-name",
        bundle(
            member(SUB + "k3x9.sdenv", e1)
            + member("././@LongLink", b"x" * 120, b"L")
            + member(SUB + "z0a1.sdenv", e2)
        ),
        "a GNU long-name member (type L) before z0a1",
    )
    fail(
        "bundle-fail-pax-global",
        member("pax_global_header", b"11 a=b\n", b"g") + bundle(),
        "a pax global header (type g) first",
        "not-a-bundle",
    )
    fail(
        "bundle-fail-hard-link",
        bundle(envelopes + member(SUB + "link.sdenv", b"", b"1")),
        "a hard link after the envelopes",
    )
    base256 = b"\x80" + bytes(7) + len(e2).to_bytes(4, "big")
    fail(
        "bundle-fail-base256-size",
        bundle(member(SUB + "k3x9.sdenv", e1) + member(SUB + "z0a1.sdenv", e2, size_field=base256)),
        "z0a1's size in GNU base-256 form",
    )
    fail(
        "bundle-fail-two-pax-headers",
        bundle(
            member(SUB + "k3x9.sdenv", e1)
            + member("PaxHeader/a", b"", b"x")
            + pax_member({"path": SUB + "z0a1.sdenv"}, "x", e2)
        ),
        "two pax headers in a row before z0a1",
    )
    bad_size = pax_member({"size": "12x"}, SUB + "k3x9.sdenv", e1)
    fail(
        "bundle-fail-pax-bad-size-first",
        bundle(bad_size + member(SUB + "z0a1.sdenv", e2)),
        "a leading pax header whose size record is not a number: a record, not the first block",
    )
    fail(
        "bundle-fail-pax-too-large-first",
        member("PaxHeader/y", b"9" * 5000, b"x") + bundle(),
        "a pax header of 5,000 bytes first: its size field is in the first block",
        "not-a-bundle",
    )
    fail(
        "bundle-fail-pax-then-end",
        envelopes + member(MANIFEST, manifest([one, two])) + member("PaxHeader/z", b"", b"x") + END,
        "a pax header followed by the end of the archive",
    )
    fail("bundle-fail-one-zero-block", bytes(512), "one zero block and nothing else")
    fail("bundle-fail-empty-archive", END, "two zero blocks: an archive with no member")
    write_bundle_vector(
        "bundle-ok-prefix-field",
        bundle(member("k3x9.sdenv", e1, prefix=SUB.rstrip("/")) + member(SUB + "z0a1.sdenv", e2)),
        "k3x9's path split between the ustar prefix and name fields",
        "ok",
        entries=[one, two],
    )

    # §4.2, §4.3: the manifest, members and entries.
    fail("bundle-fail-manifest-array", envelopes + member(MANIFEST, b"[]") + END, "a manifest []")
    fail("bundle-fail-member-not-listed", bundle(entries=[one]), "z0a1 is not in the manifest")
    fail(
        "bundle-fail-listed-missing",
        bundle(member(SUB + "k3x9.sdenv", e1)),
        "z0a1 is listed but has no member",
    )
    fail(
        "bundle-fail-two-members-one-id",
        bundle(envelopes + member(SUB + "k3x9.sdenv", e1)),
        "two members for k3x9",
    )
    fail("bundle-fail-two-entries-one-id", bundle(entries=[one, two, one]), "k3x9 listed twice")
    fail(
        "bundle-fail-size-differs",
        bundle(entries=[{**one, "size": len(e1) + 1}, two]),
        "k3x9's entry gives a size one byte more than its member",
    )
    fail(
        "bundle-fail-bad-path",
        bundle(member(SUB + "k3x9.sdenv", e1) + member("sealdrop-bundle/other/z0a1.sdenv", e2)),
        "z0a1 under a directory other than submissions/",
    )
    fail(
        "bundle-fail-hour-year-0",
        bundle(entries=[{**one, "received": "0000-01-01T00:00Z"}, two]),
        "k3x9 received in year 0000",
    )
    write_bundle_vector(
        "bundle-ok-created-and-unknown-members",
        bundle(entries=[{**one, "note": [1, 2]}, two], created="whenever", comment={"x": None}),
        "created is not an hour, and the manifest and an entry have members no reader knows: "
        "all ignored",
        "ok",
        entries=[one, two],
    )

    # §8.3: staff events and confirmations.
    with_event = envelopes + member(EVENTS + f"{EVENT_ID}.sdenv", event)
    write_bundle_vector(
        "bundle-ok-event",
        bundle(with_event, events=[event_entry]),
        "two envelopes and a staff event (team/ok-note-from-a) listed under events",
        "ok",
        entries=[one, two],
        events=[event_entry],
    )
    flipped = bytearray(bundle(with_event, events=[event_entry]))
    flipped[bytes(flipped).index(event) + 200] ^= 1
    write_bundle_vector(
        "bundle-fail-event-hash",
        bytes(flipped),
        "the staff event's envelope has one bit flipped: it fails its hash alone",
        "hash-mismatch",
        entries=[one, two],
        events=[event_entry],
        bad_entries=[EVENT_ID],
    )
    fail(
        "bundle-fail-event-not-listed",
        bundle(with_event),
        "a staff event member the manifest does not list",
    )
    write_bundle_vector(
        "bundle-ok-acks-in-submissions",
        bundle(acks={"reviewer": 7}),
        "a submissions bundle with a (malformed) acks member: ignored",
        "ok",
        entries=[one, two],
    )
    r1, r2 = entry_of("k3x9", e1, "replies"), entry_of("z0a1", e2, "replies")
    replies = member("sealdrop-bundle/replies/k3x9.sdenv", e1) + member(
        "sealdrop-bundle/replies/z0a1.sdenv", e2
    )
    acks = {"reviewer": "b0c159fde45a55d0", "submissions": ["k3x9"], "events": [EVENT_ID]}
    write_bundle_vector(
        "bundle-ok-replies-acks",
        replies + member(MANIFEST, manifest([r1, r2], "replies", acks=acks)) + END,
        "a replies bundle with confirmations",
        "ok",
        kind="replies",
        entries=[r1, r2],
        acks=acks,
    )
    for name, bad, what in (
        ("bundle-fail-acks-reviewer-number", {**acks, "reviewer": 1234567890123456}, "a number"),
        ("bundle-fail-acks-bad-id", {**acks, "events": ["A"]}, "an upper-case event id"),
    ):
        write_bundle_vector(
            name,
            replies + member(MANIFEST, manifest([r1, r2], "replies", acks=bad)) + END,
            f"a replies bundle whose confirmations hold {what}",
            "damaged",
            kind="replies",
        )


if __name__ == "__main__":
    main()
