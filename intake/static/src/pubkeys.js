'use strict';
// sealdrop's public key lines ("sdpub1" + base32 of the X25519 key and a 4-byte BLAKE2b
// checksum) and v1 key ids (docs/FORMAT.md §2), as crypto/keys.py writes and reads them.
// BLAKE2b comes from @noble/hashes (audited); nothing here needs libsodium.
const { blake2b } = require('./blake2b.mjs');

const PREFIX = 'sdpub1';
const CHECKSUM_LABEL = 'sealdrop-pubkey-checksum-v1';
const SIGNING_PREFIX = 'sdsig1';
const SIGNING_CHECKSUM_LABEL = 'sealdrop-sigkey-checksum-v1';
const FINGERPRINT_LABEL = 'sealdrop-fingerprint-v1';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

const utf8 = new TextEncoder();

class KeyError extends Error {}

// Keyed BLAKE2b, as libsodium's crypto_generichash(length, data, key).
function keyedHash(label, data, length) {
  return blake2b(data, { dkLen: length, key: utf8.encode(label) });
}

function base32(bytes) {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32[(value >>> bits) & 31];
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(text) {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const char of text) {
    const digit = BASE32.indexOf(char);
    if (digit < 0) throw new KeyError('this public key has characters that cannot appear in one');
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (value >>> bits) & 0xff;
    }
  }
  return out;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
  return diff === 0;
}

function parseLine(prefix, label, line) {
  const text = String(line).replace(/[ \t\r\n]+/g, '').toLowerCase();
  if (!text.startsWith(prefix)) throw new KeyError('not a sealdrop public key');
  const body = text.slice(prefix.length);
  const data = base32Decode(body);
  // Exactly 58 characters, canonical (no stray bits in the last one), as docs/FORMAT.md §1.
  if (data.length !== 36 || base32(data) !== body) {
    throw new KeyError('this public key is too short or too long');
  }
  const raw = data.slice(0, 32);
  if (!equalBytes(keyedHash(label, raw, 4), data.slice(32))) {
    throw new KeyError("this public key's checksum does not match");
  }
  return raw;
}

function formatLine(prefix, label, raw) {
  const both = new Uint8Array(36);
  both.set(raw);
  both.set(keyedHash(label, raw, 4), 32);
  return `${prefix}${base32(both)}`;
}

// An "sdpub1..." line to the 32-byte X25519 public key; refuses typos by the checksum.
function parsePublicKey(line) {
  return parseLine(PREFIX, CHECKSUM_LABEL, line);
}

function publicKeyLine(publicKey) {
  return formatLine(PREFIX, CHECKSUM_LABEL, publicKey);
}

// An "sdsig1..." line (a member's Ed25519 signing key, §8.1) to its 32 bytes.
function parseSigningKey(line) {
  return parseLine(SIGNING_PREFIX, SIGNING_CHECKSUM_LABEL, line);
}

// The 8 bytes naming a recipient's stanza: the start of the key's fingerprint.
function keyId(publicKey) {
  return keyedHash(FINGERPRINT_LABEL, publicKey, 32).slice(0, 8);
}

module.exports = {
  KeyError,
  base32,
  equalBytes,
  keyId,
  keyedHash,
  parsePublicKey,
  parseSigningKey,
  publicKeyLine,
};
