"""Getting attachments out of the vault safely: file names, risky types, metadata.

Everything about an attachment is chosen by the submitter (or by whoever impersonates one):
its name, its claimed type and its bytes. Names are reduced to one harmless path component,
files are never overwritten and never executable, and types that can run code when opened are
named in a warning, judged by the name, the claimed type and the first bytes (after a
byte-order mark, for text formats such as HTML and PostScript).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from . import photo_metadata

_MAX_NAME_BYTES = 200
_FORBIDDEN = set('<>:"/\\|?*')
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)
}

_EXECUTABLE = "a program or script: it can take over this computer if opened; do not run it"
_MACRO = "an office document that can hold macros: open it only with macros disabled"
_HTML = (
    "a web page, SVG or XML file: it can run scripts or load remote content; "
    "do not open it in a web browser"
)
_ARCHIVE = "an archive: unpack it only on this offline machine and check what is inside"
_POSTSCRIPT = (
    "a PostScript program: it runs when viewed or printed; open it only on this offline "
    "machine, never send it to a printer"
)
_SHORTCUT = "a shortcut: opening it can run a program or contact a web address; do not open it"

_EXTENSIONS = (
    (
        "exe dll com scr msi msp bat cmd ps1 psm1 vbs vbe js jse wsf wsh hta cpl jar apk app "
        "sh bash zsh csh run bin elf out py pyc pyw pl rb php lnk desktop appimage deb rpm "
        "dmg pkg reg inf gadget msc iso img vhd vhdx chm pif xll wll scf vsto",
        _EXECUTABLE,
    ),
    ("ps eps epsf epsi", _POSTSCRIPT),
    ("url website webloc inetloc iqy slk library-ms settingcontent-ms", _SHORTCUT),
    (
        "docm dotm xlsm xltm xlam xlsb pptm potm ppam ppsm sldm doc dot xls xlt ppt pps pot "
        "odt ods odp odg ott rtf",
        _MACRO,
    ),
    ("html htm xhtml shtml mht mhtml svg svgz xml xsl", _HTML),
    ("zip rar 7z tar gz tgz bz2 tbz2 xz txz zst lz lzma cab arj ace z", _ARCHIVE),
)
_RISKY_EXTENSIONS = {ext: reason for words, reason in _EXTENSIONS for ext in words.split()}
_RISKY_TYPE_WORDS = (
    ("executable", _EXECUTABLE),
    ("x-msdownload", _EXECUTABLE),
    ("x-sh", _EXECUTABLE),
    ("javascript", _EXECUTABLE),
    ("java-archive", _EXECUTABLE),
    ("macroenabled", _MACRO),
    ("msword", _MACRO),
    ("ms-excel", _MACRO),
    ("ms-powerpoint", _MACRO),
    ("htmlhelp", _EXECUTABLE),
    ("postscript", _POSTSCRIPT),
    ("internet-shortcut", _SHORTCUT),
    ("html", _HTML),
    ("svg", _HTML),
    ("zip", _ARCHIVE),
    ("compressed", _ARCHIVE),
    ("x-tar", _ARCHIVE),
    ("x-7z", _ARCHIVE),
    ("x-rar", _ARCHIVE),
)
_OOXML_OR_ODF = {"docx", "xlsx", "pptx", "odt", "ods", "odp", "odg", "ott", "epub"}
_MAGIC = (
    (b"MZ", _EXECUTABLE),
    (b"\x7fELF", _EXECUTABLE),
    (b"#!", _EXECUTABLE),
    (b"\xcf\xfa\xed\xfe", _EXECUTABLE),
    (b"\xca\xfe\xba\xbe", _EXECUTABLE),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", _MACRO),  # OLE2: .doc/.xls/.ppt
    (b"Rar!", _ARCHIVE),
    (b"7z\xbc\xaf\x27\x1c", _ARCHIVE),
    (b"\x1f\x8b", _ARCHIVE),
    (b"BZh", _ARCHIVE),
    (b"\xfd7zXZ\x00", _ARCHIVE),
    (b"\x28\xb5\x2f\xfd", _ARCHIVE),
    (b"ITSF", _EXECUTABLE),  # compiled HTML help (.chm)
    (b"L\x00\x00\x00\x01\x14\x02\x00", _EXECUTABLE),  # Windows shell link (.lnk)
    (b"\xc5\xd0\xd3\xc6", _POSTSCRIPT),  # binary EPS
)
# Text formats, recognised after any byte-order mark and leading white space, in any case.
_TEXT_STARTS = (
    (("<!doctype html", "<html", "<svg", "<?xml", "<script", "<head", "<body", "<iframe"), _HTML),
    (("%!ps", "%!"), _POSTSCRIPT),
    (("[internetshortcut]", "[{000214a0", "[shell]"), _SHORTCUT),
)
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def safe_name(name: str | None, index: int) -> str:
    """One path component that is harmless on Linux, macOS and Windows, keeping the
    extension where possible; ``attachment-N`` if nothing usable is left."""
    text = unicodedata.normalize("NFC", name or "")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(
        "_" if ch in _FORBIDDEN else ch
        for ch in text
        if unicodedata.category(ch) not in _DROP_CATEGORIES
    )
    text = text.strip(" .")  # no hidden files, no "..", no trailing dots (Windows)
    if text.split(".", 1)[0].upper() in _WINDOWS_RESERVED:
        text = "_" + text
    if len(text.encode("utf-8")) > _MAX_NAME_BYTES:
        stem, dot, extension = text.rpartition(".")
        if not dot or len(extension.encode("utf-8")) > 16:
            stem, extension = text, ""
        budget = _MAX_NAME_BYTES - len(extension.encode("utf-8")) - 1
        stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip(" .")
        text = f"{stem}.{extension}" if extension else stem
    return text or f"attachment-{index + 1}"


def risks(name: str | None, media_type: str | None, head: bytes) -> list[str]:
    """Why opening this attachment could harm the reviewer, by name, claimed type and bytes."""
    found: list[str] = []
    extension = safe_name(name, 0).rpartition(".")[2].lower() if "." in (name or "") else ""
    if extension in _RISKY_EXTENSIONS:
        found.append(_RISKY_EXTENSIONS[extension])
    claimed = (media_type or "").lower()
    found += [reason for word, reason in _RISKY_TYPE_WORDS if word in claimed]
    found += [reason for magic, reason in _MAGIC if head.startswith(magic)]
    if head.startswith(b"PK\x03\x04") and extension not in _OOXML_OR_ODF:
        found.append(_ARCHIVE)
    start = _text_start(head)
    found += [reason for starts, reason in _TEXT_STARTS if start.startswith(starts)]
    return list(dict.fromkeys(found))


def _text_start(head: bytes) -> str:
    """The first characters of ``head`` read as text (after a byte-order mark, which also
    names the encoding, and white space), lower-cased; binary bytes become U+FFFD."""
    encoding = "utf-8"
    for bom, name in _BOMS:
        if head.startswith(bom):
            head, encoding = head[len(bom) :], name
            break
    return head[:256].decode(encoding, "replace").lstrip(" \t\r\n\ufeff")[:32].lower()


def create_unique(directory: Path, name: str) -> tuple[Path, int]:
    """Creates a new file (mode 0600) named ``name`` or ``name (2)``…; never overwrites and
    never follows a symbolic link. Returns the path and an open file descriptor."""
    stem, dot, extension = name.rpartition(".")
    if not stem:
        stem, dot, extension = name, "", ""
    for attempt in range(1, 10_000):
        candidate = name if attempt == 1 else f"{stem} ({attempt}){dot}{extension}"
        path = directory / candidate
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            continue
        os.fchmod(fd, 0o600)
        return path, fd
    raise FileExistsError(f"too many files named like {name} in {directory}")


@dataclass
class Saved:
    original_name: str | None
    path: Path
    size: int
    risks: list[str] = field(default_factory=list)
    metadata: str = ""  # what happened about metadata, if anything was asked


def copy_out(source: Path, directory: Path, name: str | None, index: int) -> Path:
    path, fd = create_unique(directory, safe_name(name, index))
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as data:
            shutil.copyfileobj(data, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def mat2_path() -> str | None:
    return shutil.which("mat2")


def strip_metadata(path: Path, mat2: str) -> str:
    """Cleans ``path`` in place with mat2; returns one sentence saying what happened."""
    result = subprocess.run(
        [mat2, "--inplace", "--", str(path)], capture_output=True, text=True, check=False
    )
    path.chmod(0o600)  # mat2 writes a new file with the default mode
    if result.returncode == 0:
        return "metadata removed with mat2"
    reason = (result.stdout + result.stderr).strip().splitlines()
    detail = reason[-1] if reason else f"mat2 exited with status {result.returncode}"
    return f"metadata NOT removed (mat2: {detail}); treat this file as still carrying metadata"


# --- location and strip-on-save (issue 20) -------------------------------------------------

LOCATION_WARNING = (
    "this file says where it was made (a GPS position): whoever sees it learns the place, "
    "which may be where the person lives; saving removes it unless you keep metadata"
)


def location_flag(path: Path) -> str | None:
    """A warning when the attachment carries a location (photo EXIF/XMP GPS, video location
    atom), else None; an unreadable file is simply not flagged."""
    try:
        return LOCATION_WARNING if photo_metadata.carries_location(path) else None
    except OSError:
        return None


def strip_by_default(config: dict) -> bool:
    """Saving strips metadata unless the vault's settings say to keep it."""
    return bool(config.get("strip_metadata", True))


def clean_saved(path: Path, mat2: str | None) -> str:
    """Removes location and device details from a saved copy (the vault keeps the original):
    JPEG, PNG, WebP and MP4/MOV by sealdrop's own lossless filters, anything else with mat2
    when it is installed. Returns one sentence saying what happened."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if photo_metadata.is_photo(head):
        try:
            cleaned = photo_metadata.strip(path.read_bytes())
        except photo_metadata.MalformedPhoto as error:
            return (
                f"metadata NOT removed ({error}); treat this file as still carrying its "
                "location and camera details"
            )
        with path.open("r+b") as out:
            out.write(cleaned)
            out.truncate()
            out.flush()
            os.fsync(out.fileno())
        return "location and camera details removed (the vault keeps the original)"
    if photo_metadata.is_video(head):
        try:
            photo_metadata.strip_video(path)
        except photo_metadata.MalformedPhoto as error:
            return f"metadata NOT removed ({error}); treat this file as still carrying it"
        return "location and camera details removed (the vault keeps the original)"
    if mat2 is not None:
        return strip_metadata(path, mat2)
    return (
        "metadata NOT removed: mat2 is not installed (sudo apt install mat2) and this is not "
        "a photo sealdrop cleans itself; treat this file as still carrying metadata"
    )
