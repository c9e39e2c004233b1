import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { cloudwatchMock, resetAwsMocks, sent, sentNames } from './support/aws';
import { runCli } from './support/harness';
import { applyMigrations, execute } from './support/schema';

const PRIMARY = 'accessweaver-staging-primary';
const dimensions = [{ Name: 'DBInstanceIdentifier', Value: PRIMARY }];
const metric = (Id: string, MetricName: string) => ({
  Id,
  MetricStat: { Metric: { Namespace: 'AWS/RDS', MetricName, Dimensions: dimensions }, Period: 60, Stat: 'Average' },
});
const at = (minute: number) => new Date(Date.UTC(2026, 2, 14, 2, minute));

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('aw_cli_monitor');
  await applyMigrations(db.url);
  await execute(
    db.url,
    `INSERT INTO accessweaver.tenants (name, subdomain) SELECT 'T' || g, 'mon-' || g FROM generate_series(1, 4) g`,
    'SELECT pg_stat_force_next_flush()',
  );
});

afterAll(async () => {
  await db.drop();
});

beforeEach(() => {
  resetAwsMocks();
  cloudwatchMock.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'cpu', Values: [42.5, 20, 30], Timestamps: [at(29), at(28), at(27)], StatusCode: 'Complete' },
      { Id: 'connections', Values: [17], Timestamps: [at(29)], StatusCode: 'Complete' },
      { Id: 'freeable_memory', Values: [3 * 2 ** 30], Timestamps: [at(29)], StatusCode: 'Complete' },
      { Id: 'free_storage', Values: [], Timestamps: [], StatusCode: 'Complete' },
      { Id: 'read_latency', Values: [0.0012], Timestamps: [at(29)], StatusCode: 'Complete' },
      { Id: 'write_latency', Values: [0.0031], Timestamps: [at(29)], StatusCode: 'Complete' },
    ],
  });
});

describe('monitoring', () => {
  test('asks CloudWatch for the primary metrics of the window, newest first', async () => {
    await runCli(['monitoring', '--env', 'staging', '--no-sql', '--minutes', '15']);
    expect(sent(cloudwatchMock)).toEqual([
      [
        'GetMetricDataCommand',
        {
          StartTime: new Date('2026-03-14T02:15:00.000Z'),
          EndTime: new Date('2026-03-14T02:30:00.000Z'),
          ScanBy: 'TimestampDescending',
          MetricDataQueries: [
            metric('cpu', 'CPUUtilization'),
            metric('connections', 'DatabaseConnections'),
            metric('freeable_memory', 'FreeableMemory'),
            metric('free_storage', 'FreeStorageSpace'),
            metric('read_latency', 'ReadLatency'),
            metric('write_latency', 'WriteLatency'),
          ],
        },
      ],
    ]);
  });

  test('shows the latest value, the window average and maximum, and "no data" for an empty series', async () => {
    const result = await runCli(['monitoring', '--env', 'staging', '--no-sql']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^CPUUtilization\s+42\.50%\s+30\.83%\s+42\.50%\s+2026-03-14T02:29:00\.000Z$/m);
    expect(result.stdout).toMatch(/^FreeableMemory\s+3\.00 GiB/m);
    expect(result.stdout).toMatch(/^FreeStorageSpace\s+no data\s+no data\s+no data$/m);
    expect(result.stdout).toMatch(/^ReadLatency\s+1\.20 ms/m);
  });

  test('adds database size, sessions and the busiest tables from PostgreSQL', async () => {
    const result = await runCli(['monitoring', '--env', 'staging', '--database-url', db.url, '--json']);
    expect(result.code).toBe(0);
    const { database } = JSON.parse(result.stdout);
    expect(database.database).toBe(db.name);
    expect(database.sizeBytes).toBeGreaterThan(0);
    expect(database.connections).toBeGreaterThanOrEqual(1);
    expect(database.busiestTables[0]).toMatchObject({ table: 'accessweaver.tenants', totalChanges: 4 });
  });

  test('honours --top', async () => {
    const result = await runCli(['monitoring', '--env', 'staging', '--database-url', db.url, '--top', '2', '--json']);
    expect(JSON.parse(result.stdout).database.busiestTables).toHaveLength(2);
  });

  test('still prints the CloudWatch figures when the database is unreachable, and exits 4', async () => {
    const result = await runCli([
      'monitoring',
      '--env',
      'staging',
      '--database-url',
      'postgres://u:p@127.0.0.1:1/accessweaver',
    ]);
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/^CPUUtilization\s+42\.50%/m);
    expect(result.stderr).toMatch(/database figures unavailable: Cannot connect to u@127\.0\.0\.1:1\/accessweaver/);
  });

  test('still prints the database figures when CloudWatch is unreachable, and exits 4', async () => {
    cloudwatchMock
      .on(GetMetricDataCommand)
      .rejects(
        Object.assign(new Error('getaddrinfo ENOTFOUND monitoring.eu-west-3.amazonaws.com'), { code: 'ENOTFOUND' }),
      );
    const result = await runCli(['monitoring', '--env', 'staging', '--database-url', db.url]);
    expect(result.code).toBe(4);
    expect(result.stdout).toContain('CloudWatch figures unavailable (see below).');
    expect(result.stdout).toMatch(new RegExp(`^Database\\s+${db.name}$`, 'm'));
    expect(result.stdout).toMatch(/^accessweaver\.tenants\s+4\s/m);
    expect(result.stderr).toContain(
      'CloudWatch figures unavailable: GetMetricData: Error: getaddrinfo ENOTFOUND ' +
        'monitoring.eu-west-3.amazonaws.com ' +
        '(check AWS credentials, AWS_REGION/--region and network access)',
    );
  });

  test('exits 2 without --env, before calling CloudWatch', async () => {
    const result = await runCli(['monitoring', '--no-sql']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--env is required/);
    expect(sentNames(cloudwatchMock)).toEqual([]);
  });
});
