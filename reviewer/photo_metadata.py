"""Where a photo was taken, and removing it: the staff side of what the submission page does in
the browser (intake/static/src/strip-metadata.js, the same rules).

``carries_location`` tells whether a file says where it was made: an EXIF GPS position (JPEG,
PNG, WebP), an XMP GPS tag, or a video's location atom (MP4/MOV ``©xyz``). It reads only the
file's first 256 KiB and last 1 MiB, where these live.

``strip`` rewrites a JPEG, PNG or WebP without its location and device details (EXIF, XMP,
IPTC, comments, text chunks, what follows the image), copying the image data byte for byte
and keeping a JPEG's orientation. ``strip_video`` renames an MP4/MOV file's metadata boxes
"free" in place. Every parser here reads its input once, front to back.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

HEAD_BYTES = 256 * 1024
TAIL_BYTES = 1 << 20
_GPS_IFD = 0x8825
_GPS_LATITUDE = 0x0002
_ORIENTATION = 0x0112
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DROPPED = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}
# XMP's GPS tags and QuickTime/MP4 location atoms, found as bytes wherever they sit.
_LOCATION_MARKS = re.compile(
    rb"exif:GPSLatitude|GPSLatitude=|\xa9xyz|com\.apple\.quicktime\.location"
)


class NotAPhoto(Exception):
    """Not a JPEG, PNG or WebP."""


class MalformedPhoto(Exception):
    """It starts like a photo but its structure is broken: nothing can be said to be removed."""


# --- reading EXIF ------------------------------------------------------------------------


def _ifd_entries(tiff: bytes, offset: int) -> dict[int, tuple[int, int, bytes]]:
    """IFD entries at ``offset`` of a TIFF block: tag -> (type, count, 4 value bytes)."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return {}
    order = "<" if tiff[:2] == b"II" else ">"
    if offset + 2 > len(tiff):
        return {}
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    entries = {}
    for i in range(count):
        at = offset + 2 + 12 * i
        if at + 12 > len(tiff):
            break
        tag, kind, number = struct.unpack_from(order + "HHI", tiff, at)
        entries[tag] = (kind, number, tiff[at + 8 : at + 12])
    return entries


def _tiff_gps(tiff: bytes) -> bool:
    """True if the TIFF/EXIF block has a GPS directory holding a latitude."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return False
    order = "<" if tiff[:2] == b"II" else ">"
    (first,) = struct.unpack_from(order + "I", tiff, 4)
    gps = _ifd_entries(tiff, first).get(_GPS_IFD)
    if gps is None:
        return False
    (offset,) = struct.unpack(order + "I", gps[2])
    return _GPS_LATITUDE in _ifd_entries(tiff, offset)


def _orientation(tiff: bytes) -> int:
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return 0
    order = "<" if tiff[:2] == b"II" else ">"
    (first,) = struct.unpack_from(order + "I", tiff, 4)
    entry = _ifd_entries(tiff, first).get(_ORIENTATION)
    if entry is None:
        return 0
    (value,) = struct.unpack_from(order + "H", entry[2])
    return value if 1 <= value <= 8 else 0


def _exif_blocks(data: bytes) -> list[bytes]:
    """The EXIF (TIFF) blocks a photo's first bytes hold, by its format."""
    blocks = []
    if data.startswith(b"\xff\xd8"):
        for marker, body in _jpeg_segments(data, partial=True):
            if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
                blocks.append(body[6:])
    elif data.startswith(_PNG_SIGNATURE):
        blocks += [body for kind, body, _raw in _png_chunks(data, partial=True) if kind == b"eXIf"]
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        for kind, body, _raw in _webp_chunks(data, partial=True):
            if kind == b"EXIF":
                blocks.append(body.removeprefix(b"Exif\x00\x00"))
    return blocks


