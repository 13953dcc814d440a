'use strict';
// The plaintext inside every envelope, v1 and v2 alike (docs/FORMAT.md §4): records
// BEGIN/DATA/END per part, then CLOSE with the trailer, then zeros up to the Padmé length.
// Framer writes it in fixed-size chunks for a sealer; parseRecords reads it back.

const CHUNK_SIZE = 65536;
const MIN_PADDED_LENGTH = 2048;
const MAX_JSON = 8192;
const RECORD_HEAD = 5;
const BEGIN = 1;
const DATA = 2;
const END = 3;
const CLOSE = 4;

const utf8 = new TextEncoder();

class RecordsError extends Error {}

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

function dataRecordsLength(size) {
  return size + Math.ceil(size / CHUNK_SIZE) * RECORD_HEAD;
}

// The padded plaintext length for parts [{info, size}] and a trailer, known before sealing.
function plaintextLength(parts, trailer = {}) {
  let content = 0;
  for (const part of parts) {
    content += RECORD_HEAD + partInfoJson(part.info).length;
    content += dataRecordsLength(part.size);
    content += RECORD_HEAD + 8;
  }
  content += RECORD_HEAD + jsonBytes(trailer).length;
  return paddedLength(content);
}

// --- writing ---------------------------------------------------------------------------

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

// Writes the records in CHUNK_SIZE pieces through `await push(chunk, last)`; chunk is a view
// of an internal buffer, reused once push's promise has settled. A full chunk is pushed only
// once more data follows it, because the last one is marked. Memory stays at one chunk.
class Framer {
  constructor(push) {
    this._push = push;
    this._buffer = new Uint8Array(CHUNK_SIZE);
    this._fill = 0;
    this._contentLength = 0;
    this._partSize = null;
    this._finished = false;
  }

  async beginPart(info) {
    this._checkOpen();
    if (this._partSize !== null) throw new Error('end the current part first');
    const body = partInfoJson(info);
    await this._emit(recordHead(BEGIN, body.length));
    await this._emit(body);
    this._partSize = 0;
  }

  async write(data) {
    if (this._partSize === null) throw new Error('begin a part before writing data');
    for (let start = 0; start < data.length; start += CHUNK_SIZE) {
      const piece = data.subarray(start, start + CHUNK_SIZE);
      await this._emit(recordHead(DATA, piece.length));
      await this._emit(piece);
    }
    this._partSize += data.length;
  }

  async endPart() {
    if (this._partSize === null) throw new Error('no part is open');
    await this._emit(endRecord(this._partSize));
    this._partSize = null;
  }

  async close(trailer = {}) {
    this._checkOpen();
    if (this._partSize !== null) throw new Error('end the current part before closing');
    const body = jsonBytes(trailer);
    await this._emit(recordHead(CLOSE, body.length));
    await this._emit(body);
    let padding = paddedLength(this._contentLength) - this._contentLength;
    const zeros = new Uint8Array(Math.min(padding, CHUNK_SIZE));
    while (padding > 0) {
      const step = Math.min(padding, CHUNK_SIZE);
      await this._append(zeros.subarray(0, step));
      padding -= step;
    }
    this._finished = true;
    await this._push(this._buffer.subarray(0, this._fill), true);
    this._fill = 0;
  }

  _checkOpen() {
    if (this._finished) throw new Error('this envelope is already finished');
  }

  _emit(data) {
    this._contentLength += data.length;
    return this._append(data);
  }

  async _append(data) {
    let position = 0;
    while (position < data.length) {
      if (this._fill === CHUNK_SIZE) {
        await this._push(this._buffer, false);
        this._fill = 0;
      }
      const take = Math.min(CHUNK_SIZE - this._fill, data.length - position);
      this._buffer.set(data.subarray(position, position + take), this._fill);
      this._fill += take;
      position += take;
    }
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

// --- reading ---------------------------------------------------------------------------

function fail(reason) {
  throw new RecordsError(reason);
}

function readUint32(bytes, at) {
  return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
}

// The whole opened plaintext to {message, files: [{name, type, data}], trailer}; refuses
// anything but exactly well-formed records and zero padding of the right length. With
// `partial` (the plaintext of the chunks verified so far, when a later one failed) it only
// looks for a record already broken, returns null otherwise, and never calls a cut short
// record or a missing CLOSE broken: a reader names the first error in the order it meets it.
function parseRecords(plaintext, partial = false) {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const parts = [];
  let current = null;
  let position = 0;
  for (;;) {
    if (position + RECORD_HEAD > plaintext.length) return partial ? null : fail('malformed');
    const kind = plaintext[position];
    const length = readUint32(plaintext, position + 1);
    if (!fits(kind, length, current !== null)) fail('malformed');
    const body = plaintext.subarray(position + RECORD_HEAD, position + RECORD_HEAD + length);
    if (body.length !== length) return partial ? null : fail('malformed');
    position += RECORD_HEAD + length;
    if (kind === BEGIN) {
      current = { info: JSON.parse(decoder.decode(body)), chunks: [], size: 0 };
    } else if (kind === DATA) {
      current.chunks.push(body);
      current.size += length;
    } else if (kind === END) {
      const declared = readUint32(body, 0) * 2 ** 32 + readUint32(body, 4);
      if (declared !== current.size) fail('malformed');
      parts.push({ info: current.info, data: joined(current.chunks, current.size) });
      current = null;
    } else {
      const trailer = JSON.parse(decoder.decode(body));
      for (let i = position; i < plaintext.length; i += 1) if (plaintext[i] !== 0) fail('malformed');
      if (partial) return null;
      if (plaintext.length !== paddedLength(position)) fail('malformed');
      return contents(parts, trailer, decoder);
    }
  }
}

// Whether a record of this kind and length may come here (inside a part or between parts).
function fits(kind, length, inPart) {
  if (kind === BEGIN || kind === CLOSE) return !inPart && length >= 2 && length <= MAX_JSON;
  if (kind === DATA) return inPart && length >= 1 && length <= CHUNK_SIZE;
  return kind === END && inPart && length === 8;
}

function joined(chunks, size) {
  const whole = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    whole.set(chunk, at);
    at += chunk.length;
  }
  return whole;
}

function contents(parts, trailer, decoder) {
  const messages = parts.filter((part) => part.info.kind === 'message');
  if (messages.length > 1) fail('malformed');
  return {
    message: messages.length ? decoder.decode(messages[0].data) : '',
    files: parts
      .filter((part) => part.info.kind === 'file')
      .map((part) => ({
        name: String(part.info.name || 'file'),
        type: String(part.info.type || 'application/octet-stream'),
        data: part.data,
      })),
    trailer,
  };
}

module.exports = {
  CHUNK_SIZE,
  Chunker,
  Framer,
  RecordsError,
  padme,
  paddedLength,
  parseRecords,
  partInfoJson,
  plaintextLength,
};
