'use strict';
// Hands codename.js every word list it reads (docs/FORMAT.md §5): the codename lists of
// wordlists.js and the BIP39 list of version 1. For Node (tests, build.js) and the replies
// page; the submission worker fetches the lists it needs as files instead (worker.js).
const wordlists = require('./wordlists.js');
const legacyWords = require('./legacy-words.js');

function loadAll(codename) {
  for (const language of codename.LANGUAGES) codename.useWords(language, wordlists[language]);
  codename.useLegacyWords(legacyWords);
}

module.exports = { loadAll };
