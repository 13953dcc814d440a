'use strict';
// Opening a whole reply envelope in memory (format v1, docs/FORMAT.md §3), for the replies
// page. Every check of the format is made, and nothing is returned unless the FINAL chunk
// verified and the records and padding are exactly right: a reply is shown whole or not at all.
const envelope = require('./envelope.js');

const SEALED_CHUNK = envelope.CHUNK_SIZE + 17;
const STANZA = 88;

class OpenError extends Error {}

function fail(reason) {
  throw new OpenError(reason);
}

function readUint32(bytes, at) {
  return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

// data: Uint8Array of the envelope; keys: {publicKey, privateKey}. Returns
// {message: string, files: [{name, type, data: Uint8Array}], trailer}.
function open(sodium, keys, data) {
  if (data.length < 10 || new TextDecoder().decode(data.subarray(0, 8)) !== 'SEALDROP') {
    fail('not an envelope');
  }
  if (data[8] !== 1) fail('unsupported version');
  const count = data[9];
  if (count < 1 || count > 64) fail('corrupted');
  const headerEnd = envelope.headerLength(count);
  if (data.length < headerEnd) fail('truncated');
  const myId = envelope.keyId(sodium, keys.publicKey);
  let payloadKey = null;
  for (let i = 0; i < count; i += 1) {
    const at = 10 + i * STANZA;
    if (equal(data.subarray(at, at + 8), myId)) {
      try {
        payloadKey = sodium.crypto_box_seal_open(
          data.subarray(at + 8, at + STANZA),
          keys.publicKey,
          keys.privateKey,
        );
      } catch (error) {
        fail('corrupted');
      }
    }
  }
  if (payloadKey === null) fail('not for you');
  const header = data.subarray(0, headerEnd);
  const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(
    header.subarray(headerEnd - 24),
    payloadKey,
  );
  const ad = sodium.crypto_generichash(32, header, null);
  const plaintext = new Uint8Array(data.length - headerEnd);
  let filled = 0;
  let position = headerEnd;
  for (;;) {
    if (data.length - position <= 17) fail('truncated');
    const sealed = data.subarray(position, position + SEALED_CHUNK);
    position += sealed.length;
    let result;
    try {
      result = sodium.crypto_secretstream_xchacha20poly1305_pull(state, sealed, ad);
    } catch (error) {
      result = null;
    }
    if (!result) fail('corrupted');
    plaintext.set(result.message, filled);
    filled += result.message.length;
    if (result.tag === sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL) break;
    if (result.tag !== sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) fail('corrupted');
    if (result.message.length !== envelope.CHUNK_SIZE) fail('truncated');
  }
  if (position !== data.length) fail('corrupted');
  return parseRecords(plaintext.subarray(0, filled));
}

function parseRecords(plaintext) {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const parts = [];
  let current = null;
  let position = 0;
  for (;;) {
    if (position + 5 > plaintext.length) fail('malformed');
    const kind = plaintext[position];
    const length = readUint32(plaintext, position + 1);
    const body = plaintext.subarray(position + 5, position + 5 + length);
    if (body.length !== length) fail('malformed');
    position += 5 + length;
    if (kind === 1 && current === null && length >= 2 && length <= 8192) {
      current = { info: JSON.parse(decoder.decode(body)), chunks: [], size: 0 };
    } else if (kind === 2 && current !== null && length >= 1 && length <= 65536) {
      current.chunks.push(body);
      current.size += length;
    } else if (kind === 3 && current !== null && length === 8) {
      const declared = readUint32(body, 0) * 2 ** 32 + readUint32(body, 4);
      if (declared !== current.size) fail('malformed');
      const joined = new Uint8Array(current.size);
      let at = 0;
      for (const chunk of current.chunks) {
        joined.set(chunk, at);
        at += chunk.length;
      }
      parts.push({ info: current.info, data: joined });
      current = null;
    } else if (kind === 4 && current === null && length >= 2 && length <= 8192) {
      const trailer = JSON.parse(decoder.decode(body));
      if (plaintext.length !== envelope.paddedLength(position)) fail('malformed');
      for (let i = position; i < plaintext.length; i += 1) if (plaintext[i] !== 0) fail('malformed');
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
    } else {
      fail('malformed');
    }
  }
}

module.exports = { OpenError, open };
