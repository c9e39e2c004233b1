import {
  CloudWatchServiceException,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DBInstanceNotFoundFault, DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createMigratedDatabase, withConnection, type MigratedDatabase } from '../db/fixtures';
import { cloudwatchMock, primaryInstance, rdsMock, resetAwsMocks, secretsMock, sent } from './support/aws';
import { runCli } from './support/harness';

const PRIMARY = 'accessweaver-prod-primary';
const CPU_ALARM_NAME = 'accessweaver-prod-rds-high-cpu';
const KEY_SECRET = 'accessweaver-prod-tenant-context-key';

/** The key secret's versions: the current one stored `storedAt`, a previous one long before. */
function withKeyStored(storedAt: string): void {
  secretsMock.on(ListSecretVersionIdsCommand, { SecretId: KEY_SECRET }).resolves({
    Versions: [
      { VersionId: 'previous', VersionStages: ['AWSPREVIOUS'], CreatedDate: new Date('2025-01-01T00:00:00Z') },
      { VersionId: 'current', VersionStages: ['AWSCURRENT'], CreatedDate: new Date(storedAt) },
    ],
  });
}
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('aw_cli_health');
});

afterAll(async () => {
  await db.drop();
});

function withCpu(datapoints: { Timestamp: Date; Average: number; Maximum: number }[]): void {
  cloudwatchMock.on(GetMetricStatisticsCommand).resolves({ Label: 'CPUUtilization', Datapoints: datapoints });
}

/** The module's CPU alarm as deployed: `threshold` is what the caller's instance_overrides made it. */
function withCpuAlarm(threshold: number): void {
  cloudwatchMock.on(DescribeAlarmsCommand, { AlarmNames: [CPU_ALARM_NAME] }).resolves({
    MetricAlarms: [
      { AlarmName: CPU_ALARM_NAME, MetricName: 'CPUUtilization', Threshold: threshold, EvaluationPeriods: 2 },
    ],
  });
}

beforeEach(() => {
  resetAwsMocks();
  withCpuAlarm(80);
  rdsMock
    .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: PRIMARY })
    .resolves({ DBInstances: [primaryInstance()] });
  withCpu([
    { Timestamp: new Date('2026-03-14T02:20:00Z'), Average: 35, Maximum: 61 },
    { Timestamp: new Date('2026-03-14T02:25:00Z'), Average: 30, Maximum: 40 },
  ]);
  withKeyStored('2026-02-01T00:00:00Z');
});

type Check = { check: string; status: string; detail: string };
const checksOf = (stdout: string): Record<string, Check> =>
  Object.fromEntries((JSON.parse(stdout).checks as Check[]).map((c) => [c.check, c]));

