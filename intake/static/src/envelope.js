'use strict';
// Sealing sealdrop envelopes, format v2 (docs/FORMAT.md §9), byte-compatible with crypto/'s
// v2 sealer: one random file key per envelope, wrapped to each recipient with HPKE (RFC 9180,
// the `hpke` package on WebCrypto), an HMAC committing the header to it, and the records of
// records.js sealed with AES-256-GCM in 64 KiB chunks (STREAM, as age does it). WebCrypto
// only: the page, its Worker and the Node tests run this very module.
const hpke = require('./hpke-suite.mjs');
const pubkeys = require('./pubkeys.js');
const records = require('./records.js');
const webkeys = require('./webkeys.js');

const MAGIC = [0x53, 0x45, 0x41, 0x4c, 0x44, 0x52, 0x4f, 0x50]; // "SEALDROP"
const VERSION = 2;
const PREAMBLE = 10;
const MAX_RECIPIENTS = 64;
const KEY_ID_BYTES = 8;
const ENC_BYTES = 32;
const WRAPPED_BYTES = 48;
const STANZA_BYTES = KEY_ID_BYTES + ENC_BYTES + WRAPPED_BYTES;
const MAC_BYTES = 32;
const TAG_BYTES = 16;
const FILE_KEY_BYTES = 32;
// Chunks handed to WebCrypto before the first is awaited: each call returns only after a trip
// to WebCrypto's thread, so sealing one at a time would wait on those trips, not on AES.
const IN_FLIGHT = 16;
const { CHUNK_SIZE } = records;

const utf8 = new TextEncoder();
const STANZA_INFO = utf8.encode('sealdrop-v2/stanza');
const HEADER_INFO = utf8.encode('sealdrop-v2/header');
const PAYLOAD_INFO = utf8.encode('sealdrop-v2/payload');

function subtle() {
  return globalThis.crypto.subtle;
}

// kem: the HPKE KEM factory; only tests replace it (to fix the ephemeral keys for vectors).
function hpkeSuite(kem = hpke.KEM_DHKEM_X25519_HKDF_SHA256) {
  return new hpke.CipherSuite(kem, hpke.KDF_HKDF_SHA256, hpke.AEAD_AES_256_GCM);
}

// --- lengths ---------------------------------------------------------------------------

function headerLength(recipientCount) {
  return PREAMBLE + recipientCount * STANZA_BYTES + MAC_BYTES;
}

function sealedPayloadLength(plaintextLength) {
  return plaintextLength + Math.ceil(plaintextLength / CHUNK_SIZE) * TAG_BYTES;
}

// The exact envelope length for parts [{info, size}] and a trailer, known before sealing:
// the server needs it when the upload is created.
function envelopeLength(recipientCount, parts, trailer = {}) {
  return (
    headerLength(recipientCount) + sealedPayloadLength(records.plaintextLength(parts, trailer))
  );
}

// --- keys from the file key (§9.1, §9.2) -------------------------------------------------

// HKDF-SHA256 to a WebCrypto key; an empty salt is HashLen zeros in WebCrypto as in RFC 5869.
async function derive(fileKey, salt, info, algorithm, usages) {
  const base = await subtle().importKey('raw', fileKey, 'HKDF', false, ['deriveKey']);
  return subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info },
    base,
    algorithm,
    false,
    usages,
  );
}

// 32 bytes: WebCrypto's default HMAC key length would be SHA-256's block size, 64.
function macKey(fileKey, usage) {
  const algorithm = { name: 'HMAC', hash: 'SHA-256', length: 256 };
  return derive(fileKey, new Uint8Array(0), HEADER_INFO, algorithm, [usage]);
}

function payloadKey(fileKey, headerHash, usage) {
  return derive(fileKey, headerHash, PAYLOAD_INFO, { name: 'AES-GCM', length: 256 }, [usage]);
}

