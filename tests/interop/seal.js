'use strict';
// Seals a format v2 envelope in Node with the browser's own sealing module (intake/static/src).
// Usage: node seal.js SPEC.json   where SPEC is
//   {"recipients": ["sdpub1..."], "message": "...", "files": [{"path","name","type"}],
//    "out": "file.sdenv", "chunk_bytes": 1048576, "slice_bytes": 1048576, "trailer": {},
//    "codename": "...",          (sign the trailer with it instead, as the worker does)
//    "file_key_hex": "...", "ephemeral_secrets_hex": ["..."]}   (fixed randomness: vectors)
// Writes the envelope through the same Chunker the worker uses (each piece at its offset)
// and prints {"predicted", "written", "offsets", "header_hash", "wasm"} as JSON.
const fs = require('node:fs');
const envelope = require('../../intake/static/src/envelope.js');
const codenames = require('../../intake/static/src/codename.js');
const { fixedRandom } = require('./fixed-random.js');

require('../../intake/static/src/word-tables.js').loadAll(codenames);

function partsOf(spec) {
  const message = new TextEncoder().encode(spec.message || '');
  const parts = [
    {
      info: { kind: 'message' },
      size: message.length,
      read: async (start, end) => message.subarray(start, end),
    },
  ];
  for (const file of spec.files || []) {
    const fd = fs.openSync(file.path, 'r');
    parts.push({
      info: { kind: 'file', name: file.name, type: file.type },
      size: fs.fstatSync(fd).size,
      read: async (start, end) => {
        const buffer = new Uint8Array(end - start);
        fs.readSync(fd, buffer, 0, buffer.length, start);
        return buffer;
      },
    });
  }
  return parts;
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const keys = spec.recipients.map((line) => envelope.parsePublicKey(line));
  const parts = partsOf(spec);
  let trailer = spec.trailer || {};
  let sized = trailer;
  let headerHash = null;
  if (spec.codename) {
    const derived = await codenames.derive(spec.codename);
    trailer = (hash) => {
      headerHash = hash;
      return codenames.signedTrailer(derived, hash);
    };
    sized = await codenames.signedTrailer(derived, new Uint8Array(32));
  }
  const predicted = envelope.envelopeLength(keys.length, parts, sized);
  const out = fs.openSync(spec.out, 'w');
  const offsets = [];
  const chunker = new envelope.Chunker(spec.chunk_bytes || 1 << 20, (offset, data) => {
    offsets.push(offset);
    fs.writeSync(out, data, 0, data.length, offset);
  });
  const written = await envelope.sealParts(keys, parts, (data) => chunker.write(data), {
    sliceBytes: spec.slice_bytes,
    trailer,
    random: fixedRandom(spec),
  });
  chunker.flush();
  fs.closeSync(out);
  const hash = headerHash && Buffer.from(headerHash).toString('hex');
  const wasm = typeof WebAssembly !== 'undefined';
  process.stdout.write(JSON.stringify({ predicted, written, offsets, header_hash: hash, wasm }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
