'use strict';
// Test-only: the randomness of a v2 envelope (its file key and each stanza's HPKE ephemeral
// secret key) fixed to given values, so that the browser's sealer can be checked byte for byte
// against Python's and the vectors. Product code never passes these options: envelope.js then
// draws both from WebCrypto.
const hpke = require('hpke');

function fromHex(text) {
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

// A KEM factory whose GenerateKeyPair hands out the given secret keys in order.
function fixedKem(secretsHex) {
  const queue = secretsHex.map(fromHex);
  return () => {
    const kem = hpke.KEM_DHKEM_X25519_HKDF_SHA256();
    return {
      ...kem,
      async GenerateKeyPair() {
        if (queue.length === 0) throw new Error('more ephemeral keys were asked for than given');
        const privateKey = await kem.DeserializePrivateKey(queue.shift(), true);
        const { x } = await crypto.subtle.exportKey('jwk', privateKey);
        const publicKey = await kem.DeserializePublicKey(Uint8Array.from(Buffer.from(x, 'base64url')));
        return { privateKey, publicKey };
      },
    };
  };
}

// {fileKey, kem} for envelope.Sealer.create / sealParts's `random` option, or undefined.
function fixedRandom(spec) {
  if (!spec.file_key_hex) return undefined;
  return { fileKey: fromHex(spec.file_key_hex), kem: fixedKem(spec.ephemeral_secrets_hex) };
}

module.exports = { fixedKem, fixedRandom, fromHex };
