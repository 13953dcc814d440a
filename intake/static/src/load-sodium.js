'use strict';
// Loads libsodium into the replies page's Web Worker, only to open a version 1 reply (the
// submission page never loads it: format v2 seals with WebCrypto).
//
// The page's CSP (script-src 'self', no 'wasm-unsafe-eval') forbids compiling WebAssembly,
// which keeps the browser's WebAssembly compilers out of reach, as Tor Browser's Safer level
// does. Hiding it makes libsodium load its pure-JS build at once instead of first tripping
// over the CSP (a violation report). With a JIT that build seals at several MB/s, more than a
// Tor circuit carries. Allowing 'wasm-unsafe-eval' in the CSP and not hiding WebAssembly here
// would make sealing faster still.
function loadSodium() {
  try {
    delete self.WebAssembly;
  } catch (error) {
    // Not deletable here: libsodium then meets the CSP's refusal and falls back all the same.
  }
  // libsodium's WebAssembly attempt then rejects, unawaited, before its JS build takes over.
  self.addEventListener('unhandledrejection', (event) => {
    if (/WebAssembly/.test(String(event.reason))) event.preventDefault();
  });
  importScripts('/static/js/sodium.js');
  return self.sodium;
}

module.exports = { loadSodium };
