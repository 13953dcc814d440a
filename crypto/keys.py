"""Reviewer keys: public key lines, fingerprints, key ids, and passphrase-protected identities.

A public key travels as one line, ``sdpub1`` followed by lowercase RFC 4648 base32 (no padding)
of the 32-byte X25519 key and a 4-byte checksum, so a mistyped or truncated copy is refused.
The identity (private key) file is text: comments, the public key line, and the secret key
encrypted with a passphrase (Argon2id, then secretbox). See docs/FORMAT.md.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from . import _sodium, strictbase64
from .errors import InvalidIdentityFile, InvalidPublicKey, WrongPassphrase

PUBLIC_KEY_PREFIX = "sdpub1"
KEY_ID_BYTES = 8
_CHECKSUM_BYTES = 4
_LINE_BODY_CHARS = 58  # base32 of 32 + 4 bytes, unpadded
_CHECKSUM_LABEL = b"sealdrop-pubkey-checksum-v1"
_FINGERPRINT_LABEL = b"sealdrop-fingerprint-v1"
_SIGNING_SEED_LABEL = b"sealdrop-signing-seed-v1"

# White space, in key lines and files, is exactly these ASCII characters (FORMAT.md §1, §2).
_SPACE = " \t\r"
_WHITE_SPACE = re.compile(r"[ \t\r\n]")

_IDENTITY_VERSION = 1
_IDENTITY_HEAD = struct.Struct(">BIQ")  # version, opslimit, memlimit
_MAX_OPSLIMIT = 64
_MAX_MEMLIMIT = 4 << 30
# version, limits, salt, then secretbox's nonce, the 32-byte secret key and its 16-byte MAC
_IDENTITY_BLOB_BYTES = (
    _IDENTITY_HEAD.size
    + _sodium.PWHASH_SALT_BYTES
    + _sodium.SECRETBOX_NONCE_BYTES
    + _sodium.KEY_BYTES
    + _sodium.SECRETBOX_MAC_BYTES
)


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _b32decode(text: str) -> bytes:
    padded = text.upper() + "=" * (-len(text) % 8)
    return base64.b32decode(padded, casefold=False)


def line_text(line: str) -> str | None:
    """A key line with §1's white space removed and lower-cased; None if it holds any other
    non-ASCII character (refused before case folding: U+212A KELVIN SIGN lowers to "k")."""
    text = _WHITE_SPACE.sub("", line)
    return text.lower() if text.isascii() else None


def line_data(body: str) -> bytes | None:
    """The 36 bytes (key and checksum) of a line's base32 after its prefix, or None unless it
    is exactly 58 canonical base32 characters."""
    if len(body) != _LINE_BODY_CHARS:
        return None
    try:
        data = _b32decode(body)
    except (binascii.Error, ValueError):
        return None
    return data if _b32encode(data) == body else None


@dataclass(frozen=True)
class PublicKey:
    """A reviewer's X25519 public key, as sealed to by the browser and the server."""

    raw: bytes
    _digest: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.raw) != _sodium.KEY_BYTES:
            raise InvalidPublicKey("a public key is 32 bytes")
        object.__setattr__(self, "_digest", _sodium.keyed_hash(_FINGERPRINT_LABEL, self.raw, 32))

    @classmethod
    def from_line(cls, line: str) -> PublicKey:
        text = _WHITE_SPACE.sub("", line)
        if not text.isascii():
            raise InvalidPublicKey(
                "this public key has characters that cannot appear in one (a typo?); "
                "copy it again from the reviewer's public key file"
            )
        text = text.lower()
        if not text.startswith(PUBLIC_KEY_PREFIX):
            raise InvalidPublicKey(
                f"a sealdrop public key starts with {PUBLIC_KEY_PREFIX!r}; "
                "copy the whole line from the reviewer's public key file"
            )
        body = text[len(PUBLIC_KEY_PREFIX) :]
        if len(body) != _LINE_BODY_CHARS:
            raise InvalidPublicKey(
                "this public key is too short or too long (cut off when copied?); "
                "copy the whole line again"
            )
        try:
            data = _b32decode(body)
        except (binascii.Error, ValueError):
            data = b""
        if _b32encode(data) != body:  # also refuses non-canonical final characters
            raise InvalidPublicKey(
                "this public key has characters that cannot appear in one (a typo?); "
                "copy it again from the reviewer's public key file"
            )
        raw, checksum = data[: _sodium.KEY_BYTES], data[_sodium.KEY_BYTES :]
        if _sodium.keyed_hash(_CHECKSUM_LABEL, raw, _CHECKSUM_BYTES) != checksum:
            raise InvalidPublicKey(
                "this public key's checksum does not match, so it was mistyped or altered; "
                "copy it again from the reviewer's public key file"
            )
        return cls(raw)

    @classmethod
    def from_file(cls, path: str | Path) -> PublicKey:
        """Reads a public key file, or the public key line of an identity file."""
        text = _read_utf8(path, InvalidPublicKey)
        for line in text.split("\n"):
            line = line.strip(_SPACE)
            if line.startswith("public-key:"):
                line = line.removeprefix("public-key:").strip(_SPACE)
            if line and not line.startswith("#") and ":" not in line:
                return cls.from_line(line)
        raise InvalidPublicKey(f"{path} holds no sealdrop public key line")

    @property
    def line(self) -> str:
        checksum = _sodium.keyed_hash(_CHECKSUM_LABEL, self.raw, _CHECKSUM_BYTES)
        return PUBLIC_KEY_PREFIX + _b32encode(self.raw + checksum)

    @property
    def key_id(self) -> bytes:
        """The 8-byte label of this key in envelope headers: the fingerprint's first half."""
        return self._digest[:KEY_ID_BYTES]

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    @property
    def fingerprint(self) -> str:
        """128 bits in eight groups of four hex digits, for comparing aloud or on paper."""
        hexed = self._digest[:16].hex()
        return " ".join(hexed[i : i + 4] for i in range(0, len(hexed), 4))

    def __str__(self) -> str:
        return self.line


