"""Epoch keys: a reviewer's weekly X25519 keys, signed with their signing key (docs/FORMAT.md
section 10), so that what is sealed to a week's key becomes unreadable once the reviewer's
tool deletes that key, even to whoever later gets their long-term key and passphrase.

    text = Statement(reviewer, signing_key, issued, epochs).signed_by(signer)
    statement = read_statement(text, reviewer, signing_key)   # StatementError unless valid
    key = sealing_key(statement, reviewer, now)                 # epoch key, or the long-term key
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from . import _sodium
from .bundle import hour_stamp, parse_hour
from .errors import EpochKeyDeleted, InvalidPublicKey, SealdropError
from .keys import PublicKey
from .team import SigningPublicKey

HEADER = "sealdrop-epochs-v1"
MAX_BYTES = 16 << 10
MAX_EPOCHS = 64
MAX_EPOCH_SECONDS = 31 * 86400
SKEW_SECONDS = 2 * 3600
WEEK = 7 * 86400
_EPOCH_LINE = re.compile(r"epoch: (\S+) (\S+) (\S+)")


class StatementError(SealdropError):
    """An epoch statement that must not be used; ``kind`` is malformed or bad-signature."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Epoch:
    not_before: int  # seconds since 1970, on the hour
    not_after: int  # exclusive
    public_key: PublicKey

    def line(self) -> str:
        return (
            f"epoch: {hour_stamp(self.not_before)} {hour_stamp(self.not_after)} "
            f"{self.public_key.line}"
        )

    def valid_at(self, when: float) -> bool:
        return self.not_before <= when < self.not_after


@dataclass(frozen=True)
class Statement:
    reviewer: PublicKey
    signing_key: SigningPublicKey
    issued: int
    epochs: tuple[Epoch, ...]

    def body(self) -> bytes:
        lines = [
            HEADER,
            f"reviewer: {self.reviewer.line}",
            f"signing-key: {self.signing_key.line}",
            f"issued: {hour_stamp(self.issued)}",
            *(epoch.line() for epoch in self.epochs),
        ]
        return ("\n".join(lines) + "\n").encode("ascii")

    def signed_by(self, signer: object) -> str:
        """The statement's text, signed by ``signer`` (crypto.team.Signer of the reviewer)."""
        body = self.body()
        signature = signer.sign(body)  # type: ignore[attr-defined]
        return body.decode("ascii") + f"signature: {base64.b64encode(signature).decode()}\n"

    @property
    def ends(self) -> int:
        return self.epochs[-1].not_after

    def expired(self, when: float) -> bool:
        return self.ends <= when

    def current(self, when: float) -> Epoch | None:
        """The epoch to seal to at ``when`` (FORMAT.md 10.2: the clock moved on by the skew)."""
        shifted = when + SKEW_SECONDS
        return next((e for e in self.epochs if e.valid_at(shifted)), None)


def read_statement(
    text: str | bytes, reviewer: PublicKey, signing_key: SigningPublicKey
) -> Statement:
    """Checks a statement in the order of FORMAT.md 10.1: size, signature line, signature
    (with the signing key the caller trusts), then the body."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if len(data) > MAX_BYTES or not data.endswith(b"\n"):
        raise StatementError("malformed", "the epoch statement is too large or cut short")
    body, _, last = data[:-1].rpartition(b"\n")
    body += b"\n"
    if not last.startswith(b"signature: "):
        raise StatementError("malformed", "the epoch statement has no signature line")
    try:
        signature = base64.b64decode(last[len(b"signature: ") :], validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != _sodium.SIGNATURE_BYTES:
        raise StatementError("malformed", "the epoch statement's signature is malformed")
    try:
        _sodium.verify_detached(signing_key.raw, body, signature)
    except _sodium.AuthenticationFailed:
        raise StatementError(
            "bad-signature",
            "the epoch statement is not signed by this reviewer's signing key (forged or "
            "altered); it was not used",
        ) from None
    statement = _parse_body(body)
    if statement.reviewer != reviewer or statement.signing_key != signing_key:
        raise StatementError("malformed", "the epoch statement names another reviewer")
    return statement


def _parse_body(body: bytes) -> Statement:
    try:
        lines = body.decode("ascii").split("\n")[:-1]
        if len(lines) < 5 or lines[0] != HEADER:
            raise ValueError("not an epoch statement")
        reviewer = PublicKey.from_line(_field(lines[1], "reviewer"))
        signing_key = SigningPublicKey.from_line(_field(lines[2], "signing-key"))
        issued = parse_hour(_field(lines[3], "issued"))
        epochs = tuple(_epoch(line) for line in lines[4:])
    except (UnicodeDecodeError, ValueError, InvalidPublicKey) as exc:
        raise StatementError("malformed", f"the epoch statement is malformed ({exc})") from None
    if len(epochs) > MAX_EPOCHS:
        raise StatementError("malformed", "the epoch statement lists too many epochs")
    keys = {e.public_key for e in epochs} | {reviewer}
    ordered = all(a.not_after <= b.not_before for a, b in itertools.pairwise(epochs))
    if len(keys) != len(epochs) + 1 or not ordered:
        raise StatementError("malformed", "the epoch statement's epochs overlap or repeat keys")
    statement = Statement(reviewer, signing_key, issued, epochs)
    if statement.body() != body:  # one spelling only: what was signed is what is read
        raise StatementError("malformed", "the epoch statement is not in canonical form")
    return statement


def _field(line: str, name: str) -> str:
    prefix = f"{name}: "
    if not line.startswith(prefix):
        raise ValueError(f"expected the {name} line")
    return line[len(prefix) :]


def _epoch(line: str) -> Epoch:
    match = _EPOCH_LINE.fullmatch(line)
    if match is None:
        raise ValueError("an epoch line is malformed")
    not_before, not_after = parse_hour(match[1]), parse_hour(match[2])
    if not 0 < not_after - not_before <= MAX_EPOCH_SECONDS:
        raise ValueError("an epoch's dates are out of order or too far apart")
    return Epoch(not_before, not_after, PublicKey.from_line(match[3]))


def sealing_key(statement: Statement | None, reviewer: PublicKey, when: float) -> PublicKey:
    """The key to seal this reviewer's stanza to at ``when``: the current epoch's, or the
    long-term key when there is none (a lapse never switches the drop off)."""
    epoch = statement.current(when) if statement is not None else None
    return epoch.public_key if epoch is not None else reviewer


def week_start(when: float) -> int:
    """Monday 00:00 UTC of the week holding ``when``."""
    day = int(when) // 86400 * 86400
    weekday = time.gmtime(day).tm_wday  # Monday is 0
    return day - weekday * 86400


def day_text(when: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(when))


def weeks(start: int, count: int) -> Sequence[tuple[int, int]]:
    return [(start + i * WEEK, start + (i + 1) * WEEK) for i in range(count)]


class DeletedKey:
    """Stands in for an epoch key the reviewer's tool deleted, among the keys given to
    open_envelope, so that an envelope sealed to it is refused with the reason
    (``epoch-key-deleted``, FORMAT.md 10.4) rather than "not for you"."""

    def __init__(self, public_key: PublicKey, not_after: int, deleted_on: int) -> None:
        self.public_key = public_key
        self._error = (day_text(not_after - 86400), day_text(deleted_on))

    def unwrap_file_key(self, body: bytes) -> bytes:
        raise EpochKeyDeleted(*self._error)

    def unseal_key(self, sealed: bytes) -> bytes:
        raise EpochKeyDeleted(*self._error)
