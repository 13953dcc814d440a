'use strict';
// Epoch keys in the page (docs/FORMAT.md §10): each reviewer's signed statement is verified
// with WebCrypto Ed25519 against the keys the server names for that reviewer, and the
// reviewer's stanza is sealed to the epoch key valid now (with the skew allowance), never to an
// expired one; without a valid statement or epoch, to the reviewer's long-term key.
const pubkeys = require('./pubkeys.js');
const webkeys = require('./webkeys.js');

const LABEL = 'sealdrop-epochs-v1';
const MAX_BYTES = 16 * 1024;
const MAX_EPOCHS = 64;
const MAX_EPOCH_MS = 31 * 24 * 3600 * 1000;
const SKEW_MS = 2 * 3600 * 1000;
const HOUR = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):00Z$/;
const BASE64_64_BYTES = /^[A-Za-z0-9+/]{85}[AEIMQUYcgkosw048]==$/;

// kind: 'malformed' or 'bad-signature', as crypto/epochs.py names them.
class StatementError extends Error {
  constructor(kind, detail) {
    super(`${kind}: ${detail}`);
    this.kind = kind;
  }
}

function malformed(why) {
  throw new StatementError('malformed', why);
}

// "YYYY-MM-DDTHH:00Z" to milliseconds, refusing any date that does not exist.
function parseHour(text) {
  const match = HOUR.exec(text);
  if (match === null) malformed(`not an hour: ${text}`);
  const [year, month, day, hour] = match.slice(1).map(Number);
  const ms = Date.UTC(year, month - 1, day, hour);
  const back = new Date(ms);
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23) {
    malformed(`not an hour: ${text}`);
  }
  return ms;
}

function field(line, name) {
  if (!line.startsWith(`${name}: `)) malformed(`expected ${name}`);
  return line.slice(name.length + 2);
}

function parseEpochs(lines, reviewerKey) {
  if (lines.length < 1 || lines.length > MAX_EPOCHS) malformed('1 to 64 epochs');
  const seen = new Set([reviewerKey.join(',')]);
  const epochs = lines.map((line) => {
    const parts = field(line, 'epoch').split(' ');
    if (parts.length !== 3) malformed('epoch line');
    const [notBefore, notAfter] = [parseHour(parts[0]), parseHour(parts[1])];
    if (!(notAfter > notBefore) || notAfter - notBefore > MAX_EPOCH_MS) malformed('epoch length');
    let key;
    try {
      key = pubkeys.parsePublicKey(parts[2]);
    } catch (error) {
      malformed('epoch key');
    }
    if (pubkeys.publicKeyLine(key) !== parts[2] || seen.has(key.join(','))) malformed('epoch key');
    seen.add(key.join(','));
    return { notBefore, notAfter, line: parts[2] };
  });
  for (let i = 1; i < epochs.length; i += 1) {
    if (epochs[i].notBefore < epochs[i - 1].notAfter) malformed('epochs overlap or unsorted');
  }
  return epochs;
}

// The statement's epochs [{notBefore, notAfter, line}] once it has passed every check of
// §10.1, in its order; throws StatementError naming the first that failed.
async function verifyStatement(text, reviewerLine, signingLine) {
  if (typeof text !== 'string') malformed('no statement');
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > MAX_BYTES || !text.endsWith('\n')) malformed('size or ending');
  const cut = text.lastIndexOf('\n', text.length - 2) + 1;
  const signature = field(text.slice(cut, -1), 'signature');
  if (!BASE64_64_BYTES.test(signature)) malformed('signature encoding');
  const body = text.slice(0, cut);
  const raw = Uint8Array.from(atob(signature), (char) => char.charCodeAt(0));
  const signingKey = pubkeys.parseSigningKey(signingLine);
  if (!(await webkeys.verify(signingKey, raw, new TextEncoder().encode(body)))) {
    throw new StatementError('bad-signature', 'the signature does not verify');
  }
  if (body.includes('\r')) malformed('carriage return');
  const lines = body.slice(0, -1).split('\n');
  if (lines[0] !== LABEL) malformed('label');
  if (field(lines[1] || '', 'reviewer') !== reviewerLine) malformed('not this reviewer');
  if (field(lines[2] || '', 'signing-key') !== signingLine) malformed('not this signing key');
  parseHour(field(lines[3] || '', 'issued'));
  return parseEpochs(lines.slice(4), pubkeys.parsePublicKey(reviewerLine));
}

// The key line to seal to at time t' = t + skew: the epoch with notBefore <= t' < notAfter.
function current(epochs, now) {
  const at = now + SKEW_MS;
  const found = epochs.find((epoch) => epoch.notBefore <= at && at < epoch.notAfter);
  return found ? found.line : null;
}

// recipients: the config's key lines; served: /api/v1/epochs's object (or null); deviceNow:
// Date.now(). Returns one key line per recipient, in order: its epoch key when its statement
// verifies and has an epoch valid now, else its long-term key. `now` is the later of the
// device's clock and the server's hour, so a device running late never picks a deleted key.
async function chooseRecipients(recipients, served, deviceNow) {
  if (!served || served.format !== 'sealdrop-epochs' || !Array.isArray(served.reviewers)) {
    return recipients;
  }
  let now = deviceNow;
  try {
    now = Math.max(deviceNow, parseHour(served.now));
  } catch (error) {
    now = deviceNow;
  }
  const chosen = [];
  for (const line of recipients) {
    const entry = served.reviewers.find((reviewer) => reviewer && reviewer.public_key === line);
    let epochLine = null;
    if (entry && entry.statement && entry.signing_key) {
      try {
        epochLine = current(await verifyStatement(entry.statement, line, entry.signing_key), now);
      } catch (error) {
        epochLine = null; // a statement that fails is ignored: the long-term key it is
      }
    }
    chosen.push(epochLine || line);
  }
  return chosen;
}

module.exports = { SKEW_MS, StatementError, chooseRecipients, parseHour, verifyStatement };
