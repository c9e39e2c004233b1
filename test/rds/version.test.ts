import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MODULE_VERSION } from '../../src/rds/version';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

test('the version is semantic (major.minor.patch)', () => {
  expect(MODULE_VERSION).toMatch(/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/);
});

test("the changelog's latest release is the module's version, so a release cannot ship without its entry", () => {
  const [latest] = [...read('CHANGELOG.md').matchAll(/^## (\S+) \(\d{4}-\d{2}-\d{2}\)$/gm)].map((m) => m[1]);
  expect(latest).toBe(MODULE_VERSION);
});

test('modules/rds gives its version to callers: the module_version output and the README', () => {
  const outputs = JSON.parse(read('modules/rds/outputs.tf.json')).output;
  expect(outputs.module_version.value).toBe(`\${"${MODULE_VERSION}"}`);
  expect(read('modules/rds/README.md')).toContain(`**Version ${MODULE_VERSION}**`);
});
