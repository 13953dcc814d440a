'use strict';
// Sealing sealdrop envelopes, format v1 (docs/FORMAT.md), byte-compatible with crypto.Sealer.
// Shared by the browser's Web Worker (bundled by build.js) and the Node interop tests, so it
// takes the libsodium-wrappers object as an argument and touches no browser or Node API.

const MAGIC = [0x53, 0x45, 0x41, 0x4c, 0x44, 0x52, 0x4f, 0x50]; // "SEALDROP"
const VERSION = 1;
const MAX_RECIPIENTS = 64;
const CHUNK_SIZE = 65536;
const STREAM_ABYTES = 17;
const STREAM_HEADER_BYTES = 24;
const SEALED_KEY_BYTES = 80;
const KEY_ID_BYTES = 8;
const MIN_PADDED_LENGTH = 2048;
const MAX_JSON = 8192;
const RECORD_HEAD = 5;
const BEGIN = 1;
const DATA = 2;
const END = 3;
const CLOSE = 4;

const PUBLIC_KEY_PREFIX = 'sdpub1';
const CHECKSUM_LABEL = 'sealdrop-pubkey-checksum-v1';
const FINGERPRINT_LABEL = 'sealdrop-fingerprint-v1';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

const utf8 = new TextEncoder();

class KeyError extends Error {}

// --- lengths ---------------------------------------------------------------------------

function padme(length) {
  if (length < 2) return length;
  let exponent = 0; // floor(log2 length), exact for lengths up to 2^53
  while (2 ** (exponent + 1) <= length) exponent += 1;
  let sizeBits = 0; // floor(log2 exponent) + 1
  while (2 ** sizeBits <= exponent) sizeBits += 1;
  const step = 2 ** (exponent - sizeBits);
  return Math.ceil(length / step) * step;
}

function paddedLength(contentLength) {
  return padme(Math.max(contentLength, MIN_PADDED_LENGTH));
}

function headerLength(recipientCount) {
  return 10 + recipientCount * (KEY_ID_BYTES + SEALED_KEY_BYTES) + STREAM_HEADER_BYTES;
}

function sealedPayloadLength(plaintextLength) {
  return plaintextLength + Math.ceil(plaintextLength / CHUNK_SIZE) * STREAM_ABYTES;
}

function dataRecordsLength(size) {
  return size + Math.ceil(size / CHUNK_SIZE) * RECORD_HEAD;
}

// The exact envelope length for parts [{info, size}] and a trailer, known before sealing:
// the server needs it when the upload is created.
function envelopeLength(recipientCount, parts, trailer = {}) {
  let content = 0;
  for (const part of parts) {
    content += RECORD_HEAD + partInfoJson(part.info).length;
    content += dataRecordsLength(part.size);
    content += RECORD_HEAD + 8;
  }
  content += RECORD_HEAD + jsonBytes(trailer).length;
  return headerLength(recipientCount) + sealedPayloadLength(paddedLength(content));
}

// --- records ---------------------------------------------------------------------------

function jsonBytes(obj) {
  const body = utf8.encode(JSON.stringify(obj));
  if (body.length > MAX_JSON) throw new Error('record metadata is larger than 8192 bytes');
  return body;
}

// {kind, name?, type?} as BEGIN's JSON, in crypto.PartInfo's member order. A file name too
// long for a record is shortened (keeping its end, where the extension is) rather than
// refusing the whole submission.
function partInfoJson(info) {
  const obj = { kind: info.kind };
  if (info.name !== undefined && info.name !== null) obj.name = String(info.name);
  if (info.type !== undefined && info.type !== null) obj.type = String(info.type).slice(0, 255);
  let body = utf8.encode(JSON.stringify(obj));
  while (body.length > MAX_JSON && obj.name) {
    const chars = Array.from(obj.name);
    obj.name = '…' + chars.slice(Math.ceil(chars.length / 4)).join('');
    body = utf8.encode(JSON.stringify(obj));
  }
  return body;
}

function recordHead(kind, length) {
  const head = new Uint8Array(RECORD_HEAD);
  head[0] = kind;
  new DataView(head.buffer).setUint32(1, length);
  return head;
}

