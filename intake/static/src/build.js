'use strict';
// `npm run build`: bundles the browser code into intake/static/js/, minified, each file with
// a gzip -9 sibling that the server sends as is.
//   app.js     the submission page's script: form interception, progress, chunked upload
//   worker.js  its sealing Web Worker: format v2 on WebCrypto (hpke, @noble/hashes' BLAKE2b
//              for codenames), no libsodium
//   words-en.js, words-ru.js  the codename lists: worker.js fetches the page language's to
//              issue a codename, and all of them to read a typed one
//   legacy-words.js  the BIP39 list, which worker.js fetches only to read a typed codename
//   replies.js, replies-worker.js   the replies page (keys from the codename, opening replies)
//   sodium.js  libsodium-wrappers' CommonJS build (it carries the pure-JS fallback that
//              Tor Browser's Safer level needs: the ESM build requires WebAssembly), loaded by
//              replies-worker.js only to open a version 1 reply
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const esbuild = require('esbuild');

const SRC = __dirname;
const OUT = path.resolve(SRC, '..', 'js');
// Tor Browser follows Firefox ESR; keep the syntax older browsers of the same family parse.
const TARGET = ['firefox115', 'chrome109'];

// words-<language>.js: a codename list with the table of its words that a version 1 reader
// takes for BIP39 words (all that issuing a codename needs of the BIP39 list; codename.js).
function wordBundles() {
  const codename = require('./codename.js');
  require('./word-tables.js').loadAll(codename);
  const wordlists = require('./wordlists.js');
  return codename.LANGUAGES.map((language) => {
    const table = { words: wordlists[language], clashes: codename.clashPositions(language) };
    const contents = `(self.sealdropWords = self.sealdropWords || {})[${JSON.stringify(language)}] = ${JSON.stringify(table)};`;
    return { name: `words-${language}.js`, stdin: contents };
  });
}

const bundles = [
  {
    name: 'sodium.js',
    stdin: "self.sodium = require('libsodium-wrappers');",
    // Reached only under Node; the browser build never calls them.
    external: ['crypto', 'fs', 'path', 'node:fs', 'node:crypto', 'node:path'],
  },
  { name: 'worker.js', entry: 'worker.js' },
  ...wordBundles(),
  { name: 'legacy-words.js', stdin: "self.sealdropLegacyWords = require('./legacy-words.js');" },
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
  sizes.push(...gzipStyles());
  writeAssetManifest();
  process.stdout.write(`${sizes.join('\n')}\n`);
}

// The style sheets get their gzip -9 siblings too (the server sends them to browsers that take
// gzip); css/*.gz is built, never committed.
function gzipStyles() {
  const dir = path.resolve(SRC, '..', 'css');
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.css'))
    .map((name) => {
      const gz = zlib.gzipSync(fs.readFileSync(path.join(dir, name)), { level: 9 });
      fs.writeFileSync(path.join(dir, `${name}.gz`), gz);
      return `css/${name} gzip ${gz.length}`;
    });
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
