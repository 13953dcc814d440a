'use strict';
// Opening a whole format v1 reply (docs/FORMAT.md §3) in memory with libsodium, which only
// the replies page loads, and only once a v1 reply is there. Every check of the format is
// made; nothing is returned unless the FINAL chunk verified.
const pubkeys = require('./pubkeys.js');
const { CHUNK_SIZE } = require('./records.js');

const STREAM_ABYTES = 17;
const STREAM_HEADER = 24;
const STANZA = 88;
const SEALED_CHUNK = CHUNK_SIZE + STREAM_ABYTES;

// Returns the padded plaintext; fail(reason) throws the caller's error.
function openV1(sodium, keys, data, fail) {
  if (data.length < 10) fail('truncated');
  const count = data[9];
  if (count < 1 || count > 64) fail('corrupted');
  const headerEnd = 10 + count * STANZA + STREAM_HEADER;
  if (data.length < headerEnd) fail('truncated');
  const myId = pubkeys.keyId(keys.publicKey);
  let payloadKey = null;
  for (let i = 0; i < count; i += 1) {
    const at = 10 + i * STANZA;
    if (pubkeys.equalBytes(data.subarray(at, at + 8), myId)) {
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
  if (payloadKey === null) fail('not-for-you');
  const header = data.subarray(0, headerEnd);
  const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(
    header.subarray(headerEnd - STREAM_HEADER),
    payloadKey,
  );
  sodium.memzero(payloadKey);
  const ad = sodium.crypto_generichash(32, header, null);
  const plaintext = new Uint8Array(data.length - headerEnd);
  let filled = 0;
  let position = headerEnd;
  for (;;) {
    if (data.length - position <= STREAM_ABYTES) fail('truncated');
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
    if (result.message.length !== CHUNK_SIZE) fail('truncated');
  }
  if (position !== data.length) fail('corrupted');
  return plaintext.subarray(0, filled);
}

module.exports = { openV1 };
