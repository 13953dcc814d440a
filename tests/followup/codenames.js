'use strict';
// Runs the browser's codename and reply-opening modules under Node for test_js.py.
// Usage: node codenames.js SPEC.json; SPEC = {"vectors": [...codenames.json],
//   "replies": [{"codename", "envelope_hex"}], "invalid": [text], "parse": [text],
//   "proof": {"codename", "header_hash_hex"}}. Prints, as JSON, what each derives and opens.
const fs = require('node:fs');
const sodium = require('libsodium-wrappers');
const codename = require('../../intake/static/src/codename.js');
const opener = require('../../intake/static/src/opener.js');

require('../../intake/static/src/word-tables.js').loadAll(codename);

const fromHex = (text) => Uint8Array.from(Buffer.from(text, 'hex'));
// What the replies worker does for a version 1 reply: load libsodium, then open with it.
let sodiumLoads = 0;
const loadSodium = async () => {
  sodiumLoads += 1;
  await sodium.ready;
  return sodium;
};

async function openReply(keys, reply) {
  try {
    const contents = await opener.open(keys, fromHex(reply.envelope_hex), loadSodium);
    const files = contents.files.map((f) => ({ name: f.name, hex: codename.hex(f.data) }));
    return { message: contents.message, files };
  } catch (error) {
    return { error: error instanceof opener.OpenError ? error.message : `BUG ${error}` };
  }
}

function tryParse(text) {
  try {
    return codename.parse(text);
  } catch (error) {
    return [error.reason, error.value];
  }
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const derived = [];
  for (const vector of spec.vectors) {
    const canonical = codename.parse(vector.typed);
    const keys = await codename.derive(canonical);
    const others = [];
    for (const text of vector.same_codename) {
      const other = await codename.derive(text);
      others.push({ line: other.publicKeyLine, mailbox: other.mailbox });
    }
    const verifyKey = codename.hex(keys.verifyKey);
    const v2 = (await codename.derive(canonical, vector.mailbox_salt_hex)).mailboxes;
    derived.push({ canonical, line: keys.publicKeyLine, mailbox: keys.mailbox, verifyKey, others, v2 });
  }
  const proof = spec.proof;
  const trailer = await codename.signedTrailer(
    await codename.derive(proof.codename),
    fromHex(proof.header_hash_hex),
  );
  const opened = [];
  for (const reply of spec.replies) {
    opened.push(await openReply(await codename.derive(codename.parse(reply.codename)), reply));
  }
  const errors = spec.invalid.map((text) => {
    const result = tryParse(text);
    return typeof result === 'string' ? null : result;
  });
  const generated = codename.parse(codename.generate());
  const generatedRu = codename.generate('ru');
  const parsed = spec.parse.map(tryParse);
  process.stdout.write(
    JSON.stringify({ derived, opened, errors, generated, generatedRu, trailer, parsed, sodiumLoads }),
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
