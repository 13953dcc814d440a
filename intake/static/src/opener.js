'use strict';
// Opening a whole reply envelope in memory, for the replies page: version 2 with WebCrypto
// (opener-v2.js); version 1 with libsodium (opener-v1.js), which loadSodium() fetches only
// when such a reply is there. A reply is shown whole or not at all.
const { openV1 } = require('./opener-v1.js');
const { openV2 } = require('./opener-v2.js');
const records = require('./records.js');

const MAGIC = 'SEALDROP';

class OpenError extends Error {}

function fail(reason) {
  throw new OpenError(reason);
}

function version(data) {
  if (data.length < 9 || new TextDecoder().decode(data.subarray(0, 8)) !== MAGIC) {
    fail('not an envelope');
  }
  return data[8];
}

// keys: as codename.derive gives them; loadSodium: async () => ready libsodium. Returns
// {message: string, files: [{name, type, data: Uint8Array}], trailer}.
async function open(keys, data, loadSodium) {
  let plaintext;
  const found = version(data);
  if (found === 2) {
    plaintext = await openV2(keys, data, fail);
  } else if (found === 1) {
    plaintext = openV1(await loadSodium(), keys, data, fail);
  } else {
    fail('unsupported version');
  }
  try {
    return records.parseRecords(plaintext);
  } catch (error) {
    return fail('malformed');
  }
}

module.exports = { OpenError, open, version };
