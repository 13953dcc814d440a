'use strict';
// Runs the browser's format v2 code over tests/vectors/v2-*: seals every "ok" vector again
// with its fixed file key and ephemeral keys (fixed-random.js) and says whether the bytes are
// the vector's, and opens every vector with the replies page's opener.
// Usage: node vectors.js VECTORS_DIR; prints {name: {resealed, opened | error}} as JSON.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const envelope = require('../../intake/static/src/envelope.js');
const opener = require('../../intake/static/src/opener.js');
const webkeys = require('../../intake/static/src/webkeys.js');
const { fixedRandom, fromHex } = require('./fixed-random.js');

function content(part) {
  if (part.content_hex !== undefined) return fromHex(part.content_hex);
  return new Uint8Array(part.size).fill(fromHex(part.content_fill_hex)[0]);
}

async function reseal(vector, keys) {
  const parts = vector.parts.map((part) => {
    const data = content(part);
    return {
      info: { kind: part.kind, name: part.name, type: part.type },
      size: data.length,
      read: async (start, end) => data.subarray(start, end),
    };
  });
  const pieces = [];
  await envelope.sealParts(
    vector.recipients.map((name) => fromHex(keys[name].public_key_hex)),
    parts,
    (data) => pieces.push(Buffer.from(data)),
    { trailer: vector.trailer, random: fixedRandom(vector) },
  );
  return Buffer.concat(pieces);
}

async function open(vector, keys, data) {
  let error = null;
  for (const name of vector.identities) {
    const pair = await webkeys.x25519FromSecret(fromHex(keys[name].secret_key_hex));
    try {
      const found = await opener.open({ publicKey: pair.publicKey, x25519Key: pair.privateKey }, data);
      const files = found.files.map((f) => ({
        name: f.name,
        type: f.type,
        sha256: crypto.createHash('sha256').update(f.data).digest('hex'),
      }));
      return { opened: { message: found.message, files, trailer: found.trailer } };
    } catch (failure) {
      if (!(failure instanceof opener.OpenError)) throw failure;
      error = failure.message;
    }
  }
  return { error };
}

async function main() {
  const dir = process.argv[2];
  const { identities: keys } = JSON.parse(fs.readFileSync(path.join(dir, 'keys.json'), 'utf8'));
  const report = {};
  const names = fs.readdirSync(dir).filter((n) => /^v2-.*\.json$/.test(n)).sort();
  for (const name of names) {
    const vector = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    const data = new Uint8Array(fs.readFileSync(path.join(dir, name.replace(/json$/, 'sdenv'))));
    const result = await open(vector, keys, data);
    if (vector.expect === 'ok' && vector.file_key_hex) {
      result.resealed = Buffer.compare(await reseal(vector, keys), Buffer.from(data)) === 0;
    }
    report[name.replace(/\.json$/, '')] = result;
  }
  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