describe('health-check, login settings', () => {
  let migrated: MigratedDatabase;

  beforeAll(async () => {
    migrated = await createMigratedDatabase();
  });
  afterAll(async () => {
    await migrated.drop();
  });

  test('accepts exactly the settings the migrations make on the logins', async () => {
    const result = await runCli(['health-check', '--env', 'prod', '--database-url', migrated.url, '--json']);
    expect(checksOf(result.stdout)['login settings']).toEqual({
      check: 'login settings',
      status: 'ok',
      detail: 'only the settings the migrations make',
    });
    expect(checksOf(result.stdout)['login limits']).toMatchObject({ status: 'ok' });
  });

  // The test server does not load pg_cron: the migrations could not schedule the watchdog.
  test('is unhealthy, exit 1, when pg_cron does not run the login watchdog', async () => {
    const result = await runCli(['health-check', '--env', 'prod', '--database-url', migrated.url, '--json']);
    expect(result.code).toBe(1);
    expect(checksOf(result.stdout)['login watchdog']).toMatchObject({ status: 'fail' });
    expect(checksOf(result.stdout)['login watchdog'].detail).toMatch(/^not scheduled: .*cron\.database_name/);
  });

  test('reports a login idle in a transaction past the bound, whatever timeout it set for itself', async () => {
    await withConnection(migrated.url, (client) =>
      client.query(`ALTER DATABASE ${migrated.name} SET idle_in_transaction_session_timeout = '100ms'`),
    );
    try {
      await withConnection(migrated.appUrl, async (client) => {
        await client.query('SET idle_in_transaction_session_timeout = 0');
        await client.query('BEGIN');
        await new Promise((resolve) => setTimeout(resolve, 200));
        const result = await runCli(['health-check', '--env', 'prod', '--database-url', migrated.url, '--json']);
        expect(checksOf(result.stdout)['login limits']).toMatchObject({ status: 'fail' });
        expect(checksOf(result.stdout)['login limits'].detail).toMatch(
          /^accessweaver_app: idle in transaction for \d+ s \(idle_in_transaction_session_timeout is 100 ms\)$/,
        );
        await client.query('ROLLBACK');
      });
    } finally {
      await withConnection(migrated.url, (client) =>
        client.query(`ALTER DATABASE ${migrated.name} RESET idle_in_transaction_session_timeout`),
      );
    }
  });

  test('reports a work_mem a login stored for itself', async () => {
    const scoped = `ALTER ROLE accessweaver_app IN DATABASE ${migrated.name}`;
    await withConnection(migrated.appUrl, (client) => client.query(`${scoped} SET work_mem = '2000GB'`));
    try {
      const result = await runCli(['health-check', '--env', 'prod', '--database-url', migrated.url, '--json']);
      expect(checksOf(result.stdout)['login limits'].detail).toBe(
        `accessweaver_app: stored setting (work_mem=2000GB (database ${migrated.name}))`,
      );
    } finally {
      await withConnection(migrated.url, (client) => client.query(`${scoped} RESET work_mem`));
    }
  });

  // Scoped to this suite's database: logins are cluster-wide and other suites use them meanwhile.
  test.each([
    ['accessweaver_app', 'row_security', 'off'],
    ['accessweaver_readonly', 'default_transaction_read_only', 'off'],
    ['accessweaver_app', 'search_path', 'public'],
  ])('is unhealthy, exit 1, when %s stores %s = %s for itself', async (login, name, value) => {
    const scoped = `ALTER ROLE ${login} IN DATABASE ${migrated.name}`;
    const asLogin = login === 'accessweaver_app' ? migrated.appUrl : migrated.readonlyUrl;
    // A login may store settings for itself: that is the finding.
    // (ALTER ROLE is refused in the read-only login's default read-only transactions; a session SET lifts that.)
    await withConnection(asLogin, async (client) => {
      await client.query('SET default_transaction_read_only = off');
      await client.query(`${scoped} SET ${name} = ${value}`);
    });
    try {
      const result = await runCli(['health-check', '--env', 'prod', '--database-url', migrated.url, '--json']);
      expect(result.code).toBe(1);
      expect(checksOf(result.stdout)['login settings']).toMatchObject({ status: 'fail' });
      expect(checksOf(result.stdout)['login settings'].detail).toContain(
        `${login}: ${name}=${value} (database ${migrated.name})`,
      );
    } finally {
      await withConnection(migrated.url, (client) => client.query(`${scoped} RESET ${name}`));
      if (name === 'search_path') {
        await withConnection(migrated.url, (client) =>
          client.query(`${scoped} SET search_path = accessweaver, public`),
        );
      }
    }
  });
});

