// BLAKE2b from @noble/hashes (audited), as an ES module so that the bundler keeps only it.
export { blake2b } from '@noble/hashes/blake2.js';
