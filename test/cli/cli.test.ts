import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { version } from '../../package.json';
import { runCli } from './support/harness';

describe('accessweaver-rds program', () => {
  test('--help lists every subcommand and the exit codes, exit 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['health-check', 'maintenance', 'restore', 'scale', 'setup-database', 'monitoring']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(result.stdout).toMatch(/Exit codes: 0 ok, 1 operation failed or unhealthy, 2 usage error, 3 refused/);
  });

  test('an unknown subcommand is a usage error, exit 2', async () => {
    const result = await runCli(['vacuum']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'vacuum'/);
  });

  test('an unknown option is a usage error, exit 2', async () => {
    const result = await runCli(['health-check', '--env', 'dev', '--force']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--force'/);
  });

  test('an unknown maintenance operation is a usage error, exit 2', async () => {
    const result = await runCli(['maintenance', 'analyze']);
    expect(result.code).toBe(2);
  });

  test('an invalid --login is a usage error, exit 2', async () => {
    const result = await runCli(['maintenance', 'stats', '--login', 'root']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Allowed choices are operator, app, readonly/);
  });

  test('the installed bin runs the TypeScript entry point', () => {
    const bin = path.resolve(__dirname, '../../bin/accessweaver-rds.js');
    const child = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(child.status).toBe(0);
    expect(child.stdout).toMatch(/^Usage: accessweaver-rds/);
  });

  test('the installed bin exits with the command exit code', () => {
    const bin = path.resolve(__dirname, '../../bin/accessweaver-rds.js');
    const child = spawnSync(process.execPath, [bin, 'scale', '--env', 'qa', '--instance-class', 'db.r6g.xlarge'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.status).toBe(2);
    expect(child.stderr).toContain("error: Environment must be dev, staging, or prod. Got 'qa'.");
  });
});

describe('--json failures', () => {
  test('a failure under --json is also a JSON document on stdout, with the exit code', async () => {
    const result = await runCli(['scale', '--env', 'qa', '--instance-class', 'db.r6g.xlarge', '--json']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      error: "Environment must be dev, staging, or prod. Got 'qa'.",
      exitCode: 2,
    });
  });

  test('a parse error under --json is also a JSON document, exit 2', async () => {
    const result = await runCli(['maintenance', 'stats', '--json', '--limit', '3']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({ error: "error: unknown option '--limit'", exitCode: 2 });
  });
});

test('--version prints the package version, exit 0', async () => {
  const result = await runCli(['--version']);
  expect([result.code, result.stdout.trim()]).toEqual([0, version]);
});
