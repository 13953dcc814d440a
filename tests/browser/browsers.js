'use strict';
// How the browser tests start a browser: Debian's firefox-esr at Tor Browser's security
// levels (as prefs, over WebDriver BiDi), or Debian's chromium. One copy, so that every driver
// tests the same "Safer" and "Safest".
const puppeteer = require('puppeteer-core');

const LEVEL_PREFS = {
  standard: {},
  safer: {
    'javascript.options.wasm': false,
    'javascript.options.baselinejit': false,
    'javascript.options.ion': false,
    'javascript.options.asmjs': false,
    'javascript.options.native_regexp': false,
  },
  safest: { 'javascript.enabled': false },
};

// Without the background-networking flags Chromium floods the closed network with requests.
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// spec.prefs (Firefox) and spec.args (Chromium) add to the level's settings.
function launch(spec, profileDir) {
  if (spec.browser === 'firefox') {
    return puppeteer.launch({
      browser: 'firefox',
      executablePath: '/usr/bin/firefox-esr',
      headless: true,
      extraPrefsFirefox: { ...LEVEL_PREFS[spec.level], ...(spec.prefs || {}) },
    });
  }
  return puppeteer.launch({
    executablePath: '/usr/lib/chromium/chromium',
    headless: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${profileDir}`, ...(spec.args || [])],
  });
}

module.exports = { launch };
