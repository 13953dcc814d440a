'use strict';
// Codenames and the keys derived from them (docs/FORMAT.md §5), byte-compatible with
// crypto/codename.py and crypto/followup.py. Version 2: eight positions in lists of 1,056
// words, written with the page language's list (wordlists.js: English, Russian; over 80 bits);
// the positions are the secret, so a codename typed in either list derives the same keys. Version 1 (issued before):
// eight BIP39 English words, read by the rules they were issued with. BLAKE2b from
// @noble/hashes, the key pairs and signatures from WebCrypto (webkeys.js): no libsodium, and
// Node tests run the very code the browser runs.
//
// The word lists are handed over by the caller (useWords, useLegacyWords; word-tables.js hands
// over all of them, for Node and the replies page), so the submission worker fetches only the
// page language's list to issue a codename, and every list only to read a typed one. Issuing
// needs of the BIP39 list only which words of the list a version 1 reader would take for BIP39
// words: build.js computes that table (clashPositions) into each language's list file.
const pubkeys = require('./pubkeys.js');
const webkeys = require('./webkeys.js');

const WORD_COUNT = 8;
const LIST_SIZE = 1056;
const PREFIX = 4;
const APART_ISSUED = 3;
const APART_READ = 2;
const LEGACY = 'bip39';
const LANGUAGES = ['en', 'ru'];
const LEGACY_LABEL = 'sealdrop-codename-v1';
const CODENAME_LABEL = 'sealdrop-codename-v2';
const REPLY_KEY_LABEL = 'sealdrop-reply-key-v1';
const MAILBOX_LABEL = 'sealdrop-mailbox-v1';
// Mailbox v2 (crypto/mailbox.py): PBKDF2-HMAC-SHA256, WebCrypto's own, with the deployment's salt.
const MAILBOX_V2_LABEL = 'sealdrop-mailbox-v2';
const MAILBOX_ITERATIONS = 20000;
const MAILBOX_SALT_BYTES = 16;
const PROOF_LABEL = 'sealdrop-followup-v1';
// Spelt out, as in crypto/codename.py: \s and \d differ between Python and JavaScript.
const SEPARATORS =
  /[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff0-9\-_.,;:/()]+/;
const FOLD = { ё: 'е', й: 'и', щ: 'ш', ъ: 'ь' };

const utf8 = new TextEncoder();
const lists = {};
const clashTables = {};
let legacyList = null;
let legacyIndex = null;
let entries = null;
let newIndex = null;

class CodenameError extends Error {
  constructor(reason, value) {
    super(reason === 'count' ? `a codename has 8 words; this has ${value}` : `word ${value}`);
    this.reason = reason; // 'count' (value: words typed) or 'word' (value: its position)
    this.value = value;
  }
}

function fold(text) {
  return String(text)
    .normalize('NFC')
    .toLowerCase()
    .replace(/[ёйщъ]/g, (letter) => FOLD[letter]);
}

// words: a language's list; clashes: its clashPositions, when known (else computed, which
// needs the BIP39 list).
function useWords(language, words, clashes = null) {
  lists[language] = words;
  if (clashes !== null) clashTables[language] = clashes;
  newIndex = null;
  entries = null;
}

function hasWords(language) {
  return language in lists;
}

function useLegacyWords(words) {
  legacyList = words;
  legacyIndex = null;
}

function wordsOf(language) {
  if (!hasWords(language)) throw new Error(`the ${language} word list is not loaded (useWords)`);
  return lists[language];
}

function legacy() {
  if (legacyList === null) throw new Error('the BIP39 list is not loaded (useLegacyWords)');
  if (legacyIndex === null) {
    legacyIndex = new Map();
    for (const word of legacyList) legacyIndex.set(word.slice(0, PREFIX), word);
    for (const word of legacyList) legacyIndex.set(word, word);
  }
  return legacyIndex;
}

function index() {
  if (newIndex === null) {
    entries = [];
    for (const language of LANGUAGES) {
      wordsOf(language).forEach((word, position) => {
        entries.push({ language, position, folded: fold(word) });
      });
    }
    newIndex = new Map();
    for (const entry of entries) newIndex.set(entry.folded.slice(0, PREFIX), entry);
    for (const entry of entries) newIndex.set(entry.folded, entry);
  }
  return newIndex;
}

