'use strict';
// Opens a format v2 envelope with the replies page's opener (intake/static/src/opener.js,
// WebCrypto only). Usage: node open-v2.js SECRET_KEY_HEX ENVELOPE OUTDIR
// Writes OUTDIR/part-NNN (the message, then each file) and prints {"message", "files":
// [{"name", "type", "size"}], "trailer"} as JSON, or exits 1 with the error class.
const fs = require('node:fs');
const path = require('node:path');
const opener = require('../../intake/static/src/opener.js');
const webkeys = require('../../intake/static/src/webkeys.js');
const { fromHex } = require('./fixed-random.js');

async function main() {
  const [secretHex, file, outdir] = process.argv.slice(2);
  const pair = await webkeys.x25519FromSecret(fromHex(secretHex));
  const keys = { publicKey: pair.publicKey, x25519Key: pair.privateKey };
  const noSodium = () => Promise.reject(new Error('a version 2 envelope needs no libsodium'));
  const contents = await opener.open(keys, new Uint8Array(fs.readFileSync(file)), noSodium);
  fs.mkdirSync(outdir, { recursive: true });
  const datas = [new TextEncoder().encode(contents.message), ...contents.files.map((f) => f.data)];
  datas.forEach((data, i) => {
    fs.writeFileSync(path.join(outdir, `part-${String(i).padStart(3, '0')}`), data);
  });
  const files = contents.files.map((f) => ({ name: f.name, type: f.type, size: f.data.length }));
  process.stdout.write(JSON.stringify({ message: contents.message, files, trailer: contents.trailer }));
}

main().catch((error) => {
  process.stderr.write(`${error instanceof opener.OpenError ? error.message : error.stack}\n`);
  process.exit(1);
});
