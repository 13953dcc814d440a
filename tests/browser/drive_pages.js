'use strict';
// Walks the submitter's pages in one real browser, as a person on a phone (390x844) and on
// a desktop would, and reports what it measured as JSON on stdout (test_pages_browser.py
// judges it). Few page loads, many checks each, to keep CI time small.
// Usage: node drive_pages.js SPEC.json, SPEC = {"browser", "level", "url", "timeout_ms"}
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch } = require('./browsers.js');

const PHONE = { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
const DESKTOP = { width: 1280, height: 900, deviceScaleFactor: 1 };

// Runs in the page: every visible thing a finger presses, smaller than 44x44 CSS px.
function smallTargets() {
  const small = [];
  for (const element of document.querySelectorAll('a, button, summary, input, textarea')) {
    if (element.type === 'hidden' || element.getClientRects().length === 0) continue;
    const box = element.getBoundingClientRect();
    if (box.height < 43.5 || box.width < 43.5) {
      small.push(`${element.tagName.toLowerCase()}#${element.id || element.textContent.trim()}`);
    }
  }
  return small;
}

// Runs in the page: how the codename is laid out.
function codenameLayout() {
  const items = Array.from(document.querySelectorAll('#codename-words li'));
  const body = parseFloat(getComputedStyle(document.body).fontSize);
  const words = items.map((item) => item.querySelector('.word'));
  const numbers = items.map((item) => item.querySelector('.number'));
  return {
    count: items.length,
    numbers: numbers.map((number) => number.textContent),
    words: words.map((word) => word.textContent),
    columns: new Set(items.map((item) => Math.round(item.getBoundingClientRect().left))).size,
    body_px: body,
    smallest_word_px: Math.min(...words.map((word) => parseFloat(getComputedStyle(word).fontSize))),
    smallest_number_px: Math.min(
      ...numbers.map((number) => parseFloat(getComputedStyle(number).fontSize)),
    ),
    // A word on one line box, inside its cell: never wrapped or cut.
    all_on_one_line: words.every((word) => word.getClientRects().length === 1),
    none_overflowing: items.every((item) => item.scrollWidth <= item.clientWidth + 1),
    codename: document.getElementById('codename').textContent,
  };
}

// Runs in the page: the codename grid again, filled with the widest words of a list.
function widestLayout(widest) {
  const words = Array.from(document.querySelectorAll('#codename-words .word'));
  const saved = words.map((word) => word.textContent);
  words.forEach((word, index) => {
    word.textContent = widest[index % widest.length];
  });
  const items = Array.from(document.querySelectorAll('#codename-words li'));
  const fits =
    words.every((word) => word.getClientRects().length === 1) &&
    items.every((item) => item.scrollWidth <= item.clientWidth + 1);
  words.forEach((word, index) => {
    word.textContent = saved[index];
  });
  return fits;
}

// Runs in the page: would leaving now ask first? (The event a reload or link fires.)
function leavingIsGuarded() {
  const event = new Event('beforeunload', { cancelable: true });
  window.dispatchEvent(event);
  return event.defaultPrevented;
}

async function newPage(browser, spec, viewport) {
  const page = await browser.newPage();
  page.setDefaultTimeout(spec.timeout_ms);
  await page.setViewport(viewport);
  page.on('dialog', (dialog) => dialog.accept());
  return page;
}

async function typeInto(page, selector, text) {
  await page.$eval(selector, (element) => {
    element.value = '';
  });
  await page.focus(selector);
  await page.keyboard.type(text);
}

// The JS path: send, measure the codename, switch language, try to leave.
async function scriptedSend(browser, spec, viewport, lang, other) {
  const page = await newPage(browser, spec, viewport);
  const seen = {};
  await page.goto(`${spec.url}/?lang=${lang}`, { waitUntil: 'load' });
  await page.waitForSelector('#js-notice:not([hidden])');
  seen.server_notice_hidden = await page.$eval('#server-notice', (e) => e.hidden);
  seen.form_small_targets = await page.evaluate(smallTargets);
  seen.send_bottom = await page.$eval('#send', (e) => e.getBoundingClientRect().bottom);
  seen.page_width = await page.evaluate(() => document.documentElement.scrollWidth);
  seen.viewport_width = viewport.width;
  seen.viewport_height = viewport.height;
  seen.guarded_before_sending = await page.evaluate(leavingIsGuarded);
  await typeInto(page, '#message', 'A message from the pages test.');
  await page.click('#send');
  await page.waitForSelector('#sent-section:not([hidden])', { timeout: spec.timeout_ms });
  seen.layout = await page.evaluate(codenameLayout);
  seen.widest_fit = {};
  for (const [list, widest] of Object.entries(spec.widest)) {
    seen.widest_fit[list] = await page.evaluate(widestLayout, widest);
  }
  seen.sent_small_targets = await page.evaluate(smallTargets);
  seen.sent_page_width = await page.evaluate(() => document.documentElement.scrollWidth);
  seen.guarded_with_codename = await page.evaluate(leavingIsGuarded);
  // The language switch keeps the codename (and the page stays guarded).
  await page.click(`nav.languages a[lang="${other}"]`);
  await page.waitForFunction((code) => document.documentElement.lang === code, {}, other);
  await page.waitForSelector('#sent-section:not([hidden])');
  seen.after_switch = await page.evaluate(codenameLayout);
  seen.after_switch_url = page.url();
  seen.after_switch_heading = await page.$eval('#sent-section h1', (e) => e.textContent);
  seen.guarded_after_switch = await page.evaluate(leavingIsGuarded);
  await page.close();
  return seen;
}

// A codename from one language's page opens the replies page of another.
async function scriptedCheck(browser, spec, viewport, lang, codename) {
  const page = await newPage(browser, spec, viewport);
  await page.goto(`${spec.url}/replies?lang=${lang}`, { waitUntil: 'load' });
  await page.waitForSelector('#replies-js-notice:not([hidden])');
  const seen = {};
  seen.server_notice_hidden = await page.$eval('#replies-server-notice', (e) => e.hidden);
  seen.small_targets = await page.evaluate(smallTargets);
  seen.codename_field_rows = await page.$eval('#codename-input', (e) => e.tagName);
  await typeInto(page, '#codename-input', codename);
  await page.click('#check');
  await page.waitForSelector('#no-replies, #replies-status.error', { timeout: spec.timeout_ms });
  seen.status_error = await page.$eval('#replies-status', (e) => e.className === 'error');
  seen.opened = (await page.$('#no-replies')) !== null;
  seen.followup_codename = await page.$eval('#followup-codename', (e) => e.value);
  await page.close();
  return seen;
}

// Issue 10, item 2: JavaScript on, but the page scripts never arrive.
async function scriptsBlocked(browser, spec) {
  const page = await newPage(browser, spec, PHONE);
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (/\/static\/js\/(app|replies)\.js/.test(request.url())) request.abort();
    else request.continue();
  });
  const seen = {};
  await page.goto(`${spec.url}/?lang=en`, { waitUntil: 'load' });
  seen.form_server_notice_visible = await page.$eval(
    '#server-notice',
    (e) => !e.hidden && e.getBoundingClientRect().height > 0,
  );
  seen.form_js_notice_hidden = await page.$eval('#js-notice', (e) => e.hidden);
  await page.goto(`${spec.url}/replies?lang=en`, { waitUntil: 'load' });
  seen.replies_server_notice_visible = await page.$eval(
    '#replies-server-notice',
    (e) => !e.hidden && e.getBoundingClientRect().height > 0,
  );
  await page.close();
  return seen;
}

