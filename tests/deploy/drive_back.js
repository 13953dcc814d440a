'use strict';
// A person at Tor Browser's Safest level (Firefox ESR, no JavaScript) types a message, the
// stack refuses the post before the app sees it (nginx's own page), the person reads the page
// and goes Back, on a phone-sized window. Reports the refusal page, its layout and what the
// form holds afterwards, as JSON.
// Usage: node drive_back.js URL MESSAGE; it waits for a line on stdin between typing and
// sending (the test takes the app down) and between the refusal and Back (the app is back). Run by tests/deploy/test_nginx_back.py.
const readline = require('node:readline');
const { launch } = require('../browser/browsers.js');

async function main() {
  const [url, message] = process.argv.slice(2);
  const browser = await launch({ browser: 'firefox', level: 'safest' });
  const report = {};
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 390, height: 844 }); // a phone
    await page.goto(`${url}/?lang=ru`, { waitUntil: 'load' });
    await page.focus('#message');
    await page.keyboard.type(message);
    process.stdout.write('typed\n');
    const lines = readline.createInterface({ input: process.stdin });
    await new Promise((resolve) => lines.once('line', resolve));
    const navigation = page.waitForNavigation({ timeout: 60000 });
    await page.focus('#send');
    await page.keyboard.press('Enter');
    await navigation;
    report.refusal = await page.content();
    report.layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      fontPx: parseFloat(getComputedStyle(document.body).fontSize),
    }));
    if (process.env.SEALDROP_BACK_SCREENSHOT) {
      await page.screenshot({ path: process.env.SEALDROP_BACK_SCREENSHOT });
    }
    process.stdout.write('refused\n');
    await new Promise((resolve) => lines.once('line', resolve));
    await page.goBack({ waitUntil: 'load', timeout: 60000 });
    report.kept = await page.$eval('#message', (element) => element.value);
  } finally {
    await browser.close();
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
