'use strict';
// Opening a whole format v2 envelope (docs/FORMAT.md §9) in memory with WebCrypto, for the
// replies page: the checks of §9.3 in their order, and nothing returned unless the last chunk
// verified.
const envelope = require('./envelope.js');
const records = require('./records.js');
const pubkeys = require('./pubkeys.js');
const webkeys = require('./webkeys.js');

const SEALED_CHUNK = envelope.CHUNK_SIZE + envelope.TAG_BYTES;

function subtle() {
  return globalThis.crypto.subtle;
}

async function openChunk(key, counter, last, sealed) {
  const iv = envelope.chunkNonce(counter, last);
  return new Uint8Array(await subtle().decrypt({ name: 'AES-GCM', iv }, key, sealed));
}

// The file key from the first of our stanzas that opens; fail() when none is ours or opens.
async function unwrap(keys, data, count, fail) {
  const ids = [];
  for (let i = 0; i < count; i += 1) {
    const at = envelope.PREAMBLE + i * envelope.STANZA_BYTES;
    ids.push(data.subarray(at, at + 8));
  }
  if (new Set(ids.map((id) => id.join(','))).size !== count) fail('corrupted');
  const myId = pubkeys.keyId(keys.publicKey);
  const ours = ids.map((id, i) => i).filter((i) => pubkeys.equalBytes(ids[i], myId));
  if (ours.length === 0) fail('not-for-you');
  const suite = envelope.hpkeSuite();
  for (const i of ours) {
    const at = envelope.PREAMBLE + i * envelope.STANZA_BYTES + 8;
    try {
      const enc = data.slice(at, at + 32);
      const wrapped = data.slice(at + 32, at + envelope.STANZA_BYTES - 8);
      return await suite.Open(keys.x25519Key, enc, wrapped, { info: envelope.STANZA_INFO });
    } catch (error) {
      // Not sealed to this key correctly: the next of ours may be.
    }
  }
  return fail('corrupted');
}

// keys: {publicKey: bytes, x25519Key: CryptoKey}. Returns the padded plaintext; fail(reason)
// throws the caller's error. The magic and version were checked by the caller.
async function openV2(keys, data, fail) {
  if (data.length < envelope.PREAMBLE) fail('truncated');
  const count = data[9];
  if (count < 1 || count > 64) fail('corrupted');
  const headerEnd = envelope.headerLength(count);
  if (data.length < headerEnd) fail('truncated');
  const fileKey = await unwrap(keys, data, count, fail);
  const header = data.slice(0, headerEnd);
  const macAt = headerEnd - envelope.MAC_BYTES;
  const macKey = await envelope.macKey(fileKey, 'verify');
  const mac = header.subarray(macAt);
  if (!(await subtle().verify('HMAC', macKey, mac, header.subarray(0, macAt)))) {
    fileKey.fill(0);
    fail('corrupted');
  }
  const key = await envelope.payloadKey(fileKey, await webkeys.sha256(header), 'decrypt');
  fileKey.fill(0);
  const plaintext = new Uint8Array(data.length - headerEnd);
  let filled = 0;
  let position = headerEnd;
  // A record already broken in the chunks verified so far is named before what broke later.
  const failAfter = (reason) => {
    try {
      records.parseRecords(plaintext.subarray(0, filled), true);
    } catch (error) {
      fail('malformed-content');
    }
    fail(reason);
  };
  for (let counter = 0; ; counter += 1) {
    if (data.length - position <= envelope.TAG_BYTES) failAfter('truncated');
    const sealed = data.subarray(position, position + SEALED_CHUNK);
    position += sealed.length;
    const last = sealed.length < SEALED_CHUNK || position === data.length;
    let opened;
    try {
      opened = await openChunk(key, counter, last, sealed);
    } catch (error) {
      let other = false;
      try {
        await openChunk(key, counter, !last, sealed);
        other = true;
      } catch (again) {
        other = false;
      }
      // A final-looking chunk that was not the last: cut short; anything else: changed.
      failAfter(other && last ? 'truncated' : 'corrupted');
    }
    plaintext.set(opened, filled);
    filled += opened.length;
    if (last) break;
  }
  return plaintext.subarray(0, filled);
}

module.exports = { openV2 };
