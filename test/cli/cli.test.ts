import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { version } from '../../package.json';
import { backupMock, cloudwatchMock, ec2Mock, rdsMock, resetAwsMocks, secretsMock, sentNames } from './support/aws';
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

describe('an unknown --env is exit 2 in every command, even when --database-url makes it unnecessary', () => {
  const elsewhere = 'postgres://nobody:x@127.0.0.1:1/accessweaver';
  test.each([
    [['maintenance', 'stats', '--database-url', elsewhere]],
    [['maintenance', 'vacuum', '--database-url', elsewhere]],
    [['monitoring', '--database-url', elsewhere]],
    [['setup-database', '--database-url', elsewhere]],
    [['health-check', '--database-url', elsewhere]],
    [['restore', '--latest', '--dry-run']],
    [['scale', '--instance-class', 'db.r6g.xlarge', '--dry-run']],
  ])('%j --env qa', async (argv) => {
    const result = await runCli([...argv, '--env', 'qa']);
    expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: Environment must be dev, staging, or prod. Got 'qa'.\n",
    });
  });
});

describe('every argument is checked before any AWS or database call, with its hint, exit 2', () => {
  // Port 1 refuses connections: a command that reached the database would exit 4, not 2.
  const unreachable = 'postgres://nobody:x@127.0.0.1:1/accessweaver';
  const tenant = '00000000-0000-4000-8000-000000000000';
  beforeEach(resetAwsMocks);

  test.each([
    [
      ['restore-drill', '--env', 'prod', '--allow-from', 'banana', '--dry-run'],
      /argument 'banana' is invalid\. expected a security group ID \(sg-\.\.\.\) or an IPv4 CIDR/,
    ],
    [
      ['restore-drill', '--env', 'prod', '--allow-from', '10.0.300.1/32', '--dry-run'],
      /argument '10\.0\.300\.1\/32' is invalid/,
    ],
    [
      ['restore-drill', '--env', 'prod', '--allow-from', '10.0.1.15/32', '--yes'],
      /RDS CA bundle \(https:\/\/truststore\.pki\.rds\.amazonaws\.com\/global\/global-bundle\.pem\)\.$/,
    ],
    [
      ['audit', '--tenant', tenant, '--since', '2026-12-01', '--until', '2026-10-01', '--database-url', unreachable],
      /--since 2026-12-01T00:00:00\.000Z is not before --until \(2026-10-01T00:00:00\.000Z\)/,
    ],
    [
      ['maintenance', '--database-url', unreachable],
      /^error: maintenance needs a subcommand: vacuum, reindex, stats, connections, slow-queries/,
    ],
    [['--region', 'eu west 3', 'health-check', '--env', 'dev'], /'eu west 3' is not an AWS region name/],
    [['--region', 'eu-west-9', 'health-check', '--env', 'dev'], /'eu-west-9' is not a region of any AWS partition/],
    [
      ['restore-drill', '--env', 'prod', '--from-region', 'eu-west-9', '--allow-from', '10.0.1.15/32', '--dry-run'],
      /'eu-west-9' is not a region of any AWS partition/,
    ],
    [['health-check', '--env', 'dev'], /pass --ca-bundle <file> or set PGSSLROOTCERT/],
  ])('%j', async (argv, message) => {
    const result = await runCli(argv, { env: {} });
    expect({ code: result.code, firstLine: result.stderr.split('\n')[0] }).toEqual({
      code: 2,
      firstLine: expect.stringMatching(message),
    });
    for (const mock of [rdsMock, secretsMock, cloudwatchMock, ec2Mock, backupMock]) expect(sentNames(mock)).toEqual([]);
  });

  test('restore-drill never offers --database-url, which it does not take', async () => {
    const result = await runCli(['restore-drill', '--env', 'prod', '--allow-from', '10.0.1.15/32', '--yes']);
    expect(result.stderr).not.toMatch(/--database-url/);
  });
});

describe('the installed bin against AWS without a region or credentials (no network reached)', () => {
  const bin = path.resolve(__dirname, '../../bin/accessweaver-rds.js');
  /** The bin with nothing to find a region or credentials in, and the instance metadata service switched off. */
  function runBin(argv: readonly string[]) {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    for (const name of Object.keys(env)) {
      if (/^AWS_(REGION|DEFAULT_REGION|PROFILE|ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|SDK_JS_)/.test(name)) {
        delete env[name];
      }
    }
    return spawnSync(process.execPath, [bin, ...argv], { encoding: 'utf8', timeout: 60_000, env });
  }

  test('no region: one line saying how to give one, exit 2', () => {
    const child = runBin(['restore', '--env', 'prod', '--latest', '--dry-run']);
    expect({ status: child.status, stderr: child.stderr }).toEqual({
      status: 2,
      stderr:
        'error: DescribeDBInstances accessweaver-prod-primary: no AWS region. Pass --region (e.g. --region ' +
        'eu-west-3), ' +
        'or set AWS_REGION or a region in the AWS profile.\n',
    });
  });

  test('no credentials: one line, exit 4, and no SDK notice about Node.js versions', () => {
    const child = runBin(['restore', '--env', 'prod', '--latest', '--dry-run', '--region', 'eu-west-3']);
    expect(child.status).toBe(4);
    expect(child.stderr).toMatch(
      new RegExp(
        String.raw`^error: DescribeDBInstances accessweaver-prod-primary: CredentialsProviderError: ` +
          String.raw`.*\(check AWS credentials, AWS_REGION\/--region and network access\)\n$`,
      ),
    );
    expect(child.stderr).not.toMatch(/NodeVersionSupportWarning/);
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
