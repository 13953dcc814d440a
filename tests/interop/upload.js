'use strict';
// Runs the browser's upload client (intake/static/src/upload.js) in Node against a live
// intake server: seals an envelope with envelope.js, then create, PUT every chunk, finish.
// Usage: node upload.js SPEC.json, SPEC = {"url", "lang", "recipients", "message",
//   "files": [{"path", "name", "type"}], "chunk_bytes", "backoff_ms", "max_attempts"}
// Prints {"ok", "code", "message", "statuses", "size"} as JSON; exits 0 either way.
const fs = require('node:fs');
const envelope = require('../../intake/static/src/envelope.js');
const { UploadClient } = require('../../intake/static/src/upload.js');

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const keys = spec.recipients.map((line) => envelope.parsePublicKey(line));
  const message = new TextEncoder().encode(spec.message);
  const parts = [
    { info: { kind: 'message' }, size: message.length, read: async (a, b) => message.subarray(a, b) },
  ];
  for (const file of spec.files) {
    const data = fs.readFileSync(file.path);
    parts.push({
      info: { kind: 'file', name: file.name, type: file.type },
      size: data.length,
      read: async (a, b) => new Uint8Array(data.subarray(a, b)),
    });
  }
  const size = envelope.envelopeLength(keys.length, parts);
  const chunks = [];
  const chunker = new envelope.Chunker(spec.chunk_bytes, (offset, data) => chunks.push({ offset, data }));
  await envelope.sealParts(keys, parts, (data) => chunker.write(data));
  chunker.flush();
  const statuses = [];
  const client = new UploadClient({
    baseUrl: spec.url,
    lang: spec.lang,
    chunkBytes: spec.chunk_bytes,
    backoffMs: spec.backoff_ms,
    maxAttempts: spec.max_attempts,
    onStatus: (key) => statuses.push(key),
  });
  try {
    const id = await client.create(size);
    for (const chunk of chunks) await client.put(id, chunk.offset, chunk.data, size);
    await client.finish(id);
    return { ok: true, statuses, size };
  } catch (error) {
    return { ok: false, code: error.code, message: error.serverMessage, statuses, size };
  }
}

main().then(
  (report) => process.stdout.write(JSON.stringify(report)),
  (error) => {
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(1);
  },
);