function endRecord(size) {
  const record = new Uint8Array(RECORD_HEAD + 8);
  record.set(recordHead(END, 8));
  const view = new DataView(record.buffer);
  view.setUint32(RECORD_HEAD, Math.floor(size / 2 ** 32));
  view.setUint32(RECORD_HEAD + 4, size % 2 ** 32);
  return record;
}

// --- public keys -----------------------------------------------------------------------

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

// An "sdpub1..." line to the 32-byte X25519 public key; refuses typos by the checksum.
function parsePublicKey(sodium, line) {
  const text = String(line).replace(/\s+/g, '').toLowerCase();
  if (!text.startsWith(PUBLIC_KEY_PREFIX)) throw new KeyError('not a sealdrop public key');
  const data = base32Decode(text.slice(PUBLIC_KEY_PREFIX.length));
  if (data.length !== 36) throw new KeyError('this public key is too short or too long');
  const raw = data.slice(0, 32);
  const checksum = sodium.crypto_generichash(4, raw, utf8.encode(CHECKSUM_LABEL));
  if (!equalBytes(checksum, data.slice(32))) {
    throw new KeyError("this public key's checksum does not match");
  }
  return raw;
}

function keyId(sodium, publicKey) {
  return sodium.crypto_generichash(32, publicKey, utf8.encode(FINGERPRINT_LABEL)).slice(0, 8);
}

// --- sealing ---------------------------------------------------------------------------

// Writes one envelope through output(Uint8Array), called synchronously as sealed bytes
// become ready. Memory stays at one 64 KiB chunk.
class Sealer {
  constructor(sodium, publicKeys, output) {
    if (publicKeys.length < 1 || publicKeys.length > MAX_RECIPIENTS) {
      throw new KeyError('an envelope needs 1 to 64 recipients');
    }
    const ids = publicKeys.map((pk) => keyId(sodium, pk));
    if (new Set(ids.map((id) => id.join(','))).size !== ids.length) {
      throw new KeyError('the same recipient key is given twice');
    }
    this._sodium = sodium;
    this._output = output;
    const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
    const { state, header: streamHeader } =
      sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
    const header = new Uint8Array(headerLength(publicKeys.length));
    header.set(MAGIC);
    header[8] = VERSION;
    header[9] = publicKeys.length;
    let position = 10;
    publicKeys.forEach((pk, i) => {
      header.set(ids[i], position);
      header.set(sodium.crypto_box_seal(key, pk), position + KEY_ID_BYTES);
      position += KEY_ID_BYTES + SEALED_KEY_BYTES;
    });
    header.set(streamHeader, position);
    sodium.memzero(key);
    this._state = state;
    this._ad = sodium.crypto_generichash(32, header, null);
    this._buffer = new Uint8Array(CHUNK_SIZE);
    this._fill = 0;
    this._contentLength = 0;
    this._partSize = null;
    this._finished = false;
    this.bytesWritten = header.length;
    output(header);
  }

  // BLAKE2b-256 of the header (the chunks' associated data): a follow-up's proof binds to it.
  get headerHash() {
    return this._ad;
  }

  beginPart(info) {
    this._checkOpen();
    if (this._partSize !== null) throw new Error('end the current part first');
    const body = partInfoJson(info);
    this._emit(recordHead(BEGIN, body.length));
    this._emit(body);
    this._partSize = 0;
  }

  write(data) {
    if (this._partSize === null) throw new Error('begin a part before writing data');
    for (let start = 0; start < data.length; start += CHUNK_SIZE) {
      const piece = data.subarray(start, start + CHUNK_SIZE);
      this._emit(recordHead(DATA, piece.length));
      this._emit(piece);
    }
    this._partSize += data.length;
  }

  endPart() {
    if (this._partSize === null) throw new Error('no part is open');
    this._emit(endRecord(this._partSize));
    this._partSize = null;
  }