describe('health-check', () => {
  test('passes, exit 0, when the instance, its security groups, CPU and the connection are fine', async () => {
    const result = await runCli(['health-check', '--env', 'prod', '--database-url', db.url, '--json']);
    expect(result.code).toBe(0);
    // An empty database has no login watchdog to judge.
    expect(Object.values(checksOf(result.stdout)).map((c) => c.status)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'skipped',
      'skipped',
    ]);
  });

  test('fails, exit 1, when the current tenant-context key was stored more than 90 days ago', async () => {
    withKeyStored('2025-12-13T00:00:00Z'); // 91 days before the clock's 2026-03-14
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
    expect(result.code).toBe(1);
    expect(checksOf(result.stdout)['tenant-context key age']).toEqual({
      check: 'tenant-context key age',
      status: 'fail',
      detail: 'current key stored 2025-12-13T00:00:00.000Z, 91 days ago (at most 90: run rotate-tenant-context-key)',
    });
  });

  test('a key stored 90 days ago is still within the policy', async () => {
    withKeyStored('2025-12-14T00:00:00Z');
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
    expect(checksOf(result.stdout)['tenant-context key age'].status).toBe('ok');
  });

  test("judges the key's age from version metadata, never reading the key", async () => {
    await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
    expect(sent(secretsMock).map(([command]) => command)).toEqual(['ListSecretVersionIdsCommand']);
  });

  test("asks CloudWatch for the last hour's CPU average and maximum of the primary", async () => {
    await runCli(['health-check', '--env', 'prod', '--no-connect']);
    expect(sent(cloudwatchMock)).toEqual([
      ['DescribeAlarmsCommand', { AlarmNames: [CPU_ALARM_NAME] }],
      [
        'GetMetricStatisticsCommand',
        {
          Namespace: 'AWS/RDS',
          MetricName: 'CPUUtilization',
          Dimensions: [{ Name: 'DBInstanceIdentifier', Value: PRIMARY }],
          StartTime: new Date('2026-03-14T01:30:00.000Z'),
          EndTime: new Date('2026-03-14T02:30:00.000Z'),
          Period: 300,
          Statistics: ['Average', 'Maximum'],
        },
      ],
    ]);
  });

  test('reports the latest 5-minute average, whatever order CloudWatch returns the datapoints in', async () => {
    withCpu([
      { Timestamp: new Date('2026-03-14T02:25:00Z'), Average: 50, Maximum: 95 },
      { Timestamp: new Date('2026-03-14T01:35:00Z'), Average: 10, Maximum: 12 },
      { Timestamp: new Date('2026-03-14T02:00:00Z'), Average: 30, Maximum: 40 },
    ]);
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
    expect(checksOf(result.stdout)['cpu (last hour)'].detail).toBe(
      'latest 5-min average 50.00%, hour average 30.00%, hour maximum 95.00% (alarm: average above 80% for 10 min)',
    );
  });

  test(
    "fails, exit 1, when CPU is in the module's alarm " + 'condition: two 5-minute averages above the threshold',
    async () => {
      withCpu([
        { Timestamp: new Date('2026-03-14T02:20:00Z'), Average: 85, Maximum: 99 },
        { Timestamp: new Date('2026-03-14T02:25:00Z'), Average: 81, Maximum: 90 },
      ]);
      const result = await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
      expect(result.code).toBe(1);
      expect(checksOf(result.stdout)['cpu (last hour)'].status).toBe('fail');
    },
  );

  test("judges CPU against the deployed alarm's threshold, not the environment table's", async () => {
    withCpuAlarm(50);
    withCpu([
      { Timestamp: new Date('2026-03-14T02:20:00Z'), Average: 55, Maximum: 60 },
      { Timestamp: new Date('2026-03-14T02:25:00Z'), Average: 60, Maximum: 70 },
    ]);
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
    expect(result.code).toBe(1);
    expect(checksOf(result.stdout)['cpu (last hour)'].detail).toContain('(alarm: average above 50% for 10 min)');
  });

  test("falls back to the environment table's threshold, saying so, when the alarm is not deployed", async () => {
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
    expect(checksOf(result.stdout)['cpu (last hour)'].detail).toMatch(
      new RegExp(`above 80% for 10 min\\); alarm ${CPU_ALARM_NAME} not found; judged against the environment table`),
    );
  });

  test('falls back, naming the refusal, when the alarm cannot be read', async () => {
    cloudwatchMock.on(DescribeAlarmsCommand).rejects(
      new CloudWatchServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: {},
        message: 'not allowed',
      }),
    );
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
    expect(result.code).toBe(0);
    expect(checksOf(result.stdout)['cpu (last hour)'].detail).toContain(
      `DescribeAlarms ${CPU_ALARM_NAME}: AccessDenied: not allowed; judged against the environment table's 80%`,
    );
  });

  test('reads the alarm by the name the module gives it', async () => {
    const module = JSON.parse(readFileSync(path.resolve(__dirname, '../../modules/rds/main.tf.json'), 'utf8'));
    const alarmName: string = module.resource.aws_cloudwatch_metric_alarm.high_cpu.alarm_name;
    await runCli(['health-check', '--env', 'prod', '--no-connect']);
    expect(sent(cloudwatchMock)[0]).toEqual([
      'DescribeAlarmsCommand',
      { AlarmNames: [alarmName.replace('${local.name_prefix}', 'accessweaver-prod')] },
    ]);
  });

  test('passes a single 5-minute spike above the threshold, as the alarm does', async () => {
    withCpu([
      { Timestamp: new Date('2026-03-14T02:20:00Z'), Average: 40, Maximum: 60 },
      { Timestamp: new Date('2026-03-14T02:25:00Z'), Average: 95, Maximum: 99 },
    ]);
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
    expect(result.code).toBe(0);
    expect(checksOf(result.stdout)['cpu (last hour)'].status).toBe('ok');
  });

  test('fails when the instance is not available', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: PRIMARY })
      .resolves({ DBInstances: [primaryInstance({ DBInstanceStatus: 'storage-full' })] });
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
    expect(result.code).toBe(1);
    expect(checksOf(result.stdout)['instance status']).toMatchObject({ status: 'fail', detail: 'storage-full' });
  });

  test('fails when a security group is not active', async () => {
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: PRIMARY }).resolves({
      DBInstances: [
        primaryInstance({ VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0db0000000000001', Status: 'inactive' }] }),
      ],
    });
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
    expect(result.code).toBe(1);
    expect(checksOf(result.stdout)['security groups']).toMatchObject({
      status: 'fail',
      detail: 'sg-0db0000000000001 inactive',
    });
  });

  test('fails, with the reason, when the database cannot be reached', async () => {
    const result = await runCli([
      'health-check',
      '--env',
      'prod',
      '--database-url',
      'postgres://accessweaver_app:x@127.0.0.1:1/accessweaver',
      '--json',
    ]);
    expect(result.code).toBe(1);
    expect(checksOf(result.stdout).connection.detail).toMatch(
      /^Cannot connect to accessweaver_app@127\.0\.0\.1:1\/accessweaver/,
    );
  });

  test('with --login app, tests the connection as the application login from its secret, over TLS', async () => {
    const caBundle = path.join(mkdtempSync(path.join(os.tmpdir(), 'aw-cli-ca-')), 'bundle.pem');
    writeFileSync(caBundle, '');
    const server = new URL(db.url);
    secretsMock.on(GetSecretValueCommand, { SecretId: 'accessweaver-prod-app-db-credentials' }).resolves({
      SecretString: JSON.stringify({
        username: 'accessweaver_app',
        password: 'pw',
        host: server.hostname,
        port: Number(server.port),
        dbname: db.name,
        engine: 'postgres',
      }),
    });
    const result = await runCli(['health-check', '--env', 'prod', '--login', 'app', '--ca-bundle', caBundle, '--json']);
    expect(sent(secretsMock).filter(([command]) => command === 'GetSecretValueCommand')).toEqual([
      ['GetSecretValueCommand', { SecretId: 'accessweaver-prod-app-db-credentials' }],
    ]);
    expect(checksOf(result.stdout).connection.detail).toMatch(
      /accessweaver_app@.*\(sslmode=verify-full\): The server does not support SSL connections/,
    );
  });

  test('skips the connection test with --no-connect', async () => {
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect', '--json']);
    expect(result.code).toBe(0);
    expect(checksOf(result.stdout).connection.status).toBe('skipped');
  });

  test('exits 4 when the primary does not exist', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: PRIMARY })
      .rejects(new DBInstanceNotFoundFault({ message: `DBInstance ${PRIMARY} not found.`, $metadata: {} }));
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`DBInstance ${PRIMARY} not found.`);
  });

  test('prints the instance and a check table for a person', async () => {
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect']);
    expect(result.stdout).toMatch(/^Class\s+db\.r6g\.large$/m);
    expect(result.stdout).toMatch(/^security groups\s+ok\s+sg-0db0000000000001 active$/m);
    expect(result.stdout).toMatch(/^Healthy\.$/m);
  });
});

describe('AWS failures', () => {
  test('no AWS credentials is "unreachable", exit 4, with a hint', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .rejects(
        Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      );
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(
      /CredentialsProviderError: Could not load credentials.*check AWS credentials, AWS_REGION\/--region/,
    );
  });

  test('an access denial is a failed operation, exit 1, naming the call', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .rejects(
        Object.assign(new Error('User is not authorized to perform rds:DescribeDBInstances'), { name: 'AccessDenied' }),
      );
    const result = await runCli(['health-check', '--env', 'prod', '--no-connect']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`DescribeDBInstances ${PRIMARY}: AccessDenied: User is not authorized`);
  });
});
