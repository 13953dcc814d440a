'use strict';
// Issue 20 in one real browser at phone size (390x844), as a person would, reporting what it
// saw as JSON on stdout (test_person_browser.py judges it). One browser session per level.
// Usage: node drive_person.js SPEC.json, SPEC = {"browser", "level", "url", "admin_url",
//   "lang", "codename" (has a reply), "empty_codename" (has none), "photo", "timeout_ms",
//   "throttle" (Chromium: throttle the upload and watch the status), "big_photo"}
//   language: the site's first page with no ?lang= (the browser's own Accept-Language), on the
//             plain server and on one whose SEALDROP_DEFAULT_LANGUAGE is ru;
//   way back: the codename copied down the old grid's columns, then a typo, then a
//             well-formed codename without replies;
//   photos:   (with JS) the photo sent as it is cleaned, then again with "keep" ticked;
//   resend:   (without JS) the confirmation reloaded (Firefox resends the post);
//   status:   (Chromium) the status and bar on the first screen during a throttled send.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch } = require('./browsers.js');

const PHONE = { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
const COLUMNS = [0, 2, 4, 6, 1, 3, 5, 7]; // 1 2 / 3 4 / ... copied down the columns

function unescape(text) {
  const entities = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&#34;': '"', '&#39;': "'", '&quot;': '"' };
  return text.replace(/&(lt|gt|amp|#34|#39|quot);/g, (entity) => entities[entity]);
}

function attribute(html, pattern) {
  const match = html.match(pattern);
  return match ? unescape(match[1]) : null;
}

// What the replies page shows, read from its markup (works with and without JavaScript).
async function repliesState(page) {
  const html = await page.content();
  const hidden = (id) => new RegExp(`id="${id}"[^>]*\\shidden`).test(html);
  return {
    reply_shown: /<article class="reply"/.test(html),
    reordered_shown: /id="reordered"/.test(html) && !hidden('reordered'),
    error: /id="replies-status"[^>]*class="error"/.test(html),
    no_replies: /id="no-replies"/.test(html),
    followup_hidden: /<section id="followup"[^>]*\shidden/.test(html),
    order_warning_shown: /id="followup-order-warning"/.test(html) && !hidden('followup-order-warning'),
    followup_codename: await page.$eval('#followup-codename', (e) => e.value).catch(() =>
      attribute(html, /id="followup-codename" name="codename" value="([^"]*)"/),
    ),
    typed: attribute(html, /<textarea id="codename-input"[^>]*>([^<]*)<\/textarea>/),
  };
}

async function check(page, spec, scripted, text) {
  if (scripted) {
    await page.$eval('#codename-input', (element) => {
      element.value = '';
    });
  }
  await page.focus('#codename-input');
  if (!scripted) {
    // Without JavaScript: select what is there and type over it.
    await page.keyboard.down('Control');
    await page.keyboard.press('a');
    await page.keyboard.up('Control');
  }
  await page.keyboard.type(text);
  if (scripted) {
    await page.click('#check');
    await page.waitForFunction(
      () => !document.getElementById('check').disabled &&
        document.getElementById('replies-status').textContent.indexOf('…') < 0,
      { timeout: spec.timeout_ms, polling: 100 },
    );
  } else {
    const navigation = page.waitForNavigation({ timeout: spec.timeout_ms });
    await page.focus('#check');
    await page.keyboard.press('Enter');
    await navigation;
  }
  const state = await repliesState(page);
  if (scripted) {
    state.typed = await page.$eval('#codename-input', (e) => e.value);
    state.followup_hidden = await page.$eval('#followup', (e) => e.hidden);
    state.reply_shown = (await page.$('#replies article.reply')) !== null;
    state.no_replies = (await page.$('#no-replies')) !== null;
  }
  return state;
}

// Runs in the page: the status line's text, and whether it is on the screen.
function statusSeen() {
  const status = document.getElementById('status');
  const box = status.getBoundingClientRect();
  const sent = document.getElementById('sent-section');
  return {
    text: status.textContent,
    error: status.classList.contains('error'),
    in_view: box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight,
    done: sent !== null && !sent.hidden,
  };
}

// Too large for the server (the admin server takes little): the refusal where one looks.
async function tooLarge(browser, spec) {
  const page = await newPage(browser, spec);
  await page.goto(`${spec.admin_url}/?lang=${spec.lang}`, { waitUntil: 'load' });
  await page.waitForSelector('#js-notice:not([hidden])');
  await page.type('#message', 'too much at once');
  await (await page.$('#attachments')).uploadFile(spec.big_photo);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.click('#send');
  await page.waitForSelector('#status.error', { timeout: spec.timeout_ms });
  const seen = await page.evaluate(statusSeen);
  await page.close();
  return seen;
}

async function wayBack(browser, spec, scripted) {
  const page = await newPage(browser, spec);
  await page.goto(`${spec.url}/replies?lang=${spec.lang}`, { waitUntil: 'load' });
  const words = spec.codename.split(' ');
  const seen = {};
  seen.columns = await check(page, spec, scripted, COLUMNS.map((i) => words[i]).join(' '));
  seen.typo = await check(page, spec, scripted, 'apple banana cherry');
  seen.empty = await check(page, spec, scripted, spec.empty_codename);
  if (!scripted) {
    // The language switch posts what is typed: the codename stays.
    const other = spec.lang === 'ru' ? 'en' : 'ru';
    const navigation = page.waitForNavigation({ timeout: spec.timeout_ms });
    await page.focus(`nav.languages button[lang="${other}"]`);
    await page.keyboard.press('Enter');
    await navigation;
    const html = await page.content();
    seen.switched = {
      lang: attribute(html, /<html lang="([^"]*)"/),
      typed: attribute(html, /<textarea id="codename-input"[^>]*>([^<]*)<\/textarea>/),
      url: page.url(),
    };
  }
  await page.close();
  return seen;
}

async function newPage(browser, spec) {
  const page = await browser.newPage();
  page.setDefaultTimeout(spec.timeout_ms);
  await page.setViewport(PHONE);
  page.on('dialog', (dialog) => dialog.accept());
  return page;
}

async function language(browser, spec) {
  const page = await newPage(browser, spec);
  const seen = {};
  await page.goto(`${spec.url}/`, { waitUntil: 'load' });
  seen.plain = await page.$eval('html', (e) => e.lang);
  await page.goto(`${spec.admin_url}/`, { waitUntil: 'load' });
  seen.admin = await page.$eval('html', (e) => e.lang);
  await page.goto(`${spec.admin_url}/?lang=en`, { waitUntil: 'load' });
  seen.admin_chosen = await page.$eval('html', (e) => e.lang);
  await page.close();
  return seen;
}

// Sends the photo with JavaScript; keep: tick "keep location and camera details".
async function sendPhoto(browser, spec, keep) {
  const page = await newPage(browser, spec);
  await page.goto(`${spec.url}/?lang=${spec.lang}`, { waitUntil: 'load' });
  await page.waitForSelector('#js-notice:not([hidden])');
  const seen = {};
  seen.strip_notice_before = await page.$eval('#strip-js', (e) => e.hidden);
  await page.type('#message', keep ? 'photo, kept as evidence' : 'photo, cleaned');
  const input = await page.$('#attachments');
  await input.uploadFile(spec.photo);
  seen.strip_notice_after = await page.$eval('#strip-js', (e) => e.hidden);
  seen.nojs_notice_hidden = await page.$eval('#strip-nojs', (e) => e.hidden);
  if (keep) await page.click('#keep-metadata');
  await page.click('#send');
  seen.status_after_send = await page.evaluate(statusSeen);
  await page.waitForSelector('#sent-section:not([hidden])', { timeout: spec.timeout_ms });
  seen.next_steps = await page.$$eval('#sent-section #next-steps a', (links) =>
    links.map((link) => new URL(link.href).pathname),
  );
  await page.close();
  return seen;
}

// Without JavaScript: send, reload the confirmation (Firefox resends the post), compare.
async function resend(browser, spec) {
  const page = await newPage(browser, spec);
  await page.goto(`${spec.url}/?lang=${spec.lang}`, { waitUntil: 'load' });
  await page.focus('#message');
  await page.keyboard.type('Сообщение, которое отправят дважды.');
  const navigation = page.waitForNavigation({ timeout: spec.timeout_ms });
  await page.focus('#send');
  await page.keyboard.press('Enter');
  await navigation;
  const first = await page.content();
  await page.reload({ timeout: spec.timeout_ms });
  const again = await page.content();
  const codename = (html) => attribute(html, /<code id="codename">([^<]*)<\/code>/);
  await page.close();
  return {
    first_codename: codename(first),
    again_codename: codename(again),
    first_says_again: first.includes('id="sent-again"'),
    again_says_again: again.includes('id="sent-again"'),
    next_steps: /id="send-another"/.test(again) && /id="check-replies"/.test(again),
  };
}

// Chromium: a send over a slow link (the server reads uploads slowly); samples the status
// line and bar where the person looks.
async function status(browser, spec) {
  const page = await newPage(browser, spec);
  await page.goto(`${spec.url}/?lang=${spec.lang}`, { waitUntil: 'load' });
  await page.waitForSelector('#js-notice:not([hidden])');
  await page.type('#message', 'a small photo on a slow link');
  const input = await page.$('#attachments');
  await input.uploadFile(spec.big_photo);
  // Scrolled to the top, as a person who reread what they wrote before sending.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.$eval('#send', (button) => button.click());
  const samples = [];
  for (;;) {
    const sample = await page.evaluate(() => {
      const status = document.getElementById('status');
      const bar = document.getElementById('progress');
      const box = status.getBoundingClientRect();
      const barBox = bar.getBoundingClientRect();
      const sent = document.getElementById('sent-section');
      return {
        text: status.textContent,
        status_in_view: box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight,
        bar_in_view: !bar.hidden && barBox.top >= 0 && barBox.bottom <= window.innerHeight,
        value: bar.hasAttribute('value') ? bar.value / bar.max : null,
        done: sent !== null && !sent.hidden,
      };
    });
    samples.push(sample);
    if (sample.done || samples.length > 400) break;
    await new Promise((resolve) => {
      setTimeout(resolve, 100);
    });
  }
  await page.close();
  return samples;
}

async function run(spec) {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealdrop-person-'));
  const browser = await launch(spec, profileDir);
  const scripted = spec.level !== 'safest';
  const report = {};
  try {
    report.language = await language(browser, spec);
    report.way_back = await wayBack(browser, spec, scripted);
    if (scripted) {
      report.cleaned = await sendPhoto(browser, spec, false);
      report.kept = await sendPhoto(browser, spec, true);
    } else {
      report.resend = await resend(browser, spec);
    }
    if (spec.throttle) {
      report.status = await status(browser, spec);
      report.too_large = await tooLarge(browser, spec);
    }
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
