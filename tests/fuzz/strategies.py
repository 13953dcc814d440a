"""Structure-aware generators, seeded with tests/vectors: each input is either built from the
format's own pieces (records, JSON, tar members) or a committed vector with a few mutations
(bit flips, cut, splice, repeated or deleted slices, interesting bytes)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from hypothesis import strategies as st

from crypto import Identity

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
_KEYS = json.loads((VECTORS / "keys.json").read_text())
IDENTITIES = [Identity(bytes.fromhex(_KEYS["identities"][n]["secret_key_hex"])) for n in "ab"]
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x00FF, 64, 65, 8192, 8193, 65536, 65537, 2**31, 2**32 - 1]


def vector_bytes(suffix: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted(VECTORS.glob(f"*{suffix}"))]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes], max_mutations: int = 4) -> bytes:
    """A seed with up to ``max_mutations`` edits, each kept small so most of it still parses."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, max_mutations))):
        kind = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete", "repeat", "int"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[at] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF, ord("{"), ord("[")]))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 600))]
        elif kind == "int" and len(data) >= at + 4:
            value = draw(st.sampled_from(INTERESTING))
            data[at : at + 4] = struct.pack(">I", value & 0xFFFFFFFF)
    return bytes(data)


# JSON: valid values of every shape, then text that is almost JSON.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)

_JSON_EDITS = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e400",
    b"\xef\xbb\xbf",
    b"\xff",
    b'"\\ud800"',
    b"[" * 40,
    b"]" * 40,
    b"{" * 20,
    b',"kind":"file"',
    b"\x00",
    b"99999999999999999999",
    b"1.0",
    b"true",
]


@st.composite
def json_text(draw: st.DrawFn, objects: bool = True) -> bytes:
    """JSON as an untrusted writer might send it: valid, or valid with a hostile edit."""
    value = draw(
        st.dictionaries(st.text(max_size=8), json_values, max_size=5) if objects else json_values
    )
    text = json.dumps(value, ensure_ascii=draw(st.booleans())).encode("utf-8")
    if draw(st.booleans()):
        return text
    at = draw(st.integers(0, len(text)))
    edit = draw(st.sampled_from(_JSON_EDITS))
    if draw(st.booleans()):
        return text[:at] + edit + text[at:]
    return text[:at] + edit + text[at + len(edit) :]


# BEGIN and CLOSE bodies: mostly well-formed part descriptions, sometimes hostile JSON.
part_info = st.fixed_dictionaries(
    {"kind": st.sampled_from(["message", "file", "field", "other", ""])},
    optional={
        "name": st.text(max_size=12) | st.integers() | st.none(),
        "type": st.text(max_size=12) | st.lists(st.integers(), max_size=2),
    },
).map(lambda obj: json.dumps(obj).encode())
record_json = part_info | json_text()


@st.composite
def records(draw: st.DrawFn) -> bytes:
    """A record sequence (docs/FORMAT.md §3.3): usually in grammar, sometimes not."""
    out = bytearray()
    for _ in range(draw(st.integers(0, 6))):
        choice = draw(st.sampled_from(["part", "part", "begin", "data", "end", "close", "raw"]))
        if choice == "part":
            data = draw(st.binary(max_size=40))
            out += _record(1, draw(part_info))
            if data:
                out += _record(2, data)
            out += _record(3, struct.pack(">Q", len(data) + draw(st.sampled_from([0, 0, 0, 1]))))
        elif choice == "begin":
            out += _record(1, draw(record_json))
        elif choice == "data":
            out += _record(2, draw(st.binary(max_size=20)))
        elif choice == "end":
            out += _record(3, draw(st.binary(min_size=8, max_size=8)))
        elif choice == "close":
            out += _record(4, draw(record_json))
        else:
            out += draw(st.binary(max_size=9))
    if draw(st.integers(0, 9)):
        out += _record(4, draw(st.sampled_from([b"{}", b'{"reply_key":null}'])))
    return bytes(out)


def _record(kind: int, body: bytes) -> bytes:
    return struct.pack(">BI", kind, len(body)) + body
