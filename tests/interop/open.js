'use strict';
// A JS opener for envelopes (format v1), written from docs/FORMAT.md for the interop tests:
// it proves that what Python seals opens with libsodium.js. Whole-envelope, in memory.
// Usage: node open.js SECRET_KEY_HEX ENVELOPE OUTDIR
// Writes OUTDIR/part-NNN and prints {"parts": [{"info", "size"}], "trailer"} as JSON.
const fs = require('node:fs');
const path = require('node:path');
const sodium = require('libsodium-wrappers');
const envelope = require('../../intake/static/src/envelope.js');

const SEALED_CHUNK = envelope.CHUNK_SIZE + 17;

function fail(message) {
  throw new Error(message);
}

function open(secretKey, data) {
  const magic = new TextDecoder().decode(data.subarray(0, 8));
  if (magic !== 'SEALDROP') fail('not an envelope');
  if (data[8] !== 1) fail('unsupported version');
  const count = data[9];
  if (count < 1 || count > 64) fail('corrupted: recipient count');
  const headerEnd = envelope.headerLength(count);
  if (data.length < headerEnd) fail('truncated header');
  const header = data.subarray(0, headerEnd);
  const publicKey = sodium.crypto_scalarmult_base(secretKey);
  const myId = envelope.keyId(sodium, publicKey).join(',');
  let key = null;
  for (let i = 0; i < count; i += 1) {
    const at = 10 + i * 88;
    if (data.subarray(at, at + 8).join(',') === myId) {
      key = sodium.crypto_box_seal_open(data.subarray(at + 8, at + 88), publicKey, secretKey);
    }
  }
  if (key === null) fail('not for you');
  const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(
    data.subarray(headerEnd - 24, headerEnd),
    key,
  );
  const ad = sodium.crypto_generichash(32, header, null);
  const chunks = [];
  let position = headerEnd;
  for (;;) {
    if (position >= data.length) fail('truncated');
    const sealed = data.subarray(position, position + SEALED_CHUNK);
    position += sealed.length;
    const result = sodium.crypto_secretstream_xchacha20poly1305_pull(state, sealed, ad);
    if (!result) fail('corrupted chunk');
    chunks.push(result.message);
    if (result.tag === sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL) break;
    if (result.tag !== sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) fail('tag');
    if (result.message.length !== envelope.CHUNK_SIZE) fail('short chunk');
  }
  if (position !== data.length) fail('extended');
  return parseRecords(Buffer.concat(chunks));
}

function parseRecords(plaintext) {
  const parts = [];
  let current = null;
  let position = 0;
  for (;;) {
    const kind = plaintext[position];
    const length = plaintext.readUInt32BE(position + 1);
    const body = plaintext.subarray(position + 5, position + 5 + length);
    if (body.length !== length) fail('record runs past the end');
    position += 5 + length;
    if (kind === 1 && current === null) {
      current = { info: JSON.parse(body.toString('utf8')), data: [], size: 0 };
    } else if (kind === 2 && current !== null && length >= 1 && length <= 65536) {
      current.data.push(body);
      current.size += length;
    } else if (kind === 3 && current !== null && length === 8) {
      if (Number(body.readBigUInt64BE(0)) !== current.size) fail('END size mismatch');
      parts.push(current);
      current = null;
    } else if (kind === 4 && current === null) {
      const trailer = JSON.parse(body.toString('utf8'));
      if (plaintext.length !== envelope.paddedLength(position)) fail('wrong padded length');
      if (plaintext.subarray(position).some((byte) => byte !== 0)) fail('non-zero padding');
      return { parts, trailer };
    } else {
      fail(`malformed record ${kind} at ${position}`);
    }
  }
}

async function main() {
  const [secretHex, file, outdir] = process.argv.slice(2);
  await sodium.ready;
  const contents = open(sodium.from_hex(secretHex), fs.readFileSync(file));
  fs.mkdirSync(outdir, { recursive: true });
  contents.parts.forEach((part, i) => {
    fs.writeFileSync(path.join(outdir, `part-${String(i).padStart(3, '0')}`), Buffer.concat(part.data));
  });
  const parts = contents.parts.map((part) => ({ info: part.info, size: part.size }));
  process.stdout.write(JSON.stringify({ parts, trailer: contents.trailer }));
}

main().catch((error) => {
  process.stderr.write(`${error.message || error}\n`);
  process.exit(1);
});