// A right-to-left language (a pseudo-Arabic catalog): mirrored, and no wider than a phone.
async function rightToLeft(browser, spec) {
  const page = await newPage(browser, spec, PHONE);
  await page.goto(`${spec.rtl_url}/?lang=ar`, { waitUntil: 'load' });
  await page.waitForSelector('#js-notice:not([hidden])');
  const seen = await page.evaluate(() => {
    const box = (selector) => document.querySelector(selector).getBoundingClientRect();
    return {
      dir: document.documentElement.dir,
      page_width: document.documentElement.scrollWidth,
      // Mirrored: the Send button and the labels start at the right edge.
      send_right: box('#send').right,
      send_left: box('#send').left,
      label_right: box('label[for="message"]').right,
    };
  });
  seen.small_targets = await page.evaluate(smallTargets);
  await page.close();
  return seen;
}

// A long upload (each chunk held back 3 s): the status asks to keep the page open and, once
// the rate is known, says how long is left; leaving meanwhile asks first.
async function slowUpload(browser, spec) {
  const page = await newPage(browser, spec, PHONE);
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (request.method() === 'PUT') setTimeout(() => request.continue(), 3000);
    else request.continue();
  });
  const seen = { statuses: [] };
  await page.goto(`${spec.url}/?lang=ru`, { waitUntil: 'load' });
  await page.waitForSelector('#js-notice:not([hidden])');
  await page.exposeFunction('reportStatus', (text) => seen.statuses.push(text));
  await page.evaluate(() => {
    const status = document.getElementById('status');
    new MutationObserver(() => window.reportStatus(status.textContent)).observe(status, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
  await typeInto(page, '#message', 'A long upload.');
  await (await page.$('#attachments')).uploadFile(spec.big_file);
  await page.click('#send');
  await page.waitForFunction(
    () => /%/.test(document.getElementById('status').textContent),
    { polling: 50 },
  );
  seen.guarded_while_sending = await page.evaluate(leavingIsGuarded);
  await page.waitForSelector('#sent-section:not([hidden])', { timeout: spec.timeout_ms });
  await page.close();
  return seen;
}

// Without JavaScript (Safest): Firefox then evaluates single-element queries only, so the
// page's HTML is read for the rest.
async function press(page, selector) {
  const navigation = page.waitForNavigation({ timeout: page.timeout });
  await page.focus(selector);
  await page.keyboard.press('Enter');
  await navigation;
}

function words(html) {
  return Array.from(html.matchAll(/<span class="word">([^<]+)<\/span>/g), (m) => m[1]);
}

async function plain(browser, spec) {
  const page = await newPage(browser, spec, PHONE);
  const seen = {};
  await page.goto(`${spec.url}/?lang=ru`, { waitUntil: 'load' });
  seen.server_notice_hidden = await page.$eval('#server-notice', (e) => e.hidden);
  seen.js_notice_hidden = await page.$eval('#js-notice', (e) => e.hidden);
  await page.focus('#message');
  await page.keyboard.type('Сообщение без JavaScript.');
  await press(page, '#send');
  const sent = await page.content();
  seen.words = words(sent);
  seen.codename = await page.$eval('#codename', (e) => e.textContent);
  // The language switch is a form that posts the codename back.
  await press(page, 'nav.languages button[lang="en"]');
  const english = await page.content();
  seen.after_switch_words = words(english);
  seen.after_switch_lang = await page.$eval('html', (e) => e.lang);
  // The Russian page's codename opens the English replies page.
  await page.goto(`${spec.url}/replies?lang=en`, { waitUntil: 'load' });
  seen.replies_server_notice_hidden = await page.$eval('#replies-server-notice', (e) => e.hidden);
  await page.focus('#codename-input');
  await page.keyboard.type(seen.codename);
  await press(page, '#check');
  seen.opened = (await page.$('#no-replies')) !== null;
  seen.status_error = (await page.$('#replies-status.error')) !== null;
  // The follow-up form carries the codename just checked, as a hidden field.
  seen.followup_codename = (await page.content()).match(
    /id="followup-codename" name="codename" value="([^"]*)"/,
  )[1];
  await page.focus('#message');
  await page.keyboard.type('Это не должно потеряться.');
  await press(page, '#send');
  seen.followup_sent_title = await page.title();
  await page.close();
  return seen;
}

