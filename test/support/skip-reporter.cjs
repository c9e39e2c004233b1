// Lists, at the end of a run, the suites skipped because this machine lacks a tool, with their reason. Jest prints
// nothing of a test file whose tests were all skipped, so a reason logged there is lost in a full run.
// The skipping suites append their line to the file this reporter names in ACCESSWEAVER_SKIP_LOG (the workers
// inherit it: reporters are made before the workers start). CommonJS: Jest loads reporters with require.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

class SkipReporter {
  constructor() {
    this.file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aw-skips-')), 'skipped.log');
    process.env.ACCESSWEAVER_SKIP_LOG = this.file;
  }

  onRunComplete() {
    const text = fs.existsSync(this.file) ? fs.readFileSync(this.file, 'utf8') : '';
    fs.rmSync(path.dirname(this.file), { recursive: true, force: true });
    const reasons = [...new Set(text.split('\n').filter(Boolean))];
    if (reasons.length > 0) {
      process.stderr.write(`\nSkipped on this machine:\n${reasons.map((line) => `  ${line}`).join('\n')}\n`);
    }
  }
}

module.exports = SkipReporter;
