"""The organisation's offline signing key (Ed25519), which signs deployment statements.

The public key travels as one line, ``sdsig1`` and lowercase base32 of the 32-byte key and a
4-byte checksum (like a reviewer's ``sdpub1`` line, with its own checksum label). The private
key file is kept like a reviewer identity: the 32-byte seed encrypted with a passphrase
(Argon2id, then secretbox), in a file whose field names differ from an identity's so that
neither tool can mistake one for the other. See docs/FORMAT.md, section 7.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from . import _sodium, strictbase64
from .errors import InvalidIdentityFile, InvalidPublicKey, SealdropError
from .keys import (
    _IDENTITY_HEAD,
    _b32encode,
    _identity_fields,
    line_data,
    line_text,
    lock_secret,
    unlock_secret,
)

SIGNING_KEY_PREFIX = "sdsig1"
ORGANISATION, MEMBER = "organisation", "member"
# One prefix, two checksum labels (FORMAT.md §7, §8.1): the label tells the two kinds apart.
_CHECKSUM_LABEL = b"sealdrop-signing-key-checksum-v1"
CHECKSUM_LABELS = {ORGANISATION: _CHECKSUM_LABEL, MEMBER: b"sealdrop-sigkey-checksum-v1"}
_FINGERPRINT_LABEL = b"sealdrop-signing-fingerprint-v1"
# The signing-secret-key line's blob (FORMAT.md §7): as an identity file's, holding a seed.
_BLOB_BYTES = (
    _IDENTITY_HEAD.size
    + _sodium.PWHASH_SALT_BYTES
    + _sodium.SECRETBOX_NONCE_BYTES
    + _sodium.SECRETBOX_MAC_BYTES
    + _sodium.SIGN_SEED_BYTES
)


def sdsig_kind(data: bytes) -> str | None:
    """Whose ``sdsig1`` key the 36 bytes (key, checksum) are: ORGANISATION, MEMBER, or None
    when neither checksum matches (a typo)."""
    raw, checksum = data[: _sodium.SIGN_PUBLIC_BYTES], data[_sodium.SIGN_PUBLIC_BYTES :]
    for kind, label in CHECKSUM_LABELS.items():
        if _sodium.keyed_hash(label, raw, 4) == checksum:
            return kind
    return None


class BadSignature(SealdropError):
    """A signature did not verify under the given key."""


@dataclass(frozen=True)
class SigningPublicKey:
    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != _sodium.SIGN_PUBLIC_BYTES:
            raise InvalidPublicKey("a signing public key is 32 bytes")

    @classmethod
    def from_line(cls, line: str) -> SigningPublicKey:
        text = line_text(line)
        if text is None or not text.startswith(SIGNING_KEY_PREFIX):
            raise InvalidPublicKey(
                f"an organisation signing key starts with {SIGNING_KEY_PREFIX!r}; copy the whole "
                "line the organisation published"
            )
        data = line_data(text[len(SIGNING_KEY_PREFIX) :])
        if data is None:
            raise InvalidPublicKey(
                "this signing key is cut short, too long or has a typo; copy the whole line again"
            )
        kind = sdsig_kind(data)
        if kind == MEMBER:
            raise InvalidPublicKey(
                "this is a team member's signing key, not the organisation's; give the key "
                "made by `sealdrop-reviewer signing-keygen`"
            )
        if kind != ORGANISATION:
            raise InvalidPublicKey(
                "this signing key's checksum does not match, so it was mistyped or altered; "
                "copy it again"
            )
        return cls(data[: _sodium.SIGN_PUBLIC_BYTES])

    @classmethod
    def from_text(cls, text: str) -> SigningPublicKey:
        """The key line itself, or the text of a file holding it (comments allowed)."""
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("signing-public-key:"):
                line = line.removeprefix("signing-public-key:").strip()
            if line and not line.startswith("#") and ":" not in line:
                return cls.from_line(line)
        raise InvalidPublicKey("no organisation signing key (sdsig1...) found")

    @property
    def line(self) -> str:
        checksum = _sodium.keyed_hash(_CHECKSUM_LABEL, self.raw, 4)
        return SIGNING_KEY_PREFIX + _b32encode(self.raw + checksum)

    @property
    def fingerprint(self) -> str:
        hexed = _sodium.keyed_hash(_FINGERPRINT_LABEL, self.raw, 16).hex()
        return " ".join(hexed[i : i + 4] for i in range(0, len(hexed), 4))

    def verify(self, signature: bytes, message: bytes) -> None:
        try:
            _sodium.verify_detached(self.raw, message, signature)
        except _sodium.AuthenticationFailed:
            raise BadSignature(
                "the signature does not verify under this organisation key"
            ) from None


class SigningKey:
    """The organisation's Ed25519 key pair; on disk only ever encrypted."""

    __slots__ = ("_seed", "public_key")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != _sodium.SIGN_SEED_BYTES:
            raise ValueError("a signing seed is 32 bytes")
        self._seed = seed
        self.public_key = SigningPublicKey(_sodium.sign_public_from_seed(seed))

    def __repr__(self) -> str:
        return f"SigningKey({self.public_key.fingerprint})"

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(_sodium.sign_seed())

    def sign(self, message: bytes) -> bytes:
        return _sodium.sign_detached(_sodium.sign_seed_keypair(self._seed)[1], message)

    def to_file_text(
        self,
        passphrase: str,
        *,
        opslimit: int = _sodium.ARGON2ID_OPSLIMIT_MODERATE,
        memlimit: int = _sodium.ARGON2ID_MEMLIMIT_MODERATE,
    ) -> str:
        blob = lock_secret(self._seed, passphrase, opslimit, memlimit)
        pk = self.public_key
        return (
            "# sealdrop organisation signing key: PRIVATE, encrypted with its passphrase.\n"
            "# It signs deployment statements. Keep it on the offline machine with a backup.\n"
            f"# fingerprint: {pk.fingerprint}\n"
            f"signing-public-key: {pk.line}\n"
            f"signing-secret-key: {base64.b64encode(blob).decode('ascii')}\n"
        )

    @classmethod
    def from_file_text(cls, text: str, passphrase: str) -> SigningKey:
        fields = _identity_fields(  # §2's rules, with the signing key file's field names
            text,
            "signing-secret-key",
            "this file is not an organisation signing key (no signing-secret-key line); "
            "pass the file made by `sealdrop-reviewer signing-keygen`",
            "signing key file",
        )
        try:
            blob = strictbase64.decode(fields["signing-secret-key"])
        except ValueError:
            blob = b""
        if len(blob) != _BLOB_BYTES:
            raise InvalidIdentityFile(
                "the signing-secret-key line is damaged or cut short; restore it from backup"
            )
        seed = unlock_secret(blob, passphrase, "signing key file")
        signing_key = cls(seed)
        listed = fields.get("signing-public-key")
        if listed and SigningPublicKey.from_line(listed) != signing_key.public_key:
            raise InvalidIdentityFile(
                "the signing-public-key line does not belong to this private key; restore the "
                "file from backup"
            )
        return signing_key

    @classmethod
    def load(cls, path: str | Path, passphrase: str) -> SigningKey:
        return cls.from_file_text(Path(path).read_text(encoding="utf-8"), passphrase)
