'use strict';
// Drives one real browser through the submission form, as a person would, and reports what
// happened as JSON on stdout. Run by tests/browser/test_browsers.py.
// Usage: node drive.js SPEC.json, SPEC = {"browser": "firefox"|"chromium", "level":
//   "standard"|"safer"|"safest", "url", "lang", "message", "files": [paths], "timeout_ms",
//   "expect": "sent"|"error", "watch_status": bool, "measure_lag": bool,
//   "delete_before_send": [paths chosen in the form, then deleted before Send is pressed]}
// With "expect": "error" it waits until the form is usable again and reports #status.
// Tor Browser's security levels are Firefox ESR preferences, set in browsers.js.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { launch } = require('./browsers.js');

async function run(spec) {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sealdrop-chromium-'));
  const browser = await launch(spec, profileDir);
  const report = { requests: [], console: [], errors: [], statuses: [], level: spec.level };
  try {
    const page = await browser.newPage();
    page.on('request', (request) => report.requests.push(request.url()));
    page.on('console', (message) =>
      report.console.push({ type: message.type(), text: message.text() }),
    );
    page.on('pageerror', (error) => report.errors.push(String(error.message || error)));
    page.setDefaultTimeout(spec.timeout_ms);
    await page.goto(`${spec.url}/?lang=${spec.lang || 'en'}`, { waitUntil: 'load' });
    const scripted = spec.level !== 'safest';
    if (spec.measure_lag) {
      // The longest gap between 50 ms timer ticks while sending: main-thread responsiveness.
      report.max_lag_ms = 0;
      await page.exposeFunction('reportLag', (lag) => {
        report.max_lag_ms = Math.max(report.max_lag_ms, lag);
      });
      await page.evaluate(() => {
        let last = performance.now();
        setInterval(() => {
          const now = performance.now();
          window.reportLag(Math.round(now - last - 50));
          last = now;
        }, 50);
      });
    }
    if (spec.watch_status) {
      await page.exposeFunction('reportStatus', (text) => report.statuses.push(text));
      await page.evaluate(() => {
        const status = document.getElementById('status');
        new MutationObserver(() => window.reportStatus(status.textContent)).observe(status, {
          childList: true,
          characterData: true,
          subtree: true,
        });
      });
    }
    if (scripted) {
      report.webassembly = await page.evaluate(() => typeof WebAssembly);
      report.js_notice_hidden = await page.$eval('#js-notice', (element) => element.hidden);
    }
    // Typing and choosing files work without page script; so does Enter on a focused button.
    await page.focus('#message');
    await page.keyboard.type(spec.message);
    const input = await page.$('#attachments');
    await input.uploadFile(...spec.files);
    for (const file of spec.delete_before_send || []) fs.rmSync(file);
    const started = Date.now();
    if (spec.expect === 'error') {
      await page.click('#send');
      await page.waitForFunction(
        () =>
          !document.getElementById('send').disabled &&
          document.getElementById('status').textContent !== '',
        { timeout: spec.timeout_ms, polling: 100 },
      );
      report.status_text = await page.$eval('#status', (element) => element.textContent);
      report.status_class = await page.$eval('#status', (element) => element.className);
      report.progress_hidden = await page.$eval('#progress', (element) => element.hidden);
      report.final_url = page.url();
      return report;
    }
    // The JS path confirms in place (the codename must stay out of addresses); the no-JS
    // post navigates to the server's answer.
    const navigation = scripted
      ? page.waitForSelector('#sent-section:not([hidden])', { timeout: spec.timeout_ms })
      : page.waitForNavigation({ timeout: spec.timeout_ms });
    if (scripted) {
      await page.click('#send');
    } else {
      await page.focus('#send');
      await page.keyboard.press('Enter');
    }
    const response = await navigation;
    report.submit_ms = Date.now() - started;
    report.final_url = page.url();
    report.final_status = scripted || response === null ? null : response.status();
    if (scripted) {
      report.sent_text = await page.$eval('#sent-message', (element) => element.textContent);
    }
  } catch (error) {
    // What the page did before failing is the best clue to why.
    process.stderr.write(`${JSON.stringify({ ...report, requests: report.requests.slice(-20) })}\n`);
    throw error;
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
