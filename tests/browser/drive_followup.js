'use strict';
// Drives Firefox ESR (at a Tor Browser security level) through the follow-up pages, as a
// person would, and reports what it saw as JSON on stdout. Run by test_followup_browser.py.
// Usage: node drive_followup.js SPEC.json, SPEC = {"level": "safer"|"safest", "url",
//   "step": "submit"|"followup", "message", "codename" (followup), "timeout_ms",
//   "lang" (the page's language, default "en")}
//   submit:   the form at /, Send; reports the codename shown on the confirmation.
//   followup: /replies, the codename typed in odd case and spacing, Check; reports the
//             replies shown and their files; then writes `message` in the follow-up form
//             on the same page and sends it; reports the confirmation.
//   manage:   (with JavaScript) /replies with a typo ("typo"), then a wrong codename
//             ("wrong"), then the right one; deletes the reply it shows with its button.
const fs = require('node:fs');
const { launch } = require('./browsers.js');

function texts(html, pattern) {
  const entities = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&#34;': '"', '&#39;': "'" };
  return [...html.matchAll(pattern)].map((match) =>
    match[1].replace(/&(lt|gt|amp|#34|#39);/g, (entity) => entities[entity]),
  );
}

// Presses a button as a person would: a click with script, Enter on it without.
async function press(page, selector, scripted) {
  if (scripted) {
    await page.click(selector);
  } else {
    await page.focus(selector);
    await page.keyboard.press('Enter');
  }
}

// Presses a submit button and waits for the answer: with JavaScript the page changes in
// place (``scriptedDone``); without it, a new page loads.
async function send(page, selector, scripted, spec, scriptedDone) {
  if (scripted) {
    await press(page, selector, true);
    await scriptedDone();
  } else {
    const navigation = page.waitForNavigation({ timeout: spec.timeout_ms });
    await press(page, selector, false);
    await navigation;
  }
}

async function visible(page, selector, timeout) {
  await page.waitForSelector(`${selector}:not([hidden])`, { visible: true, timeout });
}

async function submit(page, spec, scripted, report) {
  await page.goto(`${spec.url}/?lang=${spec.lang || 'en'}`, { waitUntil: 'load' });
  await page.focus('#message');
  await page.keyboard.type(spec.message);
  await send(page, '#send', scripted, spec, () =>
    visible(page, '#sent-section', spec.timeout_ms),
  );
  report.codename = await page.$eval('#codename', (element) => element.textContent);
  report.final_url = page.url();
}

async function followUp(page, spec, scripted, report) {
  await page.goto(`${spec.url}/replies?lang=${spec.lang || 'en'}`, { waitUntil: 'load' });
  if (scripted) {
    report.js_notice_hidden = await page.$eval('#replies-js-notice', (e) => e.hidden);
  }
  await page.focus('#codename-input');
  // As a person copies it from paper: capitals, dashes, a trailing space.
  await page.keyboard.type(`${spec.codename.toUpperCase().split(' ').join(' - ')} `);
  await send(page, '#check', scripted, spec, () =>
    page.waitForSelector('#replies article, #no-replies', { timeout: spec.timeout_ms }),
  );
  if (scripted) {
    report.replies = await page.$$eval('#replies article .reply-text', (list) =>
      list.map((element) => element.textContent),
    );
    report.files = await page.$$eval('#replies article a.download', (list) =>
      list.map((element) => element.textContent),
    );
  } else {
    // With JavaScript off, Firefox evaluates only single-element queries ($$eval hangs).
    const html = await page.content();
    report.replies = texts(html, /<div class="reply-text">([\s\S]*?)<\/div>/g);
    report.files = texts(html, /<button type="submit" class="link">([\s\S]*?)<\/button>/g);
  }
  report.server_decrypted = (await page.$('#server-decrypted')) !== null;
  report.followup_codename = await page.$eval('#followup-codename', (e) => e.value);
  await page.focus('#message');
  await page.keyboard.type(spec.message);
  await send(page, '#send', scripted, spec, () =>
    visible(page, '#sent-section', spec.timeout_ms),
  );
  if (scripted) {
    report.sent_text = await page.$eval('#followup-sent-message', (e) => e.textContent);
    report.sent_text_hidden = await page.$eval('#followup-sent-message', (e) => e.hidden);
    report.new_codename_shown = await page.$eval('#codename-section', (e) => !e.hidden);
  } else {
    report.sent_text = await page.$eval('#sent-message', (e) => e.textContent);
    report.new_codename_shown = (await page.$('#codename')) !== null;
  }
  report.final_url = page.url();
}

async function checkCodename(page, text, selector, timeout) {
  await page.$eval('#codename-input', (element) => {
    element.value = '';
  });
  await page.$eval('#replies-status', (element) => {
    element.textContent = '';
  });
  await page.focus('#codename-input');
  await page.keyboard.type(text);
  await page.click('#check');
  await page.waitForSelector(selector, { timeout });
}

async function manage(page, spec, report) {
  await page.goto(`${spec.url}/replies?lang=en`, { waitUntil: 'load' });
  report.followup_hidden_before = await page.$eval('#followup', (element) => element.hidden);
  await checkCodename(page, spec.typo, '#replies-status.error', spec.timeout_ms);
  report.typo_text = await page.$eval('#replies-status', (element) => element.textContent);
  await checkCodename(page, spec.wrong, '#no-replies', spec.timeout_ms);
  report.no_replies_text = await page.$eval('#no-replies', (element) => element.textContent);
  const started = Date.now();
  await checkCodename(page, spec.codename, '#replies article', spec.timeout_ms);
  // Each reply shows once opened (one may wait for libsodium): wait for all of them.
  await page.waitForFunction(
    (n) => document.querySelectorAll('#replies article').length >= n,
    { timeout: spec.timeout_ms, polling: 50 },
    spec.replies || 1,
  );
  report.check_ms = Date.now() - started; // derive, list, fetch and open, in the browser
  report.replies = await page.$$eval('#replies article .reply-text', (list) =>
    list.map((element) => element.textContent),
  );
  // Every reply is deleted, one after the other (each from the mailbox it is in).
  for (let left = report.replies.length; left > 0; left -= 1) {
    await page.click('#replies article button.delete');
    // Deleting asks first; nothing goes until the person confirms.
    report.still_there_after_first_press = (await page.$$('#replies article')).length === left;
    await page.click('#replies article button.delete-yes');
    await page.waitForFunction(
      (n) => document.querySelectorAll('#replies article').length < n,
      { timeout: spec.timeout_ms, polling: 100 },
      left,
    );
  }
  report.deleted_text = await page.$eval('#replies-status', (element) => element.textContent);
}

async function run(spec) {
  const browser = await launch({ ...spec, browser: 'firefox' });
  const report = { requests: [], console: [], errors: [] };
  try {
    const page = await browser.newPage();
    page.on('request', (request) => report.requests.push(request.url()));
    page.on('console', (message) => report.console.push(message.text()));
    page.on('pageerror', (error) => report.errors.push(String(error.message || error)));
    page.setDefaultTimeout(spec.timeout_ms);
    const scripted = spec.level !== 'safest';
    if (spec.step === 'submit') await submit(page, spec, scripted, report);
    else if (spec.step === 'manage') await manage(page, spec, report);
    else await followUp(page, spec, scripted, report);
  } catch (error) {
    process.stderr.write(`${JSON.stringify({ ...report, requests: report.requests.slice(-20) })}\n`);
    throw error;
  } finally {
    await browser.close();
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