def _normalize(passphrase: str) -> bytes:
    if not passphrase:
        raise WrongPassphrase()
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


class Identity:
    """A reviewer's key pair. The secret key stays in memory; on disk it is always encrypted."""

    __slots__ = ("_secret", "public_key")

    def __init__(self, secret_key: bytes) -> None:
        if len(secret_key) != _sodium.KEY_BYTES:
            raise ValueError("a secret key is 32 bytes")
        self._secret = secret_key
        self.public_key = PublicKey(_sodium.box_public_from_secret(secret_key))

    def __repr__(self) -> str:
        return f"Identity(key_id={self.public_key.key_id_hex})"

    @classmethod
    def generate(cls) -> Identity:
        _, secret = _sodium.box_keypair()
        return cls(secret)

    def signing_seed(self) -> bytes:
        """The seed of this identity's Ed25519 signing key (docs/FORMAT.md, section 8).
        Derived from the X25519 secret, so identity files made before teams existed sign."""
        return _sodium.keyed_hash(_SIGNING_SEED_LABEL, self._secret, _sodium.KEY_BYTES)

    def unseal_key(self, sealed: bytes) -> bytes:
        """Opens a sealed box addressed to this identity (raises AuthenticationFailed)."""
        return _sodium.open_sealed(sealed, self.public_key.raw, self._secret)

    def to_file_text(
        self,
        passphrase: str,
        *,
        opslimit: int = _sodium.ARGON2ID_OPSLIMIT_MODERATE,
        memlimit: int = _sodium.ARGON2ID_MEMLIMIT_MODERATE,
    ) -> str:
        blob = lock_secret(self._secret, passphrase, opslimit, memlimit)
        pk = self.public_key
        return (
            "# sealdrop reviewer identity: your PRIVATE key, encrypted with your passphrase.\n"
            "# Keep it on the offline machine and in an offline backup; never put it on the "
            "server.\n"
            f"# fingerprint: {pk.fingerprint}\n"
            f"public-key: {pk.line}\n"
            f"secret-key: {base64.b64encode(blob).decode('ascii')}\n"
        )

    @classmethod
    def from_file_text(cls, text: str, passphrase: str) -> Identity:
        fields = _identity_fields(text)
        try:
            blob = strictbase64.decode(fields["secret-key"])
        except ValueError:
            raise InvalidIdentityFile(
                "the secret-key line of this identity file is damaged; restore it from backup"
            ) from None
        if len(blob) != _IDENTITY_BLOB_BYTES:
            raise InvalidIdentityFile(
                f"the secret-key line of this identity file holds {len(blob)} bytes, not "
                f"{_IDENTITY_BLOB_BYTES} bytes (cut short or altered); restore it from backup"
            )
        identity = cls(unlock_secret(blob, passphrase, "identity file"))
        if "public-key" in fields and PublicKey.from_line(fields["public-key"]) != (
            identity.public_key
        ):
            raise InvalidIdentityFile(
                "the public-key line of this identity file does not belong to its private key; "
                "restore the file from backup"
            )
        return identity

    @classmethod
    def load(cls, path: str | Path, passphrase: str) -> Identity:
        return cls.from_file_text(_read_utf8(path, InvalidIdentityFile), passphrase)


