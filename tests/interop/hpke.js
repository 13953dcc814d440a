'use strict';
// The browser's HPKE (the pinned `hpke` package on WebCrypto, as envelope.js uses it) against
// tests/vectors/hpke-rfc9180.json: RFC 9180 A.1.1 (AES-128-GCM, the RFC's own vector) and the
// same inputs through sealdrop's stanza suite (AES-256-GCM). Seals with the vector's ephemeral
// key, then opens with the recipient's secret. Usage: node hpke.js VECTORS.json
const fs = require('node:fs');
const hpke = require('hpke');
const envelope = require('../../intake/static/src/envelope.js');
const { fixedKem, fromHex } = require('./fixed-random.js');

const hex = (bytes) => Buffer.from(bytes).toString('hex');

// opener: the suite that opens it again (for ours, the product's own, envelope.hpkeSuite()).
async function run(vector, aead, opener) {
  const suite = new hpke.CipherSuite(fixedKem([vector.skEm]), hpke.KDF_HKDF_SHA256, aead);
  const recipient = await suite.DeserializePublicKey(fromHex(vector.pkRm));
  const options = { info: fromHex(vector.info), aad: fromHex(vector.aad) };
  const sealed = await suite.Seal(recipient, fromHex(vector.pt), options);
  const secret = await suite.DeserializePrivateKey(fromHex(vector.skRm), true);
  const { encapsulatedSecret, ciphertext } = sealed;
  const opened = await (opener || suite).Open(secret, encapsulatedSecret, ciphertext, options);
  return { enc: hex(sealed.encapsulatedSecret), ct: hex(sealed.ciphertext), pt: hex(opened) };
}

async function main() {
  const vectors = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const rfc = await run(vectors.rfc9180_a_1_1, hpke.AEAD_AES_128_GCM);
  const ours = await run(vectors.sealdrop_v2_stanza, hpke.AEAD_AES_256_GCM, envelope.hpkeSuite());
  process.stdout.write(JSON.stringify({ rfc, ours }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
