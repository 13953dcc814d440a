'use strict';
// Runs the page's epoch-key code (intake/static/src/epochs.js) for test_epochs_js.py.
// Usage: node epochs.js SPEC.json; SPEC = {"recipients": [line], "served": {...} (as
// /api/v1/epochs), "cases": [{"device_now": "YYYY-MM-DDTHH:00Z"}], "verify": [{"statement",
// "reviewer", "signing_key"}]}. Prints {"chosen": [[line]], "verified": [epochs | error]}.
const fs = require('node:fs');
const epochs = require('../../intake/static/src/epochs.js');

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const chosen = [];
  for (const item of spec.cases) {
    const now = epochs.parseHour(item.device_now) + (item.plus_minutes || 0) * 60000;
    chosen.push(await epochs.chooseRecipients(spec.recipients, spec.served, now));
  }
  const verified = [];
  for (const item of spec.verify) {
    try {
      const found = await epochs.verifyStatement(item.statement, item.reviewer, item.signing_key);
      verified.push(found.map((epoch) => epoch.line));
    } catch (error) {
      if (!(error instanceof epochs.StatementError)) throw error;
      verified.push({ error: error.kind });
    }
  }
  process.stdout.write(JSON.stringify({ chosen, verified }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