def lock_secret(secret: bytes, passphrase: str, opslimit: int, memlimit: int) -> bytes:
    """A secret encrypted under a passphrase: version, Argon2id limits, salt, then the
    secretbox of the secret under the Argon2id key (§2). Identity files and organisation
    signing key files (§7) both hold one."""
    salt = _sodium.random_bytes(_sodium.PWHASH_SALT_BYTES)
    key = _sodium.passphrase_key(_normalize(passphrase), salt, opslimit, memlimit)
    head = _IDENTITY_HEAD.pack(_IDENTITY_VERSION, opslimit, memlimit)
    return head + salt + _sodium.secretbox_seal(key, secret)


def unlock_secret(blob: bytes, passphrase: str, noun: str) -> bytes:
    """The secret in a ``lock_secret`` blob whose length the caller has checked. Raises
    InvalidIdentityFile (naming the file as ``noun``) or WrongPassphrase."""
    head_end = _IDENTITY_HEAD.size + _sodium.PWHASH_SALT_BYTES
    version, opslimit, memlimit = _IDENTITY_HEAD.unpack_from(blob)
    if version != _IDENTITY_VERSION:
        raise InvalidIdentityFile(f"{noun} version {version} is not supported; upgrade sealdrop")
    if not (
        _sodium.ARGON2ID_OPSLIMIT_MIN <= opslimit <= _MAX_OPSLIMIT
        and _sodium.ARGON2ID_MEMLIMIT_MIN <= memlimit <= _MAX_MEMLIMIT
    ):
        raise InvalidIdentityFile(f"this {noun} has impossible passphrase settings")
    salt = blob[_IDENTITY_HEAD.size : head_end]
    key = _sodium.passphrase_key(_normalize(passphrase), salt, opslimit, memlimit)
    try:
        return _sodium.secretbox_open(key, blob[head_end:])
    except _sodium.AuthenticationFailed:
        raise WrongPassphrase() from None


def _read_utf8(path: str | Path, error: type[InvalidPublicKey | InvalidIdentityFile]) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise error(
            f"{path} is not UTF-8 text, so it is not a sealdrop key file (damaged, or another "
            "kind of file); check which file you gave"
        ) from None


def _identity_fields(
    text: str,
    required: str = "secret-key",
    missing: str = (
        "this file is not a sealdrop identity (no secret-key line); "
        "pass the identity file made by `sealdrop-reviewer keygen`"
    ),
    noun: str = "identity file",
) -> dict[str, str]:
    """The ``name: value`` fields of a §2 file (an identity, or an organisation signing key
    file, whose secret field is named ``required``), each name at most once."""
    fields: dict[str, str] = {}
    for line in text.split("\n"):
        line = line.strip(_SPACE)
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if sep:
            name = name.strip(_SPACE)
            if name in fields:
                raise InvalidIdentityFile(
                    f"this {noun} has its {name} line twice, so it is ambiguous; "
                    "restore it from backup"
                )
            fields[name] = value.strip(_SPACE)
    if required not in fields:
        raise InvalidIdentityFile(missing)
    return fields
