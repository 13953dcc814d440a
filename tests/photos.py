"""Photos carrying a location and a camera, made with exiftool, for the metadata tests (the
browser's strip-metadata.js, the reviewer's location flag and strip-on-save). The image data
is a real 1x1 baseline JPEG / PNG; exiftool writes the EXIF, XMP and comments around it."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

LATITUDE = "43.3178"
MODEL = "SM-A525F"
TAGS = [
    f"-GPSLatitude={LATITUDE}",
    "-GPSLatitudeRef=N",
    "-GPSLongitude=45.6981",
    "-GPSLongitudeRef=E",
    "-Make=Samsung",
    f"-Model={MODEL}",
    "-SerialNumber=R58R12345",
    "-XMP:Creator=Someone",
    "-XMP-exif:GPSLatitude=43.3178 N",
]
# What must be gone from a cleaned photo (exiftool's group:tag names).
IDENTIFYING = ("GPS", "Make", "Model", "SerialNumber", "Creator", "Comment")


def exiftool() -> str:
    path = shutil.which("exiftool")
    if path is None:
        pytest.fail("exiftool is missing: install libimage-exiftool-perl")
    return path


def base_jpeg() -> bytes:
    b = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    b += b"\xff\xdb\x00\x43\x00" + bytes([1] * 64)
    b += b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
    b += b"\xff\xc4\x00\x14\x00" + bytes([1] + [0] * 15) + b"\x00"
    b += b"\xff\xc4\x00\x14\x10" + bytes([1] + [0] * 15) + b"\x00"
    b += b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x3f\xff\xd9"
    return b


def base_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


def webp() -> bytes:
    """A WebP container: VP8X (EXIF and XMP flags set), EXIF, XMP, an image chunk."""
    chunks = [
        (b"VP8X", b"\x0c" + b"\x00" * 9),
        (b"EXIF", b"MM\x00\x2a\x00\x00\x00\x08\x00\x00"),
        (b"XMP ", b"<x:xmpmeta>exif:GPSLatitude</x:xmpmeta>"),
        (b"VP8L", b"\x2f\x00\x00\x00\x00"),
    ]
    body = b"WEBP" + b"".join(
        kind + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) % 2)
        for kind, data in chunks
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def photo(directory: Path, kind: str = "jpeg", name: str | None = None) -> Path:
    """A photo with GPS, camera make, model and serial, XMP (and for JPEG an upright
    orientation of 6, a comment, and a trailer after the image as phones append)."""
    path = directory / (name or ("photo.jpg" if kind == "jpeg" else "photo.png"))
    path.write_bytes(base_jpeg() if kind == "jpeg" else base_png())
    extra = ["-Orientation#=6", "-Comment=secret comment"] if kind == "jpeg" else []
    subprocess.run([exiftool(), "-q", "-overwrite_original", *TAGS, *extra, str(path)], check=True)
    if kind == "jpeg":
        with path.open("ab") as out:
            out.write(b"trailer GPS 43.3178 N")
    return path


def tags(path: Path) -> dict[str, str]:
    """Every tag exiftool reads, as {"Group:Tag": value}."""
    result = subprocess.run(
        [exiftool(), "-G", "-a", "-s", "-s", "-n", "-warning", "-all", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition(":")
        found[key.strip()] = value.strip()
    return found


def identifying(path: Path) -> list[str]:
    """The tags left that say where, who or with what."""
    return [key for key in tags(path) if any(word in key for word in IDENTIFYING)]


def video(directory: Path, moov_first: bool = False) -> Path:
    """An MP4 whose movie box says where (©xyz) and with what (©mak, a track's ©mod)."""

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    def text(kind: bytes, value: bytes) -> bytes:
        return box(kind, struct.pack(">HH", len(value), 0) + value)

    track = box(b"trak", box(b"tkhd", bytes(84)) + box(b"udta", text(b"\xa9mod", MODEL.encode())))
    user = box(b"udta", text(b"\xa9xyz", b"+43.3178+045.6981/") + text(b"\xa9mak", b"Samsung"))
    movie = box(b"moov", box(b"mvhd", bytes(100)) + track + user)
    media = box(b"mdat", b"\x11" * 1000)
    kind = box(b"ftyp", b"mp42\x00\x00\x00\x00mp42isom")
    path = directory / "clip.mp4"
    path.write_bytes(kind + (movie + media if moov_first else media + movie))
    return path
