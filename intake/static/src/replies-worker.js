'use strict';
// The replies page's Web Worker: derives the reply key and mailbox from the codename and opens
// reply envelopes, so the key never leaves this worker and the codename never leaves the
// device. Messages from replies.js:
//   {type: 'derive', codename, mailboxSalt}
//                                -> {type: 'derived', mailboxes: [v2, legacy], canonical}
//                                   or {type: 'invalid', reason: 'count'|'word', value}
//   {type: 'open', id, data}     -> {type: 'opened', id, message, files: [{name, type, data}]}
//                                   or {type: 'unreadable', id}
//   any failure                  -> {type: 'error', detail}
const codename = require('./codename.js');
const opener = require('./opener.js');

require('./word-tables.js').loadAll(codename);

const { loadSodium } = require('./load-sodium.js');

let keys = null;
let sodium = null;

// libsodium (1 MB) is fetched only for a version 1 reply; version 2 opens with WebCrypto.
async function sodiumForV1() {
  if (sodium === null) sodium = loadSodium();
  await sodium.ready;
  return sodium;
}

async function handle(request) {
  if (request.type === 'derive') {
    let canonical;
    try {
      canonical = codename.parse(request.codename);
    } catch (error) {
      if (!(error instanceof codename.CodenameError)) throw error;
      self.postMessage({ type: 'invalid', reason: error.reason, value: error.value });
      return;
    }
    if (keys !== null) keys.privateKey.fill(0);
    keys = await codename.derive(canonical, request.mailboxSalt);
    keys.signingKey = null; // reading replies needs no signature
    self.postMessage({ type: 'derived', mailboxes: keys.mailboxes, canonical });
  } else if (request.type === 'open') {
    let contents;
    try {
      contents = await opener.open(keys, new Uint8Array(request.data), sodiumForV1);
    } catch (error) {
      self.postMessage({ type: 'unreadable', id: request.id });
      return;
    }
    const files = contents.files.map((file) => ({ ...file, data: file.data.buffer }));
    self.postMessage(
      { type: 'opened', id: request.id, message: contents.message, files },
      files.map((file) => file.data),
    );
  }
}

self.addEventListener('message', (event) => {
  handle(event.data).catch((error) => {
    self.postMessage({ type: 'error', detail: String(error.message || error) });
  });
});
