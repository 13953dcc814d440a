'use strict';
// `make screenshots`: every submitter page, at phone (390x844) and desktop size, in every
// language, with and without JavaScript, as full-page PNGs for reviewing by eye.
// Usage: node screenshots.js SPEC.json, SPEC = {"url", "out", "languages": [...],
//   "codename": a codename that has a reply waiting, "photo": a photo to attach}
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch } = require('./browsers.js');

const SIZES = {
  phone: { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true },
  desktop: { width: 1280, height: 900, deviceScaleFactor: 1 },
};

async function shot(page, spec, name) {
  const file = path.join(spec.out, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function typeInto(page, selector, text) {
  await page.$eval(selector, (element) => {
    element.value = '';
  });
  await page.focus(selector);
  await page.keyboard.type(text);
}

async function scripted(page, spec, lang, size, files) {
  const name = (what) => `${lang}-${size}-js-${what}`;
  await page.goto(`${spec.url}/?lang=${lang}`, { waitUntil: 'load' });
  await page.waitForSelector('#js-notice:not([hidden])');
  files.push(await shot(page, spec, name('1-form')));
  await typeInto(page, '#message', 'A short test message.');
  await (await page.$('#attachments')).uploadFile(spec.photo);
  files.push(await shot(page, spec, name('1b-form-photo-chosen')));
  await page.click('#send');
  await page.waitForSelector('#sent-section:not([hidden])', { timeout: spec.timeout_ms });
  files.push(await shot(page, spec, name('2-sent-codename')));
  await page.goto(`${spec.url}/replies?lang=${lang}`, { waitUntil: 'load' });
  files.push(await shot(page, spec, name('3-replies')));
  await typeInto(page, '#codename-input', spec.codename);
  await page.click('#check');
  await page.waitForSelector('#replies article', { timeout: spec.timeout_ms });
  files.push(await shot(page, spec, name('4-replies-opened')));
  await page.click('#replies article button.delete');
  files.push(await shot(page, spec, name('5-reply-delete-asks')));
}

async function plain(page, spec, lang, size, files) {
  const name = (what) => `${lang}-${size}-nojs-${what}`;
  const submitForm = async (selector) => {
    const navigation = page.waitForNavigation({ timeout: spec.timeout_ms });
    await page.click(selector);
    await navigation;
  };
  await page.goto(`${spec.url}/?lang=${lang}`, { waitUntil: 'load' });
  files.push(await shot(page, spec, name('1-form')));
  await page.click('#server-notice summary');
  files.push(await shot(page, spec, name('1b-form-details-open')));
  await typeInto(page, '#message', 'A short test message.');
  await submitForm('#send');
  files.push(await shot(page, spec, name('2-submitted-codename')));
  await page.goto(`${spec.url}/sent?lang=${lang}`, { waitUntil: 'load' });
  files.push(await shot(page, spec, name('3-sent-without-codename')));
  await page.goto(`${spec.url}/replies?lang=${lang}`, { waitUntil: 'load' });
  files.push(await shot(page, spec, name('4-replies')));
  await typeInto(page, '#codename-input', 'apple banana');
  await submitForm('#check');
  files.push(await shot(page, spec, name('5-replies-wrong-codename')));
  await typeInto(page, '#codename-input', spec.codename);
  await submitForm('#check');
  files.push(await shot(page, spec, name('6-replies-opened')));
  await submitForm('#replies article button.delete');
  files.push(await shot(page, spec, name('7-reply-delete-asks')));
  await typeInto(page, '#message', 'A follow-up, with the codename just checked.');
  await submitForm('#send');
  files.push(await shot(page, spec, name('8-followup-sent')));
  await page.goto(`${spec.url}/?lang=${lang}`, { waitUntil: 'load' });
  await submitForm('#send');
  files.push(await shot(page, spec, name('9-error-nothing-to-send')));
  await page.goto(`${spec.url}/no-such-page?lang=${lang}`, { waitUntil: 'load' });
  files.push(await shot(page, spec, name('10-not-found')));
}

async function run(spec) {
  fs.mkdirSync(spec.out, { recursive: true });
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealdrop-shots-'));
  const browser = await launch({ browser: 'chromium', level: 'standard' }, profileDir);
  const files = [];
  try {
    for (const lang of spec.languages) {
      for (const [size, viewport] of Object.entries(SIZES)) {
        const page = await browser.newPage();
        page.setDefaultTimeout(spec.timeout_ms);
        // Leaving the codename on screen asks first (beforeunload): here, leave.
        page.on('dialog', (dialog) => dialog.accept());
        await page.setViewport(viewport);
        await scripted(page, spec, lang, size, files);
        await page.close();
        const bare = await browser.newPage();
        bare.setDefaultTimeout(spec.timeout_ms);
        await bare.setJavaScriptEnabled(false);
        await bare.setViewport(viewport);
        await plain(bare, spec, lang, size, files);
        await bare.close();
      }
    }
  } finally {
    await browser.close();
    fs.rmSync(profileDir, { recursive: true, force: true });
  }
  return files;
}

run(JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))).then(
  (files) => process.stdout.write(`${files.length} screenshots in ${path.dirname(files[0])}\n`),
  (error) => {
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(1);
  },
);