def carries_location(path: Path) -> bool:
    """Whether the file says where it was made (see the module's docstring)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        size = handle.seek(0, 2)
        tail = b""
        if size > HEAD_BYTES:
            handle.seek(max(HEAD_BYTES, size - TAIL_BYTES))
            tail = handle.read(TAIL_BYTES)
    if any(_tiff_gps(block) for block in _exif_blocks(head)):
        return True
    return bool(_LOCATION_MARKS.search(head) or _LOCATION_MARKS.search(tail))


# --- the formats -------------------------------------------------------------------------


def _jpeg_segments(data: bytes, partial: bool = False):  # type: ignore[no-untyped-def]
    """(marker, body) for each segment up to the end of the image, scans included as
    (0, entropy-coded bytes); (None, raw) for standalone markers. ``partial``: stop quietly
    where the data ends instead of raising MalformedPhoto."""
    at = 2
    while True:
        if at + 2 > len(data) or data[at] != 0xFF:
            if partial:
                return
            raise MalformedPhoto("a JPEG segment does not start where it should")
        marker = data[at + 1]
        if marker == 0xFF:
            at += 1
            continue
        if marker == 0xD9:
            yield None, data[at : at + 2]
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            yield None, data[at : at + 2]
            at += 2
            continue
        if at + 4 > len(data):
            if partial:
                return
            raise MalformedPhoto("a JPEG segment is cut short")
        (length,) = struct.unpack_from(">H", data, at + 2)
        end = at + 2 + length
        if length < 2 or end > len(data):
            if partial:
                return
            raise MalformedPhoto("a JPEG segment runs past the end of the file")
        yield marker, data[at + 4 : end]
        at = end
        if marker == 0xDA:
            scan_end = _scan_end(data, at)
            if scan_end is None:
                if partial:
                    return
                raise MalformedPhoto("a JPEG scan has no end")
            yield 0, data[at:scan_end]
            at = scan_end


def _scan_end(data: bytes, at: int) -> int | None:
    """Where the entropy-coded data starting at ``at`` ends: the next marker that is not
    stuffing (FF00), a fill byte or a restart."""
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= len(data):
            return None
        following = data[at + 1]
        if following == 0 or 0xD0 <= following <= 0xD7:
            at += 2
        elif following == 0xFF:
            at += 1
        else:
            return at


def _keep_jpeg(marker: int, body: bytes) -> bool:
    if marker == 0xE0:
        return body.startswith(b"JFIF\x00")
    if marker == 0xE2:
        return body.startswith(b"ICC_PROFILE\x00")
    if marker == 0xEE:
        return body.startswith(b"Adobe")
    return not (0xE1 <= marker <= 0xEF or marker == 0xFE)


def _orientation_segment(orientation: int) -> bytes:
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + struct.pack(
        ">HHHIHH", 1, _ORIENTATION, 3, 1, orientation, 0
    )
    body = b"Exif\x00\x00" + tiff + b"\x00\x00\x00\x00"
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _strip_jpeg(data: bytes) -> bytes:
    out = [data[:2]]
    orientation = 0
    for marker, body in _jpeg_segments(data):
        if marker is None or marker == 0:
            out.append(body)
            continue
        if marker == 0xE1 and not orientation and body.startswith(b"Exif\x00\x00"):
            orientation = _orientation(body[6:])
        if _keep_jpeg(marker, body):
            out.append(b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body)
    if orientation > 1:
        out.insert(1, _orientation_segment(orientation))
    return b"".join(out)


def _png_chunks(data: bytes, partial: bool = False):  # type: ignore[no-untyped-def]
    at = 8
    while True:
        if at + 12 > len(data):
            if partial:
                return
            raise MalformedPhoto("a PNG chunk is cut short")
        (length,) = struct.unpack_from(">I", data, at)
        end = at + 12 + length
        if end > len(data):
            if partial:
                return
            raise MalformedPhoto("a PNG chunk runs past the end of the file")
        kind = data[at + 4 : at + 8]
        yield kind, data[at + 8 : at + 8 + length], data[at:end]
        at = end
        if kind == b"IEND":
            return


def _strip_png(data: bytes) -> bytes:
    kept = [raw for kind, _body, raw in _png_chunks(data) if kind not in _PNG_DROPPED]
    return data[:8] + b"".join(kept)


def _webp_chunks(data: bytes, partial: bool = False):  # type: ignore[no-untyped-def]
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = min(8 + riff_size, len(data)) if partial else 8 + riff_size
    if end > len(data):
        raise MalformedPhoto("the WebP file is shorter than it says")
    at = 12
    while at < end:
        if at + 8 > end:
            if partial:
                return
            raise MalformedPhoto("a WebP chunk is cut short")
        (size,) = struct.unpack_from("<I", data, at + 4)
        following = at + 8 + size + (size % 2)
        if following > end:
            if partial:
                return
            raise MalformedPhoto("a WebP chunk runs past the end of the file")
        yield data[at : at + 4], data[at + 8 : at + 8 + size], data[at:following]
        at = following


def _strip_webp(data: bytes) -> bytes:
    kept = []
    for kind, _body, raw in _webp_chunks(data):
        if kind == b"VP8X" and len(raw) > 8:
            flags = raw[8] & ~(0x08 | 0x04)
            raw = raw[:8] + bytes([flags]) + raw[9:]
        elif kind in (b"EXIF", b"XMP "):
            continue
        kept.append(raw)
    body = b"WEBP" + b"".join(kept)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def strip(data: bytes) -> bytes:
    """The photo without location and device details; NotAPhoto or MalformedPhoto."""
    if data.startswith(b"\xff\xd8\xff"):
        return _strip_jpeg(data)
    if data.startswith(_PNG_SIGNATURE):
        return _strip_png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 12:
        return _strip_webp(data)
    raise NotAPhoto()


# --- MP4 / MOV ---------------------------------------------------------------------------

_VIDEO_BRANDS = re.compile(
    rb"isom|iso[2-9]|mp4[12]|avc1|qt  |M4V |M4A |3gp[4-9]|3g2[abc]|MSNV|dash"
)
_MAX_MOVIE_BOX = 64 << 20


def is_video(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and _VIDEO_BRANDS.fullmatch(head[8:12]) is not None


def _box_size(header: bytes, left: int) -> int | None:
    (size,) = struct.unpack_from(">I", header)
    if size == 1:
        if len(header) < 16:
            return None
        (size,) = struct.unpack_from(">Q", header, 8)
    elif size == 0:
        size = left
    return size if 8 <= size <= left else None


def _free_metadata(movie: bytearray, at: int, end: int) -> None:
    """Renames the user-data and metadata boxes among the children of [at, end) "free",
    descending into tracks."""
    while at < end:
        size = _box_size(bytes(movie[at : at + 16]), end - at)
        if size is None:
            raise MalformedPhoto("a box in the video's movie box runs past its end")
        kind = bytes(movie[at + 4 : at + 8])
        header = 16 if struct.unpack_from(">I", movie, at)[0] == 1 else 8
        if kind in (b"udta", b"meta"):
            movie[at + 4 : at + 8] = b"free"
        elif kind == b"trak":
            _free_metadata(movie, at + header, at + size)
        at += size


def strip_video(path: Path) -> None:
    """Renames an MP4/MOV file's metadata boxes (place, phone) "free" in place, as the
    submission page does: no size or offset changes, the media data untouched."""
    with path.open("r+b") as handle:
        total = handle.seek(0, 2)
        at = 0
        while at < total:
            handle.seek(at)
            header = handle.read(16)
            size = _box_size(header, total - at) if len(header) >= 8 else None
            if size is None:
                raise MalformedPhoto("a box of the video runs past the end of the file")
            if header[4:8] == b"moov":
                if size > _MAX_MOVIE_BOX:
                    raise MalformedPhoto("the video's movie box is too large to check")
                handle.seek(at)
                movie = bytearray(handle.read(size))
                inner = 16 if struct.unpack_from(">I", movie)[0] == 1 else 8
                _free_metadata(movie, inner, len(movie))
                handle.seek(at)
                handle.write(movie)
                return
            at += size
    raise MalformedPhoto("the video has no movie box")


def is_photo(head: bytes) -> bool:
    return (
        head.startswith(b"\xff\xd8\xff")
        or head.startswith(_PNG_SIGNATURE)
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    )
