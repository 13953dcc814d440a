"""Deployment statements: what an organisation's onion service serves, signed offline.

    statement = Statement.make(onion, version, issued, recipients, assets, signing_keys)
    text = statement.signed_by(signing_key)             # bytes, the file the server serves
    statement = Statement.verify(text, signing_public_key)  # raises StatementError/BadSignature

``recipients`` are reviewer key fingerprints; ``signing_keys`` maps some of them to the
reviewer's signing key line (sdsig1, their member card), which vouches for the weekly keys they
sign (section 10); ``assets`` maps each static file the pages load ("js/app.js") to the SHA-256
of its bytes. A statement naming signing keys is version 2, one naming none version 1 (what
versions before weekly keys wrote and read). The signature is checked before anything else is
read. See docs/FORMAT.md, section 7.
"""

from __future__ import annotations

import base64
import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from . import _sodium, strictbase64
from .errors import InvalidPublicKey, SealdropError
from .signing import SigningKey, SigningPublicKey
from .team import SigningPublicKey as MemberSigningKey

HEADER = "sealdrop-deployment-v1"
HEADER_V2 = "sealdrop-deployment-v2"  # recipients may carry their signing keys
MAX_BYTES = 64 * 1024
_SIGNATURE_PREFIX = "signature: "
_ONION = re.compile(r"[a-z2-7]{56}\.onion")
_VERSION = re.compile(r"[0-9A-Za-z.+!-]{1,64}")
_FINGERPRINT = re.compile(r"[0-9a-f]{4}( [0-9a-f]{4}){7}")
_FINGERPRINT_CHARS = 39
_ASSET_PATH = re.compile(r"[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)*")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fromisoformat alone takes 2026-W48-6 too


class StatementError(SealdropError):
    """A deployment statement is malformed (after its signature verified) or cannot be made."""


def sha256_hex(data: bytes) -> str:
    return _sodium.sha256(data).hex()


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise StatementError(what)


