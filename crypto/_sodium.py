"""The one place that calls libsodium (through PyNaCl).

Everything else in sealdrop goes through these few functions, so that reviewing how the
primitives are used means reading this file only. Each function is a documented libsodium
construction used as documented; nothing here invents cryptography.
"""

from __future__ import annotations

import nacl.bindings as _b
import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.pwhash.argon2id as _argon2id
import nacl.secret
import nacl.utils

KEY_BYTES = 32
SEALED_KEY_BYTES = _b.crypto_box_SEALBYTES + KEY_BYTES  # 80
STREAM_HEADER_BYTES = _b.crypto_secretstream_xchacha20poly1305_HEADERBYTES  # 24
STREAM_ABYTES = _b.crypto_secretstream_xchacha20poly1305_ABYTES  # 17
TAG_MESSAGE = _b.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = _b.crypto_secretstream_xchacha20poly1305_TAG_FINAL
PWHASH_SALT_BYTES = _argon2id.SALTBYTES  # 16
SECRETBOX_NONCE_BYTES = nacl.secret.SecretBox.NONCE_SIZE  # 24
SECRETBOX_MAC_BYTES = nacl.secret.SecretBox.MACBYTES  # 16

ARGON2ID_OPSLIMIT_MODERATE = _argon2id.OPSLIMIT_MODERATE
ARGON2ID_MEMLIMIT_MODERATE = _argon2id.MEMLIMIT_MODERATE
ARGON2ID_OPSLIMIT_MIN = _argon2id.OPSLIMIT_MIN
ARGON2ID_MEMLIMIT_MIN = _argon2id.MEMLIMIT_MIN


class AuthenticationFailed(Exception):
    """A MAC did not verify. Callers translate this into a specific sealdrop error."""


def random_bytes(n: int) -> bytes:
    return nacl.utils.random(n)


def keyed_hash(label: bytes, data: bytes, size: int) -> bytes:
    """BLAKE2b (crypto_generichash) keyed with an ASCII label, for domain separation."""
    return nacl.hash.blake2b(data, digest_size=size, key=label, encoder=nacl.encoding.RawEncoder)


def hash256(data: bytes) -> bytes:
    """Unkeyed BLAKE2b-256 (crypto_generichash)."""
    return nacl.hash.blake2b(data, digest_size=32, encoder=nacl.encoding.RawEncoder)


# --- X25519 key pairs and sealed boxes -------------------------------------------------


def box_keypair() -> tuple[bytes, bytes]:
    """Returns (public_key, secret_key)."""
    return _b.crypto_box_keypair()


def box_secret_from_seed(seed: bytes) -> bytes:
    """crypto_box_seed_keypair: the secret key of the key pair determined by a 32-byte seed."""
    _, secret_key = _b.crypto_box_seed_keypair(seed)
    return secret_key


def random_below(upper: int) -> int:
    """A uniform integer in [0, upper) from randombytes, by rejection (no modulo bias)."""
    bits = (upper - 1).bit_length()
    mask = (1 << bits) - 1
    while True:
        value = int.from_bytes(random_bytes((bits + 7) // 8), "big") & mask
        if value < upper:
            return value


def box_public_from_secret(secret_key: bytes) -> bytes:
    return _b.crypto_scalarmult_base(secret_key)


def seal_to(public_key: bytes, message: bytes) -> bytes:
    return _b.crypto_box_seal(message, public_key)


def open_sealed(ciphertext: bytes, public_key: bytes, secret_key: bytes) -> bytes:
    try:
        return _b.crypto_box_seal_open(ciphertext, public_key, secret_key)
    except nacl.exceptions.CryptoError as exc:
        raise AuthenticationFailed from exc


# --- secretstream ----------------------------------------------------------------------


def stream_key() -> bytes:
    return _b.crypto_secretstream_xchacha20poly1305_keygen()


class StreamPusher:
    """crypto_secretstream_xchacha20poly1305 in push (encrypt) direction."""

    def __init__(self, key: bytes) -> None:
        self._state = _b.crypto_secretstream_xchacha20poly1305_state()
        self.header = _b.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)

    def push(self, chunk: bytes, ad: bytes, *, final: bool) -> bytes:
        tag = TAG_FINAL if final else TAG_MESSAGE
        return _b.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, ad, tag)


class StreamPuller:
    """crypto_secretstream_xchacha20poly1305 in pull (decrypt) direction."""

    def __init__(self, key: bytes, header: bytes) -> None:
        self._state = _b.crypto_secretstream_xchacha20poly1305_state()
        _b.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, key)

    def pull(self, chunk: bytes, ad: bytes) -> tuple[bytes, int]:
        try:
            return _b.crypto_secretstream_xchacha20poly1305_pull(self._state, chunk, ad)
        except nacl.exceptions.CryptoError as exc:
            raise AuthenticationFailed from exc


# --- passphrase protection of secret keys ----------------------------------------------


def passphrase_key(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    """Argon2id13 (crypto_pwhash) stretching a passphrase into a secretbox key."""
    return _argon2id.kdf(KEY_BYTES, passphrase, salt, opslimit=opslimit, memlimit=memlimit)


def secretbox_seal(key: bytes, plaintext: bytes) -> bytes:
    """XSalsa20-Poly1305 (crypto_secretbox) with a random nonce; returns nonce || ciphertext."""
    return bytes(nacl.secret.SecretBox(key).encrypt(plaintext))


def secretbox_open(key: bytes, nonce_and_ciphertext: bytes) -> bytes:
    try:
        return nacl.secret.SecretBox(key).decrypt(nonce_and_ciphertext)
    except nacl.exceptions.CryptoError as exc:
        raise AuthenticationFailed from exc
