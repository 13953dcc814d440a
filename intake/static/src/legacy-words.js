'use strict';
// The BIP39 English list that version 1 codenames were issued from (codename.js reads them
// with it). Its own bundle: the submission page fetches it only for a follow-up.
module.exports = require('@scure/bip39/wordlists/english.js').wordlist;
