'use strict';
// Runs the browser's codename and reply-opening modules under Node for test_js.py.
// Usage: node codenames.js SPEC.json; SPEC = {"vectors": [...codenames.json],
//   "replies": [{"codename", "envelope_hex"}], "invalid": [text], "parse": [text],
//   "proof": {"codename", "header_hash_hex"}}. Prints, as JSON, what each derives and opens.
const fs = require('node:fs');
const sodium = require('libsodium-wrappers');
const codename = require('../../intake/static/src/codename.js');
const opener = require('../../intake/static/src/opener.js');

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  await sodium.ready;
  const derived = spec.vectors.map((vector) => {
    const canonical = codename.parse(vector.typed);
    const keys = codename.derive(sodium, canonical);
    const others = vector.same_codename.map((text) => {
      const other = codename.derive(sodium, text);
      return { line: other.publicKeyLine, mailbox: other.mailbox };
    });
    const verifyKey = sodium.to_hex(keys.verifyKey);
    return { canonical, line: keys.publicKeyLine, mailbox: keys.mailbox, verifyKey, others };
  });
  const proof = spec.proof;
  const trailer = codename.signedTrailer(
    sodium,
    codename.derive(sodium, proof.codename),
    sodium.from_hex(proof.header_hash_hex),
  );
  const opened = spec.replies.map((reply) => {
    const keys = codename.derive(sodium, codename.parse(reply.codename));
    try {
      const contents = opener.open(sodium, keys, sodium.from_hex(reply.envelope_hex));
      const files = contents.files.map((f) => ({ name: f.name, hex: sodium.to_hex(f.data) }));
      return { message: contents.message, files };
    } catch (error) {
      return { error: error instanceof opener.OpenError ? error.message : `BUG ${error}` };
    }
  });
  const errors = spec.invalid.map((text) => {
    try {
      codename.parse(text);
      return null;
    } catch (error) {
      return [error.reason, error.value];
    }
  });
  const generated = codename.parse(codename.generate(sodium));
  const generatedRu = codename.generate(sodium, 'ru');
  const parsed = spec.parse.map((text) => {
    try {
      return codename.parse(text);
    } catch (error) {
      return [error.reason, error.value];
    }
  });
  process.stdout.write(
    JSON.stringify({ derived, opened, errors, generated, generatedRu, trailer, parsed }),
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
