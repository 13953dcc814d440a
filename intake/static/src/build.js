'use strict';
// `npm run build`: bundles the browser code into intake/static/js/, minified, each file with
// a gzip -9 sibling that the server sends as is.
//   sodium.js  libsodium-wrappers' CommonJS build (it carries the pure-JS fallback that
//              Tor Browser's Safer level needs: the ESM build requires WebAssembly)
//   worker.js  the sealing Web Worker (loads sodium.js with importScripts)
//   app.js     the page script: form interception, progress, chunked upload
//   replies.js, replies-worker.js   the replies page (keys from the codename, opening replies)
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const esbuild = require('esbuild');

const SRC = __dirname;
const OUT = path.resolve(SRC, '..', 'js');
// Tor Browser follows Firefox ESR; keep the syntax older browsers of the same family parse.
const TARGET = ['firefox115', 'chrome109'];

const bundles = [
  {
    name: 'sodium.js',
    stdin: "self.sodium = require('libsodium-wrappers');",
    // Reached only under Node; the browser build never calls them.
    external: ['crypto', 'fs', 'path', 'node:fs', 'node:crypto', 'node:path'],
  },
  { name: 'worker.js', entry: 'worker.js' },
  { name: 'app.js', entry: 'app.js' },
  // The replies page: its script, and the worker that derives keys and opens replies.
  { name: 'replies.js', entry: 'replies.js' },
  { name: 'replies-worker.js', entry: 'replies-worker.js' },
];

async function build() {
  fs.mkdirSync(OUT, { recursive: true });
  const sizes = [];
  for (const bundle of bundles) {
    const outfile = path.join(OUT, bundle.name);
    const options = {
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: TARGET,
      minify: true,
      legalComments: 'none',
      charset: 'utf8',
      outfile,
      external: bundle.external || [],
      logLevel: 'warning',
    };
    if (bundle.stdin) {
      options.stdin = { contents: bundle.stdin, resolveDir: SRC, loader: 'js' };
    } else {
      options.entryPoints = [path.join(SRC, bundle.entry)];
    }
    await esbuild.build(options);
    const raw = fs.readFileSync(outfile);
    const gz = zlib.gzipSync(raw, { level: 9 });
    fs.writeFileSync(`${outfile}.gz`, gz);
    sizes.push(`${bundle.name} ${raw.length} bytes, gzip ${gz.length}`);
  }
  writeAssetManifest();
  process.stdout.write(`${sizes.join('\n')}\n`);
}

// intake/assets.json: the SHA-256 of every file the server serves from static/ (css/ and js/,
// the .gz siblings too), in sorted order. It ships in the wheel; `sealdrop-intake check`
// compares the installed files with it and `sealdrop-reviewer sign-deployment` signs it.
function writeAssetManifest() {
  const root = path.resolve(SRC, '..');
  const assets = {};
  for (const dir of ['css', 'js']) {
    const names = fs.existsSync(path.join(root, dir)) ? fs.readdirSync(path.join(root, dir)) : [];
    for (const name of names.filter((n) => !n.startsWith('.')).sort()) {
      const data = fs.readFileSync(path.join(root, dir, name));
      assets[`${dir}/${name}`] = crypto.createHash('sha256').update(data).digest('hex');
    }
  }
  const manifest = { format: 'sealdrop-assets-v1', assets };
  fs.writeFileSync(path.resolve(root, '..', 'assets.json'), `${JSON.stringify(manifest, null, 1)}\n`);
}

build().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