@dataclass(frozen=True)
class Statement:
    onion: str
    version: str
    issued: str
    recipients: tuple[str, ...]
    assets: tuple[tuple[str, str], ...]
    signing_keys: tuple[tuple[str, str], ...] = ()  # (recipient fingerprint, sdsig1 line)

    @classmethod
    def make(
        cls,
        onion: str,
        version: str,
        issued: datetime.date,
        recipients: Iterable[str],
        assets: Mapping[str, str],
        signing_keys: Mapping[str, str] | None = None,
    ) -> Statement:
        statement = cls(
            onion=onion.strip().lower().removeprefix("http://").rstrip("/"),
            version=version,
            issued=issued.isoformat(),
            recipients=tuple(sorted(set(recipients))),
            assets=tuple(sorted(assets.items())),
            signing_keys=tuple(sorted((signing_keys or {}).items())),
        )
        statement.validate()
        return statement

    @property
    def header(self) -> str:
        return HEADER_V2 if self.signing_keys else HEADER

    def signing_key_of(self, fingerprint: str) -> MemberSigningKey | None:
        """The signing key this statement vouches for, for the reviewer key ``fingerprint``."""
        line = dict(self.signing_keys).get(fingerprint)
        return MemberSigningKey.from_line(line) if line is not None else None

    def validate(self) -> None:
        _check(
            bool(_ONION.fullmatch(self.onion)),
            "the onion address must be the 56-character v3 address followed by .onion",
        )
        _check(bool(_VERSION.fullmatch(self.version)), "the version is not a version number")
        try:
            _check(bool(_DATE.fullmatch(self.issued)), "")
            datetime.date.fromisoformat(self.issued)  # a real day, year 0001-9999
        except (ValueError, StatementError):
            raise StatementError("the issue date must be written YYYY-MM-DD") from None
        _check(bool(self.recipients), "a statement names at least one recipient key")
        _check(
            all(_FINGERPRINT.fullmatch(f) for f in self.recipients),
            "a recipient is a key fingerprint: eight groups of four lowercase hex digits",
        )
        _check(list(self.recipients) == sorted(set(self.recipients)), "recipients out of order")
        named = [fingerprint for fingerprint, _ in self.signing_keys]
        _check(
            named == sorted(set(named)) and set(named) <= set(self.recipients),
            "a signing key belongs to one recipient of the statement, once",
        )
        for fingerprint, line in self.signing_keys:
            try:
                canonical = MemberSigningKey.from_line(line).line == line
            except InvalidPublicKey as exc:
                raise StatementError(f"the signing key of {fingerprint}: {exc}") from None
            _check(canonical, f"the signing key of {fingerprint} is not written as a key line")
        _check(bool(self.assets), "a statement names at least one asset")
        paths = [path for path, _ in self.assets]
        _check(paths == sorted(set(paths)), "assets must be sorted by path, each once")
        for path, digest in self.assets:
            _check(bool(_ASSET_PATH.fullmatch(path)), f"bad path {path!r}")
            _check(bool(_DIGEST.fullmatch(digest)), f"bad SHA-256 for {path}")

    def body(self) -> bytes:
        signing = dict(self.signing_keys)
        lines = [
            self.header,
            f"onion: {self.onion}",
            f"version: {self.version}",
            f"issued: {self.issued}",
            *(
                f"recipient: {fingerprint} {signing[fingerprint]}"
                if fingerprint in signing
                else f"recipient: {fingerprint}"
                for fingerprint in self.recipients
            ),
            *(f"asset: {digest} {path}" for path, digest in self.assets),
        ]
        return ("\n".join(lines) + "\n").encode("ascii")

    def signed_by(self, key: SigningKey) -> bytes:
        body = self.body()
        signature = base64.b64encode(key.sign(body)).decode("ascii")
        return body + f"{_SIGNATURE_PREFIX}{signature}\n".encode("ascii")

    @classmethod
    def verify(cls, data: bytes, key: SigningPublicKey) -> Statement:
        """The statement, if ``data`` is one signed by ``key``. Checks the signature first."""
        body, signature = _split(data)
        key.verify(signature, body)
        return cls.parse_body(body)

    @classmethod
    def unverified(cls, data: bytes) -> Statement:
        """The statement's fields WITHOUT checking its signature: only for comparing it with
        what this server serves (`sealdrop-intake check`), never for trusting it."""
        return cls.parse_body(_split(data)[0])

    @classmethod
    def parse_body(cls, body: bytes) -> Statement:
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            raise StatementError("the statement holds characters other than ASCII") from None
        _check("\r" not in text, "the statement has carriage returns")
        lines = text.split("\n")[:-1]
        _check(
            bool(lines) and lines[0] in (HEADER, HEADER_V2),
            f"the statement does not start with {HEADER} or {HEADER_V2}",
        )
        fields: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, sep, value = line.partition(": ")
            _check(bool(sep) and value == value.strip() and bool(value), f"bad line {line!r}")
            fields.append((name, value))
        names = [name for name, _ in fields]
        _check(names[:3] == ["onion", "version", "issued"], "onion, version, issued come first")
        rest = names[3:]
        recipients = [value for name, value in fields[3:] if name == "recipient"]
        signing_keys = []
        if lines[0] == HEADER_V2:  # "recipient: <fingerprint>[ <signing key line>]"
            for at, value in enumerate(recipients):
                fingerprint, key = value[:_FINGERPRINT_CHARS], value[_FINGERPRINT_CHARS:]
                if key:
                    _check(key.startswith(" "), f"bad recipient line {value!r}")
                    signing_keys.append((fingerprint, key[1:]))
                    recipients[at] = fingerprint
        _check(
            rest == ["recipient"] * len(recipients) + ["asset"] * (len(rest) - len(recipients)),
            "after issued come the recipient lines, then the asset lines, and nothing else",
        )
        assets = []
        for _, value in fields[3 + len(recipients) :]:
            digest, sep, path = value.partition(" ")
            _check(bool(sep), f"bad asset line {value!r}")
            assets.append((path, digest))
        statement = cls(
            onion=fields[0][1],
            version=fields[1][1],
            issued=fields[2][1],
            recipients=tuple(recipients),
            assets=tuple(assets),
            signing_keys=tuple(signing_keys),
        )
        statement.validate()
        _check(statement.header == lines[0], f"{HEADER_V2} names at least one signing key")
        return statement


def _split(data: bytes) -> tuple[bytes, bytes]:
    """(body, 64-byte signature), or StatementError."""
    _check(len(data) <= MAX_BYTES, "the statement is larger than 64 KiB")
    _check(data.endswith(b"\n"), "the statement does not end with a newline (cut short?)")
    cut = data.rfind(b"\n", 0, len(data) - 1) + 1
    body, last = data[:cut], data[cut:-1]
    _check(last.startswith(_SIGNATURE_PREFIX.encode()), "the statement has no signature line")
    try:
        signature = strictbase64.decode(last[len(_SIGNATURE_PREFIX) :])
    except ValueError:
        signature = b""
    _check(len(signature) == _sodium.SIGNATURE_BYTES, "the signature line is damaged")
    return body, signature
