"""A no-JS form post sent twice stores one submission (reload at Tor Browser's Safest level).

The no-JS confirmation is the answer to the form post itself, so that the codename never
appears in an address; reloading it makes the browser post the very same bytes again (Firefox
asks first, "Resend"). A multipart body starts with a boundary the browser chose at random for
that one sending, so the whole body's hash names one sending and nothing else: a body whose
hash was seen in the last hour or two is not stored again, and the person is told it had
already arrived, with the same codename, shown again.

On disk, DATA_DIR/resends/<name> for each post of the last one or two hours: ``name`` a keyed
BLAKE2b of the body's SHA-256, the content the codename sealed (PyNaCl SecretBox) under another
BLAKE2b of it. The body lives only in the sender's browser, so neither says anything to whoever
holds the disk: no plaintext, no codename. File times are blurred to the hour, and files from
before the last hour are deleted. A body whose boundary is not a browser's random one is
never remembered (two posts from a tool that reuses its boundary are two submissions):
otherwise two people sending the same words with such a tool would be taken for one, and the
second shown the first one's codename.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from pathlib import Path

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from .db import this_hour
from .storage import blur_time

DIRECTORY = "resends"
# Browsers' boundaries, each with at least 64 random bits: Firefox since 2024 (32 hex digits),
# Firefox before (three random 32-bit numbers in decimal), Chromium and Safari (16 letters
# and digits).
BROWSER_BOUNDARY = re.compile(
    rb"-{2,}geckoformboundary[0-9a-f]{16,}|-{20,}[0-9]{20,}|-{4}WebKitFormBoundary[A-Za-z0-9]{16}"
)
EXPIRE_EVERY_SECONDS = 60
_next_expiry: dict[Path, float] = {}  # by directory: when this process looks at it again
_NAME = b"sealdrop-resend-name"
_KEY = b"sealdrop-resend-key"


class AlreadyReceived(Exception):
    """This very body was stored a moment ago; ``codename`` is the one it got ("" for a
    follow-up, which has no new codename)."""

    def __init__(self, codename: str) -> None:
        super().__init__("already received")
        self.codename = codename


class BodyHash:
    """The hash of a request body, fed as it streams past; only for a body that can be
    remembered (``usable``). SHA-256: the CPU's SHA instructions hash a large post at twice
    BLAKE2b's pace, and every byte of every no-JS post goes through it."""

    def __init__(self, boundary: bytes) -> None:
        self.usable = BROWSER_BOUNDARY.fullmatch(boundary) is not None
        self._hash = hashlib.sha256()

    def update(self, block: bytes | memoryview) -> None:
        if self.usable:
            self._hash.update(block)

    def digest(self) -> bytes:
        return self._hash.digest()


class Resends:
    """The bodies stored in the last hour or two, under DATA_DIR/resends."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir / DIRECTORY

    def _name(self, body: bytes) -> Path:
        return self.directory / hashlib.blake2b(body, digest_size=20, key=_NAME).hexdigest()

    def check(self, body: BodyHash) -> None:
        """Raises AlreadyReceived if this body was stored already; call before storing."""
        if not body.usable:
            return
        self._expire()
        try:
            sealed = self._name(body.digest()).read_bytes()
        except FileNotFoundError:
            return
        try:
            codename = _box(body.digest()).decrypt(sealed).decode("utf-8")
        except (CryptoError, UnicodeDecodeError):
            return
        raise AlreadyReceived(codename)

    def remember(self, body: BodyHash, codename: str) -> None:
        """Notes that this body was stored (with its new codename, or "" for a follow-up)."""
        if not body.usable:
            return
        self.directory.mkdir(mode=0o700, exist_ok=True)
        sealed = _box(body.digest()).encrypt(codename.encode("utf-8"))
        path = self._name(body.digest())
        temp = path.with_suffix(".tmp")
        temp.write_bytes(sealed)
        blur_time(temp)
        os.replace(temp, path)
        blur_time(self.directory)

    def _expire(self) -> None:
        """Deletes what is older than the last full hour (its file time says the hour), at
        most once a minute per process: the directory holds a file per text of the last hour
        or two, and reading it whole at every post would cost a flood of texts in proportion
        to its own size."""
        now = time.monotonic()
        if now < _next_expiry.get(self.directory, 0.0):
            return
        _next_expiry[self.directory] = now + EXPIRE_EVERY_SECONDS
        if not self.directory.is_dir():
            return
        oldest = this_hour() - 3600
        for path in self.directory.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < oldest:
                    path.unlink()


def _box(body: bytes) -> SecretBox:
    return SecretBox(hashlib.blake2b(body, digest_size=32, key=_KEY).digest())