  close(trailer = {}) {
    this._checkOpen();
    if (this._partSize !== null) throw new Error('end the current part before closing');
    const body = jsonBytes(trailer);
    this._emit(recordHead(CLOSE, body.length));
    this._emit(body);
    let padding = paddedLength(this._contentLength) - this._contentLength;
    const zeros = new Uint8Array(Math.min(padding, CHUNK_SIZE));
    while (padding > 0) {
      const step = Math.min(padding, CHUNK_SIZE);
      this._append(zeros.subarray(0, step));
      padding -= step;
    }
    this._push(this._buffer.subarray(0, this._fill), true);
    this._fill = 0;
    this._finished = true;
  }

  _checkOpen() {
    if (this._finished) throw new Error('this envelope is already finished');
  }

  _emit(data) {
    this._contentLength += data.length;
    this._append(data);
  }

  // A full chunk is pushed only once more data follows it, because the last one is FINAL.
  _append(data) {
    let position = 0;
    while (position < data.length) {
      if (this._fill === CHUNK_SIZE) {
        this._push(this._buffer, false);
        this._fill = 0;
      }
      const take = Math.min(CHUNK_SIZE - this._fill, data.length - position);
      this._buffer.set(data.subarray(position, position + take), this._fill);
      this._fill += take;
      position += take;
    }
  }

  _push(chunk, final) {
    const sodium = this._sodium;
    const tag = final
      ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
      : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    const sealed = sodium.crypto_secretstream_xchacha20poly1305_push(
      this._state,
      chunk,
      this._ad,
      tag,
    );
    this.bytesWritten += sealed.length;
    this._output(sealed);
  }
}

// Cuts a byte stream into pieces of exactly `size` bytes (the last may be shorter), each
// handed to onChunk(offset, Uint8Array) with its offset in the stream.
class Chunker {
  constructor(size, onChunk) {
    this._size = size;
    this._onChunk = onChunk;
    this._buffer = new Uint8Array(size);
    this._fill = 0;
    this.offset = 0;
  }

  write(data) {
    let position = 0;
    while (position < data.length) {
      const take = Math.min(this._size - this._fill, data.length - position);
      this._buffer.set(data.subarray(position, position + take), this._fill);
      this._fill += take;
      position += take;
      if (this._fill === this._size) this.flush();
    }
  }

  flush() {
    if (this._fill === 0) return;
    const chunk = this._buffer.slice(0, this._fill);
    const offset = this.offset;
    this.offset += this._fill;
    this._fill = 0;
    this._onChunk(offset, chunk);
  }
}

// Seals parts [{info, size, read(start, end) -> Promise<Uint8Array>}] in order, reading each
// part `sliceBytes` at a time. output(bytes) receives the sealed stream; after every slice
// `pause()` is awaited, which is where a caller applies back-pressure.
async function sealParts(sodium, publicKeys, parts, output, options = {}) {
  const sliceBytes = options.sliceBytes || 1 << 20;
  const pause = options.pause || (() => Promise.resolve());
  // DATA records are cut per write, so slices must be whole chunks for envelopeLength to hold.
  if (sliceBytes % CHUNK_SIZE !== 0) throw new Error('sliceBytes must be a multiple of 64 KiB');
  const sealer = new Sealer(sodium, publicKeys, output);
  for (const part of parts) {
    sealer.beginPart(part.info);
    for (let start = 0; start < part.size; start += sliceBytes) {
      const end = Math.min(start + sliceBytes, part.size);
      const data = await part.read(start, end);
      if (data.length !== end - start) throw new Error('a file changed while it was read');
      sealer.write(data);
      await pause();
    }
    sealer.endPart();
  }
  // options.trailer: the CLOSE object, or a function of the header hash returning it.
  const trailer = options.trailer || {};
  sealer.close(typeof trailer === 'function' ? trailer(sealer.headerHash) : trailer);
  return sealer.bytesWritten;
}

module.exports = {
  CHUNK_SIZE,
  KeyError,
  Sealer,
  Chunker,
  sealParts,
  envelopeLength,
  headerLength,
  keyId,
  padme,
  paddedLength,
  parsePublicKey,
  partInfoJson,
};
