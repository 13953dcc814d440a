'use strict';
// Opening a whole reply envelope in memory, for the replies page: version 2 with WebCrypto
// (opener-v2.js); version 1 with libsodium (opener-v1.js), which loadSodium() fetches only
// when such a reply is there. A reply is shown whole or not at all.
const { openV1 } = require('./opener-v1.js');
const { openV2 } = require('./opener-v2.js');
const records = require('./records.js');

const MAGIC = new TextEncoder().encode('SEALDROP');

class OpenError extends Error {}

function fail(reason) {
  throw new OpenError(reason);
}

// Steps 1 and 2 of docs/FORMAT.md §9.3 (the same in §3): the magic, then the version byte.
function version(data) {
  const head = data.subarray(0, MAGIC.length);
  if (data.length === 0 || head.some((byte, i) => byte !== MAGIC[i])) fail('not-an-envelope');
  if (data.length <= MAGIC.length) fail('truncated');
  return data[MAGIC.length];
}

// keys: as codename.derive gives them; loadSodium: async () => ready libsodium. Returns
// {message: string, files: [{name, type, data: Uint8Array}], trailer}; throws OpenError whose
// message is the error class of docs/FORMAT.md §6 (not-for-you, corrupted, truncated, ...).
async function open(keys, data, loadSodium) {
  let plaintext;
  const found = version(data);
  if (found === 2) {
    plaintext = await openV2(keys, data, fail);
  } else if (found === 1) {
    plaintext = openV1(await loadSodium(), keys, data, fail);
  } else {
    fail('unsupported-version');
  }
  try {
    return records.parseRecords(plaintext);
  } catch (error) {
    return fail('malformed-content');
  }
}

module.exports = { OpenError, open, version };
