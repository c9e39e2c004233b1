// Jest's node environment with a temporary directory of its own per test file, removed when the file is done:
// whatever a test or a library puts under os.tmpdir() (the CDKTF module asset copies of every synth, CA bundles,
// Terraform CLI configurations and plugin caches) goes with it, however the test ended. Enterable by others
// (0755), because as root the test PostgreSQL servers run as `postgres` and keep their data under it.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

class PrivateTmpEnvironment extends TestEnvironment {
  constructor(config, context) {
    const previous = process.env.TMPDIR;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aw-test-'));
    fs.chmodSync(dir, 0o755);
    // Set before the base class copies process.env for the test, so both see it.
    process.env.TMPDIR = dir;
    super(config, context);
    this.privateTmp = { dir, previous };
  }

  async teardown() {
    const { dir, previous } = this.privateTmp;
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    fs.rmSync(dir, { recursive: true, force: true });
    await super.teardown();
  }
}

module.exports = PrivateTmpEnvironment;
