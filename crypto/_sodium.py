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
import nacl.signing
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


# --- Ed25519 signatures (a codename's proof, staff events, deployment statements) ---------

SIGN_PUBLIC_BYTES = _b.crypto_sign_PUBLICKEYBYTES  # 32
SIGNATURE_BYTES = _b.crypto_sign_BYTES  # 64


def sign_seed_keypair(seed: bytes) -> tuple[bytes, bytes]:
    """crypto_sign_seed_keypair: (public_key, secret_key) determined by a 32-byte seed."""
    return _b.crypto_sign_seed_keypair(seed)


def sign_secret_to_box(secret_key: bytes) -> bytes:
    """crypto_sign_ed25519_sk_to_curve25519: the X25519 secret key of an Ed25519 key pair."""
    return _b.crypto_sign_ed25519_sk_to_curve25519(secret_key)


def sign_public_to_box(public_key: bytes) -> bytes:
    """crypto_sign_ed25519_pk_to_curve25519; AuthenticationFailed for a key that is not a
    valid Ed25519 point."""
    try:
        return _b.crypto_sign_ed25519_pk_to_curve25519(public_key)
    except (nacl.exceptions.RuntimeError, nacl.exceptions.CryptoError, ValueError) as exc:
        raise AuthenticationFailed from exc


def sign_detached(secret_key: bytes, message: bytes) -> bytes:
    """crypto_sign_detached (Ed25519): the 64-byte signature of ``message``."""
    seed = _b.crypto_sign_ed25519_sk_to_seed(secret_key)
    return bytes(nacl.signing.SigningKey(seed).sign(message).signature)


def verify_detached(public_key: bytes, message: bytes, signature: bytes) -> None:
    """crypto_sign_verify_detached; raises AuthenticationFailed unless it verifies."""
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError) as exc:
        raise AuthenticationFailed from exc


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


# --- SHA-256 (crypto_hash_sha256) and random Ed25519 seeds (deployment statements, §7) -----

SIGN_SEED_BYTES = _b.crypto_sign_SEEDBYTES  # 32


def sign_seed() -> bytes:
    return random_bytes(SIGN_SEED_BYTES)


def sign_public_from_seed(seed: bytes) -> bytes:
    """crypto_sign_seed_keypair: the Ed25519 public key of the key pair a seed determines."""
    public_key, _ = _b.crypto_sign_seed_keypair(seed)
    return public_key


def sha256(data: bytes) -> bytes:
    """crypto_hash_sha256."""
    return nacl.hash.sha256(data, encoder=nacl.encoding.RawEncoder)
