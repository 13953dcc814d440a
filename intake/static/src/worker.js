'use strict';
// The sealing Web Worker. app.js posts {type: 'start', recipients, epochs?, message, files,
// chunkBytes, credits, trailer?} (epochs: the server's signed epoch statements, epochs.js;
// trailer: the CLOSE record's object, {} by default); the worker answers
//   {type: 'size', size}                       exact envelope length, before sealing
//   {type: 'chunk', offset, data}              upload pieces of chunkBytes (data transferred)
//   {type: 'done', size}                       after the last chunk
//   {type: 'error', code: 'keys'|'read'|'crypto'|'codename', detail}
// With `codename` in the start message (null: make a new one, in the list of `language`;
// text: a follow-up's), the worker first answers {type: 'codename', codename, isNew} and seals
// the reply key, mailbox and proof derived from it as the trailer (docs/FORMAT.md §5), never
// the codename itself.
// and waits for a {type: 'credit'} per uploaded chunk once its initial credits are spent,
// so at most a few chunks are ever held in memory, whatever the files' size.
const envelope = require('./envelope.js');
const codenames = require('./codename.js');
const epochs = require('./epochs.js');

// Files are read 1 MiB (16 whole chunks) at a time. Format v2 seals with WebCrypto's AES-GCM,
// natively even at Tor Browser's Safer level (no JIT, no WebAssembly): no libsodium here.
const SLICE_BYTES = 1024 * 1024;

let credits = 0;
let wake = null;

// The reviewers' epoch statements, asked for as soon as the worker starts (while the person
// writes), unless the page's config carries them. Any failure means long-term keys.
const served = fetch('/api/v1/epochs', { credentials: 'omit', cache: 'no-store' })
  .then((response) => (response.ok ? response.json() : null))
  .catch(() => null);

function grant() {
  credits += 1;
  if (wake !== null && credits > 0) {
    const resume = wake;
    wake = null;
    resume();
  }
}

function waitForCredit() {
  if (credits > 0) return Promise.resolve();
  return new Promise((resolve) => {
    wake = resolve;
  });
}

class StepError extends Error {
  constructor(code, detail) {
    super(detail);
    this.code = code;
  }
}

function readSlice(file, start, end) {
  return file
    .slice(start, end)
    .arrayBuffer()
    .then(
      (buffer) => new Uint8Array(buffer),
      (error) => {
        throw new StepError('read', `${file.name}: ${error}`);
      },
    );
}

// Reads a little of each file before anything is sent. A file deleted after it was chosen
// can otherwise pass for an empty one (Chromium reports size 0 for it), and would be sealed
// and "sent" without its content.
async function checkReadable(files) {
  for (const file of files) {
    try {
      await (file.size === 0 ? file : file.slice(0, 1)).arrayBuffer();
    } catch (error) {
      throw new StepError('read', `${file.name}: ${error}`);
    }
  }
}

function partsOf(message, files) {
  const text = new TextEncoder().encode(message);
  const parts = [
    {
      info: { kind: 'message' },
      size: text.length,
      read: (start, end) => Promise.resolve(text.subarray(start, end)),
    },
  ];
  for (const file of files) {
    parts.push({
      info: { kind: 'file', name: file.name, type: file.type || 'application/octet-stream' },
      size: file.size,
      read: (start, end) => readSlice(file, start, end),
    });
  }
  return parts;
}

// Fetches the word lists codename.js needs that this worker does not have yet.
function loadWords(languages, legacy) {
  for (const language of languages.filter((name) => !codenames.hasWords(name))) {
    importScripts(`/static/js/words-${language}.js`);
    const table = self.sealdropWords[language];
    codenames.useWords(language, table.words, table.clashes);
  }
  if (legacy) {
    importScripts('/static/js/legacy-words.js');
    codenames.useLegacyWords(self.sealdropLegacyWords);
  }
}

// The follow-up's codename, or a new one in the page's language. Returns the trailer as a
// function of the envelope's header hash (the proof signs it; docs/FORMAT.md §5), and the
// keys, of which only the public reply key and the signing key are kept.
async function chooseCodename(typed, language, mailboxSalt) {
  let chosen;
  let keys;
  // Issuing needs the page language's list; reading a typed codename every list and BIP39's
  // (version 1 codenames).
  if (typed) {
    loadWords(codenames.LANGUAGES, true);
  } else {
    loadWords([codenames.issuingLanguage(language)], false);
  }
  try {
    const codename = typed ? codenames.read(typed) : codenames.issue(language);
    chosen = codename.words.join(' ');
    keys = await codenames.derive(codename, mailboxSalt);
  } catch (error) {
    throw new StepError('codename', 'not a codename');
  }
  keys.privateKey.fill(0); // a submission needs only the public half of the reply key
  keys.x25519Key = null;
  self.postMessage({ type: 'codename', codename: chosen, isNew: !typed });
  return { keys, trailer: (headerHash) => codenames.signedTrailer(keys, headerHash) };
}

async function seal(request) {
  let keys;
  try {
    const statements = request.epochs || (await served);
    const lines = await epochs.chooseRecipients(request.recipients, statements, Date.now());
    keys = lines.map((line) => envelope.parsePublicKey(line));
  } catch (error) {
    throw new StepError('keys', String(error.message || error));
  }
  await checkReadable(request.files);
  const parts = partsOf(request.message, request.files);
  let trailer = request.trailer || {};
  let signer = null;
  if ('codename' in request) {
    signer = await chooseCodename(request.codename, request.language, request.mailboxSalt);
    trailer = signer.trailer;
  }
  // A signed trailer has the same length whatever header it signs.
  const sized = signer ? await signer.trailer(new Uint8Array(32)) : trailer;
  const size = envelope.envelopeLength(keys.length, parts, sized);
  self.postMessage({ type: 'size', size });
  credits = request.credits;
  const chunker = new envelope.Chunker(request.chunkBytes, (offset, data) => {
    credits -= 1;
    self.postMessage({ type: 'chunk', offset, data: data.buffer }, [data.buffer]);
  });
  const written = await envelope.sealParts(keys, parts, (data) => chunker.write(data), {
    sliceBytes: SLICE_BYTES,
    pause: waitForCredit,
    trailer,
  });
  chunker.flush();
  if (written !== size) throw new StepError('crypto', `sealed ${written} bytes, expected ${size}`);
  self.postMessage({ type: 'done', size: written });
}

self.addEventListener('message', (event) => {
  const request = event.data;
  if (request.type === 'credit') {
    grant();
  } else if (request.type === 'start') {
    seal(request).catch((error) => {
      self.postMessage({
        type: 'error',
        code: error.code || 'crypto',
        detail: String(error.message || error),
      });
    });
  }
});