// nonce_i = i as 11 bytes big-endian || last flag.
function chunkNonce(counter, last) {
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  view.setUint32(3, Math.floor(counter / 2 ** 32));
  view.setUint32(7, counter % 2 ** 32);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

// --- sealing ---------------------------------------------------------------------------

// Writes one envelope through output(Uint8Array), called as sealed bytes become ready.
// Create with `await Sealer.create(publicKeys, output)`; then beginPart/write/endPart and
// close, each awaited. Memory stays at one 64 KiB chunk.
class Sealer {
  // options: {fileKey, kem} fix the randomness, for byte-for-byte vectors (tests only).
  static async create(publicKeys, output, options = {}) {
    if (publicKeys.length < 1 || publicKeys.length > MAX_RECIPIENTS) {
      throw new pubkeys.KeyError('an envelope needs 1 to 64 recipients');
    }
    const ids = publicKeys.map((pk) => pubkeys.keyId(pk));
    if (new Set(ids.map((id) => id.join(','))).size !== ids.length) {
      throw new pubkeys.KeyError('the same recipient key is given twice');
    }
    const fileKey = options.fileKey
      ? Uint8Array.from(options.fileKey)
      : webkeys.randomBytes(FILE_KEY_BYTES);
    try {
      const header = new Uint8Array(headerLength(publicKeys.length));
      header.set(MAGIC);
      header[8] = VERSION;
      header[9] = publicKeys.length;
      const suite = hpkeSuite(options.kem);
      for (let i = 0; i < publicKeys.length; i += 1) {
        const recipient = await suite.DeserializePublicKey(publicKeys[i]);
        const sealed = await suite.Seal(recipient, fileKey, { info: STANZA_INFO });
        const at = PREAMBLE + i * STANZA_BYTES;
        header.set(ids[i], at);
        header.set(sealed.encapsulatedSecret, at + KEY_ID_BYTES);
        header.set(sealed.ciphertext, at + KEY_ID_BYTES + ENC_BYTES);
      }
      const macAt = header.length - MAC_BYTES;
      const mac = await subtle().sign('HMAC', await macKey(fileKey, 'sign'), header.subarray(0, macAt));
      header.set(new Uint8Array(mac), macAt);
      const headerHash = await webkeys.sha256(header);
      const key = await payloadKey(fileKey, headerHash, 'encrypt');
      return new Sealer(header, headerHash, key, output);
    } finally {
      fileKey.fill(0);
    }
  }

  constructor(header, headerHash, key, output) {
    this._key = key;
    this._output = output;
    this._counter = 0;
    this._pending = [];
    this._framer = new records.Framer((chunk, last) => this._push(chunk, last));
    // SHA-256 of the whole header: a follow-up's proof binds to it (§9.4).
    this.headerHash = headerHash;
    this.bytesWritten = header.length;
    output(header);
  }

  beginPart(info) {
    return this._framer.beginPart(info);
  }

  write(data) {
    return this._framer.write(data);
  }

  endPart() {
    return this._framer.endPart();
  }

  close(trailer = {}) {
    return this._framer.close(trailer);
  }

  // WebCrypto copies `chunk` before encrypt() returns, so the framer may reuse its buffer at
  // once; sealed chunks are written out in order.
  async _push(chunk, last) {
    const iv = chunkNonce(this._counter, last);
    this._counter += 1;
    this._pending.push(subtle().encrypt({ name: 'AES-GCM', iv }, this._key, chunk));
    while (this._pending.length >= (last ? 1 : IN_FLIGHT)) {
      const sealed = new Uint8Array(await this._pending.shift());
      this.bytesWritten += sealed.length;
      this._output(sealed);
    }
  }
}

// Seals parts [{info, size, read(start, end) -> Promise<Uint8Array>}] in order, reading each
// part `sliceBytes` at a time. output(bytes) receives the sealed stream; after every slice
// `pause()` is awaited, which is where a caller applies back-pressure.
async function sealParts(publicKeys, parts, output, options = {}) {
  const sliceBytes = options.sliceBytes || 1 << 20;
  const pause = options.pause || (() => Promise.resolve());
  // DATA records are cut per write, so slices must be whole chunks for envelopeLength to hold.
  if (sliceBytes % CHUNK_SIZE !== 0) throw new Error('sliceBytes must be a multiple of 64 KiB');
  const sealer = await Sealer.create(publicKeys, output, options.random);
  for (const part of parts) {
    await sealer.beginPart(part.info);
    for (let start = 0; start < part.size; start += sliceBytes) {
      const end = Math.min(start + sliceBytes, part.size);
      const data = await part.read(start, end);
      if (data.length !== end - start) throw new Error('a file changed while it was read');
      await sealer.write(data);
      await pause();
    }
    await sealer.endPart();
  }
  // options.trailer: the CLOSE object, or an (async) function of the header hash giving it.
  const trailer = options.trailer || {};
  await sealer.close(typeof trailer === 'function' ? await trailer(sealer.headerHash) : trailer);
  return sealer.bytesWritten;
}

module.exports = {
  CHUNK_SIZE,
  MAC_BYTES,
  PREAMBLE,
  STANZA_BYTES,
  STANZA_INFO,
  TAG_BYTES,
  Chunker: records.Chunker,
  KeyError: pubkeys.KeyError,
  Sealer,
  chunkNonce,
  envelopeLength,
  headerLength,
  hpkeSuite,
  macKey,
  parsePublicKey: pubkeys.parsePublicKey,
  payloadKey,
  sealParts,
};
