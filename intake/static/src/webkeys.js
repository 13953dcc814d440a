'use strict';
// X25519 and Ed25519 keys from raw bytes, SHA-2 and randomness, through WebCrypto only: the
// submission page loads no libsodium (docs/BROWSER.md). A raw private key enters WebCrypto as
// PKCS #8 (RFC 8410): a fixed 16-byte prefix, then the 32 key bytes. Works in page, Worker
// and Node alike (globalThis.crypto).

const PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65];
const OID = { Ed25519: 0x70, X25519: 0x6e };
const USAGES = { Ed25519: ['sign'], X25519: ['deriveBits'] };

function subtle() {
  return globalThis.crypto.subtle;
}

function pkcs8(name, raw) {
  if (raw.length !== 32) throw new Error(`${name} private keys are 32 bytes`);
  const der = new Uint8Array(48);
  der.set(PKCS8_PREFIX);
  der.set([OID[name], 0x04, 0x22, 0x04, 0x20], PKCS8_PREFIX.length);
  der.set(raw, 16);
  return der;
}

function fromBase64Url(text) {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

// {privateKey: CryptoKey, publicKey: Uint8Array(32)} for an Ed25519 seed or an X25519 scalar.
// The key is extractable only so that its public half can be read from the JWK export.
async function importPrivate(name, raw) {
  const der = pkcs8(name, raw);
  const privateKey = await subtle().importKey('pkcs8', der, { name }, true, USAGES[name]);
  der.fill(0);
  const { x } = await subtle().exportKey('jwk', privateKey);
  return { privateKey, publicKey: fromBase64Url(x) };
}

// The Ed25519 key pair of a 32-byte seed, as libsodium's crypto_sign_seed_keypair makes it.
function ed25519FromSeed(seed) {
  return importPrivate('Ed25519', seed);
}

// The X25519 key pair of a 32-byte secret key (a reviewer's, section 2 of docs/FORMAT.md).
function x25519FromSecret(secret) {
  return importPrivate('X25519', secret);
}

// The X25519 key pair libsodium's crypto_sign_ed25519_sk_to_curve25519 gives for an Ed25519
// seed: the scalar is the first half of SHA-512(seed) (X25519 clamps it as libsodium does).
// Also returns that scalar, for libsodium's v1 opener; the caller wipes it.
async function x25519FromEd25519Seed(seed) {
  const scalar = (await sha512(seed)).slice(0, 32);
  const pair = await importPrivate('X25519', scalar);
  return { ...pair, scalar };
}

async function sign(privateKey, message) {
  return new Uint8Array(await subtle().sign({ name: 'Ed25519' }, privateKey, message));
}

async function verify(publicKey, signature, message) {
  const key = await subtle().importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  return subtle().verify({ name: 'Ed25519' }, key, signature, message);
}

async function sha256(data) {
  return new Uint8Array(await subtle().digest('SHA-256', data));
}

async function sha512(data) {
  return new Uint8Array(await subtle().digest('SHA-512', data));
}

function randomBytes(length) {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

// A uniform integer in [0, bound), bound <= 2^32, without modulo bias.
function randomBelow(bound) {
  const limit = 2 ** 32 - (2 ** 32 % bound);
  const word = new Uint32Array(1);
  for (;;) {
    globalThis.crypto.getRandomValues(word);
    if (word[0] < limit) return word[0] % bound;
  }
}

module.exports = {
  ed25519FromSeed,
  x25519FromEd25519Seed,
  x25519FromSecret,
  randomBelow,
  randomBytes,
  sha256,
  sha512,
  sign,
  verify,
};
