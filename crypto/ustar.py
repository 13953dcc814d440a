"""The strict tar reader for bundles (docs/FORMAT.md, section 4.1): the few tar forms a bundle
may use, every other one refused, and nothing read that the reader will not use.

Python's tarfile accepts every tar dialect, reads pax headers whole (300 MB if the archive says
so) and gives sparse or linked members a meaning a bundle must not have. A bundle needs only
regular files, optionally preceded by a small pax header giving ``path`` or ``size``; so this
reader walks the 512-byte headers itself, checks each checksum and padding, and refuses
anything else before reading its data.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import BinaryIO

BLOCK = 512
MAX_PAX = 4096  # a pax header with path and size is well under 200 bytes
MAX_SIZE = (1 << 53) - 1
_ZERO_BLOCK = bytes(BLOCK)
_OCTAL = re.compile(rb" *([0-7]{1,12})[ \0]*")
_PAX_RECORD = re.compile(rb"([1-9][0-9]{0,5}) ")
_PAX_KEYS = {"path", "size"}
_TYPES = {
    b"1": "a hard link",
    b"2": "a symbolic link",
    b"3": "a character device",
    b"4": "a block device",
    b"5": "a directory",
    b"6": "a FIFO",
    b"7": "a contiguous file",
    b"g": "a pax global header",
    b"L": "a GNU long name",
    b"K": "a GNU long link name",
    b"S": "a GNU sparse member",
    b"\0": "an old-style (pre-POSIX) file",
}


class TarRefused(ValueError):
    """The archive breaks section 4.1. ``offset`` is the first byte found wrong (None: the file
    is not a tar archive at all); the message is one sentence about what was found."""

    def __init__(self, message: str, offset: int | None, *, cut: bool = False) -> None:
        super().__init__(message)
        self.offset = offset
        self.cut = cut  # the file ends too early (truncated) rather than holding bad bytes


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    offset: int  # of its (first) header block
    offset_data: int


def read_members(source: BinaryIO) -> list[Member]:
    """Every member of the archive in order, after checking the whole archive's structure:
    headers, checksums, zero padding, the end-of-archive blocks and the zeros after them."""
    size = source.seek(0, os.SEEK_END)
    members: list[Member] = []
    position = 0
    pax: dict[str, str] | None = None
    pax_offset = 0
    while True:
        block = _read_at(source, position, BLOCK)
        if len(block) < BLOCK:
            if position == 0:
                raise TarRefused("it is empty or shorter than one tar block", None, cut=True)
            raise TarRefused(
                "the bundle is cut short (its end-of-archive marker is missing)", size, cut=True
            )
        if block == _ZERO_BLOCK:
            if pax is not None:
                raise TarRefused("a pax header is followed by no member", position)
            _check_end(source, position, size)
            return members
        kind, name, declared = _parse_header(block, position)
        start = position
        data_offset = position + BLOCK
        if kind == b"x":
            if pax is not None:
                raise TarRefused("two pax headers follow each other", position)
            if declared > MAX_PAX:
                raise TarRefused(
                    f"it holds a pax header of {declared} bytes (at most {MAX_PAX} are allowed)",
                    position,
                )
            body = _read_at(source, data_offset, declared)
            if len(body) < declared:
                raise TarRefused("the bundle ends inside a pax header", size, cut=True)
            pax, pax_offset = _parse_pax(body, data_offset), position
            position = _after(source, data_offset, declared, size)
            continue
        if pax is not None:
            start = pax_offset
            name = pax.get("path", name)
            if "size" in pax:  # a record's fault, found after the first block: never offset 0
                declared = _pax_size(pax["size"], pax_offset + BLOCK)
            pax = None
        if data_offset + declared > size:
            raise TarRefused(f"the bundle ends inside its entry {name!r}", size, cut=True)
        members.append(Member(name, declared, start, data_offset))
        position = _after(source, data_offset, declared, size)


def _read_at(source: BinaryIO, offset: int, length: int) -> bytes:
    source.seek(offset)
    return source.read(length)


def _parse_header(block: bytes, position: int) -> tuple[bytes, str, int]:
    """(type flag, path, size) of a ustar header block, checked."""
    where = position if position else None
    if block[257:265] != b"ustar\x0000":
        raise TarRefused("a tar header is not a POSIX ustar header", where)
    stored = _octal(block[148:156])
    if stored is None or stored != sum(block[:148]) + 8 * 32 + sum(block[156:]):
        raise TarRefused("a tar header's checksum does not match", where)
    kind = block[156:157]
    if kind not in (b"0", b"x"):
        found = _TYPES.get(kind, f"an entry of type {kind!r}")
        raise TarRefused(
            f"it holds {found}; a bundle holds only regular files and pax headers", where
        )
    size = _octal(block[124:136])
    if size is None:
        raise TarRefused("a tar header's size is not an octal number", where)
    try:
        name = _text(block[0:100])
        prefix = _text(block[345:500])
    except UnicodeDecodeError:
        raise TarRefused("a tar header's name is not ASCII", where) from None
    return kind, f"{prefix}/{name}" if prefix else name, size


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("ascii")


def _octal(field: bytes) -> int | None:
    match = _OCTAL.fullmatch(field)
    return int(match.group(1), 8) if match else None


def _after(source: BinaryIO, data_offset: int, length: int, size: int) -> int:
    """Where the next header starts; the padding up to it must be zeros."""
    end = data_offset + length
    next_header = -(-end // BLOCK) * BLOCK
    if next_header > size:
        raise TarRefused("the bundle is cut short inside an entry's padding", size, cut=True)
    padding = _read_at(source, end, next_header - end)
    stripped = padding.lstrip(b"\0")
    if stripped:
        raise TarRefused("non-zero bytes in tar padding", next_header - len(stripped))
    return next_header


def _check_end(source: BinaryIO, position: int, size: int) -> None:
    """Two zero blocks end the archive; only zeros may follow them (tar's record padding)."""
    if position + 2 * BLOCK > size:
        raise TarRefused(
            "the bundle is cut short (its end-of-archive marker is missing)", size, cut=True
        )
    offset = position + BLOCK
    while piece := _read_at(source, offset, 1 << 20):
        stripped = piece.lstrip(b"\0")
        if stripped:
            raise TarRefused(
                "non-zero bytes in or after the end-of-archive marker",
                offset + len(piece) - len(stripped),
            )
        offset += len(piece)


def _parse_pax(body: bytes, offset: int) -> dict[str, str]:
    """Records ``LENGTH key=value\\n``; only ``path`` and ``size``, each at most once."""
    records: dict[str, str] = {}
    position = 0
    while position < len(body):
        match = _PAX_RECORD.match(body, position)
        length = int(match.group(1)) if match else 0
        record = body[position : position + length]
        if not match or len(record) != length or not record.endswith(b"\n"):
            raise TarRefused("a pax header's records are malformed", offset + position)
        key, sep, value = record[match.end() - position : -1].partition(b"=")
        try:
            name, text = key.decode("ascii"), value.decode("utf-8")
        except UnicodeDecodeError:
            name, text = "", ""
        if not sep or name not in _PAX_KEYS or name in records:
            raise TarRefused(
                f"a pax header holds the record {key[:40]!r} (only path and size are allowed, "
                "once each)",
                offset + position,
            )
        records[name] = text
        position += length
    return records


def _pax_size(text: str, offset: int) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 16) or int(text) > MAX_SIZE:
        raise TarRefused("a pax header's size is not a plausible decimal number", offset)
    return int(text)
