import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PROJECT_ROOT } from './support';

const packageJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};
const cdktfJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdktf.json'), 'utf8')) as { app: string };

// The CDKTF CLI reads CHECKPOINT_DISABLE from its own environment only (cdktf.json has no such setting, and the app
// runs in a child process): every script that starts it must set it, or it reports to checkpoint-api.hashicorp.com.
test('every npm script that runs the cdktf CLI disables its telemetry', () => {
  const invocations = Object.entries(packageJson.scripts).flatMap(([name, script]) =>
    script
      .split(/&&|\|\||;/)
      .map((part) => part.trim())
      .filter((part) => /^(\w+=\S*\s+)*cdktf(\s|$)/.test(part))
      .map((part) => ({ name, part })),
  );
  expect(invocations.length).toBeGreaterThanOrEqual(4);
  expect(invocations.filter(({ part }) => !part.startsWith('CHECKPOINT_DISABLE=1 cdktf'))).toEqual([]);
});

// DEP0044: cdktf's TerraformOutput calls util.isArray, deprecated at run time from Node.js 22; the CLI would log the
// warning as an [ERROR] line on every synth. Only that warning is silenced.
test('the app command starts main.ts with node and the tsx loader, without npx, silencing DEP0044 alone', () => {
  const [command, ...args] = cdktfJson.app.split(/\s+/);
  expect(command).toBe('node');
  expect(args.at(-1)).toBe('main.ts');
  expect(args.join(' ')).toContain('--import tsx');
  expect(args.filter((arg) => arg.startsWith('--disable-warning') || arg === '--no-warnings')).toEqual([
    '--disable-warning=DEP0044',
  ]);
});

// A TF_CLI_CONFIG_FILE naming a missing file makes every terraform call the CDKTF CLI makes print "There are some
// problems with the CLI configuration" as [ERROR] lines: the scripts drop such a value before starting it.
const CLI_CONFIG_GUARD = '[ -f "$TF_CLI_CONFIG_FILE" ] || unset TF_CLI_CONFIG_FILE; ';

test('every npm script that starts the cdktf CLI first drops a TF_CLI_CONFIG_FILE naming no file', () => {
  const starting = Object.entries(packageJson.scripts).filter(([, script]) =>
    /(^|[;&|]\s*)(\w+=\S*\s+)*cdktf(\s|$)/.test(script),
  );
  expect(starting.length).toBeGreaterThanOrEqual(4);
  expect(starting.filter(([, script]) => !script.startsWith(CLI_CONFIG_GUARD)).map(([name]) => name)).toEqual([]);
});

test.each([
  ['a missing file is dropped', path.join(os.tmpdir(), 'aw-no-such-terraform.rc'), '(unset)'],
  ['an existing file is kept', path.join(PROJECT_ROOT, 'package.json'), path.join(PROJECT_ROOT, 'package.json')],
])('the guard: %s', (_case, file, seen) => {
  const result = spawnSync('sh', ['-c', `${CLI_CONFIG_GUARD}printf %s "\${TF_CLI_CONFIG_FILE-(unset)}"`], {
    encoding: 'utf8',
    env: { ...process.env, TF_CLI_CONFIG_FILE: file },
  });
  expect(result.stdout).toBe(seen);
});