async function run(spec) {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealdrop-pages-'));
  const browser = await launch(spec, profileDir);
  const report = { level: spec.level, browser: spec.browser };
  try {
    if (spec.level === 'safest') {
      report.plain = await plain(browser, spec);
      return report;
    }
    report.phone_ru = await scriptedSend(browser, spec, PHONE, 'ru', 'en');
    report.phone_check_en = await scriptedCheck(
      browser,
      spec,
      PHONE,
      'en',
      report.phone_ru.layout.codename,
    );
    report.desktop_en = await scriptedSend(browser, spec, DESKTOP, 'en', 'ru');
    report.desktop_check_ru = await scriptedCheck(
      browser,
      spec,
      DESKTOP,
      'ru',
      report.desktop_en.layout.codename,
    );
    report.blocked = await scriptsBlocked(browser, spec);
    if (spec.big_file) report.slow = await slowUpload(browser, spec);
    if (spec.rtl_url) report.rtl = await rightToLeft(browser, spec);
  } finally {
    await browser.close();
    fs.rmSync(profileDir, { recursive: true, force: true });
  }
  return report;
}

run(JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))).then(
  (report) => process.stdout.write(JSON.stringify(report)),
  (error) => {
    process.stderr.write(`${error.stack || error}\n`);
    process.exit(1);
  },
);
