'use strict';
// `make bench` (browser_bench.py): in one real browser, the submission page's own sealing
// worker seals SIZE_MIB of a file (format v2, WebCrypto) with no upload, then, in the same
// page, libsodium.js (what format v1 sealed with) pushes V1_MIB through secretstream in
// 64 KiB chunks. Prints {"v2_ms", "v2_bytes", "v1_ms", "v1_bytes", "webassembly"} as JSON.
// Usage: node browser_bench.js URL BROWSER LEVEL LANG SIZE_MIB V1_MIB
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch } = require('../browser/browsers.js');

async function sealV2(page, sizeMiB, lang) {
  return page.evaluate(async (size, language) => {
    const config = JSON.parse(document.getElementById('sealdrop-config').textContent);
    const worker = new Worker('/static/js/worker.js');
    const file = new File([new Uint8Array(size).fill(7)], 'bench.bin');
    return new Promise((resolve, reject) => {
      let started = null;
      worker.onmessage = ({ data }) => {
        if (data.type === 'size') started = performance.now();
        if (data.type === 'chunk') worker.postMessage({ type: 'credit' });
        if (data.type === 'error') reject(new Error(data.detail));
        if (data.type === 'done') resolve({ ms: performance.now() - started, bytes: data.size });
      };
      worker.postMessage({
        type: 'start',
        recipients: config.recipients,
        message: 'bench',
        files: [file],
        chunkBytes: config.chunk_bytes,
        credits: 2,
        codename: null,
        language,
      });
    });
  }, sizeMiB << 20, lang);
}

async function sealV1(page, sizeMiB) {
  await page.evaluate(async () => {
    const script = document.createElement('script');
    script.src = '/static/js/sodium.js';
    await new Promise((resolve, reject) => {
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
    await self.sodium.ready;
  });
  return page.evaluate((size) => {
    const sodium = self.sodium;
    const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
    const { state } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
    const chunk = new Uint8Array(65536).fill(7);
    const ad = new Uint8Array(32);
    const started = performance.now();
    for (let done = 0; done < size; done += chunk.length) {
      sodium.crypto_secretstream_xchacha20poly1305_push(state, chunk, ad, 0);
    }
    return { ms: performance.now() - started, bytes: size };
  }, sizeMiB << 20);
}

async function main() {
  const [url, browserName, level, lang, sizeMiB, v1MiB] = process.argv.slice(2);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sealdrop-bench-'));
  const browser = await launch({ browser: browserName, level }, profile);
  try {
    const page = await browser.newPage();
    page.on('pageerror', () => {}); // libsodium's failed WebAssembly attempt, at Safer
    await page.goto(`${url}/?lang=${lang}`, { waitUntil: 'load' });
    const webassembly = await page.evaluate(() => typeof WebAssembly);
    const v2 = await sealV2(page, Number(sizeMiB), lang);
    const v1 = Number(v1MiB) > 0 ? await sealV1(page, Number(v1MiB)) : { ms: 0, bytes: 0 };
    const report = { v2_ms: v2.ms, v2_bytes: v2.bytes, v1_ms: v1.ms, v1_bytes: v1.bytes };
    process.stdout.write(JSON.stringify({ ...report, webassembly }));
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
