'use strict';
// Codenames and the reply keys derived from them (docs/FORMAT.md §5), byte-compatible with
// crypto/codename.py: eight words of the BIP39 English list (88 bits), each recognised by its
// first four letters; from the canonical form, keyed BLAKE2b labels give a seed for
// crypto_box_seed_keypair (the reply key) and the mailbox id. Takes libsodium as an argument,
// like envelope.js, so Node tests run the very code the browser runs.
const { wordlist } = require('@scure/bip39/wordlists/english.js');

const WORD_COUNT = 8;
const CODENAME_LABEL = 'sealdrop-codename-v1';
const REPLY_KEY_LABEL = 'sealdrop-reply-key-v1';
const MAILBOX_LABEL = 'sealdrop-mailbox-v1';
const CHECKSUM_LABEL = 'sealdrop-pubkey-checksum-v1';
const SEPARATORS = /[\s\-_.,;:/]+/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

const utf8 = new TextEncoder();
let byPrefix = null;

class CodenameError extends Error {
  constructor(reason, value) {
    super(reason === 'count' ? `a codename has 8 words; this has ${value}` : `word ${value}`);
    this.reason = reason; // 'count' (value: words typed) or 'word' (value: its position)
    this.value = value;
  }
}

function index() {
  if (byPrefix === null) {
    byPrefix = new Map();
    for (const word of wordlist) {
      byPrefix.set(word.slice(0, 4), word);
      byPrefix.set(word, word);
    }
  }
  return byPrefix;
}

// Uniform words from libsodium's CSPRNG; returns the canonical form.
function generate(sodium) {
  const words = [];
  for (let i = 0; i < WORD_COUNT; i += 1) words.push(wordlist[sodium.randombytes_uniform(2048)]);
  return words.join(' ');
}

// Any case, spacing and separators; a word by its full spelling or its first four letters.
function parse(text) {
  const typed = String(text).trim().toLowerCase().split(SEPARATORS).filter((w) => w !== '');
  if (typed.length !== WORD_COUNT) throw new CodenameError('count', typed.length);
  const words = typed.map((word, i) => {
    const match = index().get(word) || (word.length >= 4 ? index().get(word.slice(0, 4)) : null);
    if (!match) throw new CodenameError('word', i + 1);
    return match;
  });
  return words.join(' ');
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

function hash(sodium, label, data, length) {
  return sodium.crypto_generichash(length, data, utf8.encode(label));
}

function publicKeyLine(sodium, publicKey) {
  const checksum = hash(sodium, CHECKSUM_LABEL, publicKey, 4);
  const both = new Uint8Array(36);
  both.set(publicKey);
  both.set(checksum, 32);
  return `sdpub1${base32(both)}`;
}

// {publicKey, privateKey, publicKeyLine, mailbox} from a canonical codename.
function derive(sodium, canonical) {
  const master = hash(sodium, CODENAME_LABEL, utf8.encode(canonical), 32);
  const seed = hash(sodium, REPLY_KEY_LABEL, master, 32);
  const mailbox = base32(hash(sodium, MAILBOX_LABEL, master, 16));
  const pair = sodium.crypto_box_seed_keypair(seed);
  sodium.memzero(seed);
  sodium.memzero(master);
  return {
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    publicKeyLine: publicKeyLine(sodium, pair.publicKey),
    mailbox,
  };
}

// What a submission's CLOSE record carries: never the codename itself.
function trailerFor(keys) {
  return { reply_key: keys.publicKeyLine, mailbox: keys.mailbox };
}

module.exports = { CodenameError, WORD_COUNT, derive, generate, parse, trailerFor, wordlist };