// Exactly one insertion, deletion, substitution or swap of neighbours, counted in code points.
function oneEdit(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  if (a === b || Math.abs(x.length - y.length) > 1) return false;
  let i = 0;
  while (i < Math.min(x.length, y.length) && x[i] === y[i]) i += 1;
  const rest = (list, from) => list.slice(from).join('\u0000');
  if (x.length === y.length) {
    if (rest(x, i + 1) === rest(y, i + 1)) return true;
    return rest(x, i + 2) === rest(y, i + 2) && x[i] === y[i + 1] && x[i + 1] === y[i];
  }
  const [longer, shorter] = x.length > y.length ? [x, y] : [y, x];
  return rest(longer, i + 1) === rest(shorter, i);
}

// The list entry a typed (folded) word means, or null when none or several: the first rule
// that finds anything decides (a whole word or exactly a word's first four letters; then, for
// four letters or more: one edit from a whole word; the same first four letters; one edit
// from a word's first four letters).
function resolve(word) {
  const found = index();
  const length = Array.from(word).length;
  if (found.has(word)) return found.get(word);
  if (length < PREFIX) return null;
  const head = Array.from(word).slice(0, PREFIX).join('');
  const headOf = (entry) => Array.from(entry.folded).slice(0, PREFIX).join('');
  const rules = [
    (entry) => oneEdit(word, entry.folded),
    (entry) => headOf(entry) === head,
    (entry) => oneEdit(head, headOf(entry)),
  ];
  for (const rule of rules) {
    const matches = entries.filter(rule);
    if (matches.length) return matches.length === 1 ? matches[0] : null;
  }
  return null;
}

function legacyMatch(word) {
  const found = legacy();
  return found.get(word) || (word.length >= PREFIX ? found.get(word.slice(0, PREFIX)) : null);
}

function readLegacy(typed) {
  const words = typed.map((word, i) => {
    const match = legacyMatch(word);
    if (!match) throw new CodenameError('word', i + 1);
    return match;
  });
  return { language: LEGACY, words, positions: null };
}

// How many words are, whole or by their first four letters, words of a new list and not
// BIP39 words by the version 1 rules.
function apart(words) {
  const found = index();
  return words.filter((word) => {
    const head = Array.from(word).slice(0, PREFIX).join('');
    const listed = found.has(word) || (Array.from(word).length >= PREFIX && found.has(head));
    return listed && !legacyMatch(word);
  }).length;
}

function fromPositions(positions, language) {
  const words = wordsOf(language);
  return { language, words: positions.map((p) => words[p]), positions };
}

// {language, words, positions} from typed text; throws CodenameError.
function read(text) {
  const typed = fold(text)
    .split(SEPARATORS)
    .filter((word) => word !== '');
  if (typed.length !== WORD_COUNT) throw new CodenameError('count', typed.length);
  // Version 2 needs two words apart from BIP39 (issued with three); else version 1's rules.
  if (apart(typed) < APART_READ) return readLegacy(typed);
  const found = typed.map((word, i) => {
    const entry = resolve(word);
    if (entry === null) throw new CodenameError('word', i + 1);
    return entry;
  });
  return fromPositions(
    found.map((entry) => entry.position),
    found[0].language,
  );
}

// The codename as it should be shown and kept: its words joined by single spaces.
function parse(text) {
  return read(text).words.join(' ');
}

// The positions in a language's list whose word is not apart from BIP39 (apart counts word by
// word, so a codename's count is how many of its positions are not in here).
function clashPositions(language) {
  return wordsOf(language).flatMap((word, position) => (apart([word]) === 0 ? [position] : []));
}

function clashes(language) {
  return new Set(clashTables[language] || clashPositions(language));
}

// The list a new codename is written with: the page language's, English for any other.
function issuingLanguage(language) {
  return LANGUAGES.includes(language) ? language : 'en';
}

// A new codename in the page language's list, as read() gives it; derive() takes it as it is,
// so issuing one needs no BIP39 list.
function issue(language = 'en') {
  const chosen = issuingLanguage(language);
  const clashing = clashes(chosen);
  for (;;) {
    const positions = [];
    for (let i = 0; i < WORD_COUNT; i += 1) positions.push(webkeys.randomBelow(LIST_SIZE));
    const apartCount = positions.filter((position) => !clashing.has(position)).length;
    if (apartCount >= APART_ISSUED) return fromPositions(positions, chosen);
  }
}

// A new codename's text.
function generate(language = 'en') {
  return issue(language).words.join(' ');
}

function secret(codename) {
  if (codename.language === LEGACY) return utf8.encode(codename.words.join(' '));
  const bytes = new Uint8Array(2 * WORD_COUNT); // each position, two bytes big-endian
  codename.positions.forEach((position, i) => {
    bytes[2 * i] = position >> 8;
    bytes[2 * i + 1] = position & 0xff;
  });
  return bytes;
}

// The mailbox v2 id: PBKDF2-HMAC-SHA256 over BLAKE2b(key=label, master), salted with the label
// and the deployment's salt (hex, from the page's config).
async function mailboxV2(master, saltHex) {
  if (!/^[0-9a-f]{32}$/.test(String(saltHex))) throw new Error('the page names no mailbox salt');
  const password = pubkeys.keyedHash(MAILBOX_V2_LABEL, master, 32);
  const label = utf8.encode(MAILBOX_V2_LABEL);
  const salt = new Uint8Array(label.length + MAILBOX_SALT_BYTES);
  salt.set(label);
  salt.set(Uint8Array.from(saltHex.match(/../g), (pair) => parseInt(pair, 16)), label.length);
  try {
    const subtle = globalThis.crypto.subtle;
    const key = await subtle.importKey('raw', password, 'PBKDF2', false, ['deriveBits']);
    const params = { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: MAILBOX_ITERATIONS };
    return pubkeys.base32(new Uint8Array(await subtle.deriveBits(params, key, 128)));
  } finally {
    password.fill(0);
  }
}

// {publicKey, privateKey, x25519Key, publicKeyLine, mailbox, legacyMailbox, mailboxes,
// verifyKey, signingKey} from a codename's text (as parse returns it, or as typed) or as issue()
// gives it, as crypto/codename.py derives them. With the deployment's mailbox salt (hex; every
// page passes it) mailbox is the v2 id, which new submissions carry; without, the legacy id.
// mailboxes: where a check looks (v2, then legacy: replies to submissions sealed before v2).
// publicKey and verifyKey are bytes; x25519Key and signingKey are WebCrypto keys; privateKey
// is the raw X25519 scalar that only libsodium's v1 opener needs: callers wipe it.
async function derive(text, saltHex = null) {
  const codename = typeof text === 'string' ? read(text) : text;
  const label = codename.language === LEGACY ? LEGACY_LABEL : CODENAME_LABEL;
  const master = pubkeys.keyedHash(label, secret(codename), 32);
  const seed = pubkeys.keyedHash(REPLY_KEY_LABEL, master, 32);
  const legacyMailbox = pubkeys.base32(pubkeys.keyedHash(MAILBOX_LABEL, master, 16));
  try {
    const mailbox = saltHex === null ? legacyMailbox : await mailboxV2(master, saltHex);
    const signing = await webkeys.ed25519FromSeed(seed);
    const reply = await webkeys.x25519FromEd25519Seed(seed);
    return {
      publicKey: reply.publicKey,
      privateKey: reply.scalar,
      x25519Key: reply.privateKey,
      publicKeyLine: pubkeys.publicKeyLine(reply.publicKey),
      mailbox,
      legacyMailbox,
      mailboxes: [...new Set([mailbox, legacyMailbox])],
      verifyKey: signing.publicKey,
      signingKey: signing.privateKey,
    };
  } finally {
    seed.fill(0);
    master.fill(0);
  }
}

function hex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

// What a submission's CLOSE record carries (never the codename itself): the reply key, the
// mailbox, the verify key, and its signature binding them to this envelope's header hash.
async function signedTrailer(keys, headerHash) {
  const label = utf8.encode(PROOF_LABEL);
  const mailbox = utf8.encode(keys.mailbox);
  const message = new Uint8Array(label.length + 64 + mailbox.length);
  message.set(label);
  message.set(headerHash, label.length);
  message.set(keys.publicKey, label.length + 32);
  message.set(mailbox, label.length + 64);
  return {
    reply_key: keys.publicKeyLine,
    mailbox: keys.mailbox,
    verify_key: hex(keys.verifyKey),
    proof: hex(await webkeys.sign(keys.signingKey, message)),
  };
}

module.exports = {
  CodenameError,
  clashPositions,
  hasWords,
  issuingLanguage,
  useLegacyWords,
  useWords,
  LANGUAGES,
  WORD_COUNT,
  derive,
  hex,
  fold,
  generate,
  issue,
  parse,
  read,
  signedTrailer,
};
