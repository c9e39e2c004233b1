import {
  CreateDBSnapshotCommand,
  DBInstanceNotFoundFault,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { KMS_KEY_ARN, primaryInstance, rdsMock, resetAwsMocks, sent, sentNames } from './support/aws';
import { FakeClock, runCli } from './support/harness';

// The fake clock starts at 2026-03-14T02:30:00Z, hence the 20260314-023000 suffixes.
const PRIMARY = 'accessweaver-prod-primary';
const SNAPSHOT = 'accessweaver-prod-emergency-20260314-023000';
const RESTORED = 'accessweaver-prod-restored-20260314-023000';
const RESTORE_TIME = '2026-03-14T01:55:00Z';

const EXPECTED_SNAPSHOT_INPUT = {
  DBInstanceIdentifier: PRIMARY,
  DBSnapshotIdentifier: SNAPSHOT,
  Tags: [
    { Key: 'Project', Value: 'accessweaver' },
    { Key: 'Environment', Value: 'prod' },
    { Key: 'Purpose', Value: 'emergency-restore' },
    { Key: 'CreatedBy', Value: 'accessweaver-rds' },
  ],
};

const EXPECTED_RESTORE_INPUT = {
  SourceDBInstanceIdentifier: PRIMARY,
  TargetDBInstanceIdentifier: RESTORED,
  RestoreTime: new Date(RESTORE_TIME),
  DBInstanceClass: 'db.r6g.large',
  DBSubnetGroupName: 'accessweaver-prod-db-subnet-group',
  VpcSecurityGroupIds: ['sg-0db0000000000001'],
  DBParameterGroupName: 'accessweaver-prod-pg-params',
  MultiAZ: true,
  PubliclyAccessible: false,
  StorageType: 'io1',
  Iops: 3000,
  DeletionProtection: true,
  CopyTagsToSnapshot: true,
  EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
  ManageMasterUserPassword: true,
  MasterUserSecretKmsKeyId: KMS_KEY_ARN,
  Tags: [
    { Key: 'Project', Value: 'accessweaver' },
    { Key: 'Environment', Value: 'prod' },
    { Key: 'RestoredFrom', Value: PRIMARY },
    { Key: 'RestoreTime', Value: '2026-03-14T01:55:00.000Z' },
    { Key: 'CreatedBy', Value: 'accessweaver-rds' },
  ],
};

const notFound = (id: string) => new DBInstanceNotFoundFault({ message: `DBInstance ${id} not found.`, $metadata: {} });

function mockHappyPath(): void {
  // Any other identifier (a new instance's name) does not exist yet.
  rdsMock.on(DescribeDBInstancesCommand).rejects(notFound('other'));
  rdsMock
    .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: PRIMARY })
    .resolves({ DBInstances: [primaryInstance()] });
  rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { DBSnapshotIdentifier: SNAPSHOT, Status: 'creating' } });
  rdsMock
    .on(DescribeDBSnapshotsCommand)
    .resolvesOnce({ DBSnapshots: [{ DBSnapshotIdentifier: SNAPSHOT, Status: 'creating', PercentProgress: 40 }] })
    .resolves({ DBSnapshots: [{ DBSnapshotIdentifier: SNAPSHOT, Status: 'available', PercentProgress: 100 }] });
  rdsMock
    .on(RestoreDBInstanceToPointInTimeCommand)
    .resolves({ DBInstance: { DBInstanceIdentifier: RESTORED, DBInstanceStatus: 'creating' } });
  rdsMock
    .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: RESTORED })
    // The pre-flight check that the name is free, then a first poll before the instance shows up.
    .rejectsOnce(notFound(RESTORED))
    .rejectsOnce(notFound(RESTORED))
    .resolvesOnce({ DBInstances: [{ DBInstanceIdentifier: RESTORED, DBInstanceStatus: 'creating' }] })
    .resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: RESTORED,
          DBInstanceStatus: 'available',
          Endpoint: { Address: 'restored.example.internal', Port: 5432 },
        },
      ],
    });
}

const MUTATIONS = ['CreateDBSnapshotCommand', 'RestoreDBInstanceToPointInTimeCommand'];

beforeEach(() => {
  resetAwsMocks();
  mockHappyPath();
});

describe('restore', () => {
  test('snapshots, waits, restores into the source network and waits for the new instance, in that order', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', RESTORE_TIME, '--yes']);
    expect(result.code).toBe(0);
    expect(sent(rdsMock)).toEqual([
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: PRIMARY }],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: RESTORED }],
      ['CreateDBSnapshotCommand', EXPECTED_SNAPSHOT_INPUT],
      ['DescribeDBSnapshotsCommand', { DBSnapshotIdentifier: SNAPSHOT }],
      ['DescribeDBSnapshotsCommand', { DBSnapshotIdentifier: SNAPSHOT }],
      ['RestoreDBInstanceToPointInTimeCommand', EXPECTED_RESTORE_INPUT],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: RESTORED }],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: RESTORED }],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: RESTORED }],
    ]);
  });

  test('prints the new endpoint and the manual next steps', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', RESTORE_TIME, '--yes']);
    expect(result.stdout).toMatch(/Endpoint\s+restored\.example\.internal:5432/);
    expect(result.stdout).toMatch(/Next steps \(manual\):/);
    expect(result.stdout).toMatch(/accessweaver-prod-app-db-credentials/);
  });

  test('shows each poll with its status and the elapsed time, sleeping between polls', async () => {
    const clock = new FakeClock();
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', RESTORE_TIME, '--yes'], { clock });
    expect(result.stderr).toContain(`waiting for snapshot ${SNAPSHOT}: creating 40% (0m00s elapsed)`);
    expect(result.stderr).toContain(`waiting for snapshot ${SNAPSHOT}: available (0m30s elapsed)`);
    expect(result.stderr).toContain(`waiting for ${RESTORED} available: not visible yet (0m00s elapsed)`);
    expect(result.stderr).toContain(`waiting for ${RESTORED} available: available (1m00s elapsed)`);
    expect(clock.sleeps).toEqual([30_000, 30_000, 30_000]);
  });

  test('restores to the latest restorable time with --latest', async () => {
    await runCli(['restore', '--env', 'prod', '--latest', '--yes']);
    const [, input] = sent(rdsMock).find(([name]) => name === 'RestoreDBInstanceToPointInTimeCommand') ?? [];
    expect(input).toMatchObject({ UseLatestRestorableTime: true });
    expect(input).not.toHaveProperty('RestoreTime');
  });

  test('uses --target-identifier for the new instance', async () => {
    await runCli([
      'restore',
      '--env',
      'prod',
      '--latest',
      '--target-identifier',
      'accessweaver-prod-incident-42',
      '--yes',
      '--no-wait',
    ]);
    const [, input] = sent(rdsMock).find(([name]) => name === 'RestoreDBInstanceToPointInTimeCommand') ?? [];
    expect(input).toMatchObject({ TargetDBInstanceIdentifier: 'accessweaver-prod-incident-42' });
  });

  test('does not wait for the new instance with --no-wait', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', RESTORE_TIME, '--yes', '--no-wait']);
    expect(result.code).toBe(0);
    expect(sentNames(rdsMock).at(-1)).toBe('RestoreDBInstanceToPointInTimeCommand');
  });

  test('reports a JSON document with --json', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', RESTORE_TIME, '--yes', '--json']);
    expect(JSON.parse(result.stdout)).toMatchObject({
      source: PRIMARY,
      snapshot: SNAPSHOT,
      restoredInstance: RESTORED,
      status: 'available',
      endpoint: 'restored.example.internal:5432',
      restoreTime: '2026-03-14T01:55:00.000Z',
    });
  });
});

describe('restore safety', () => {
  test('refuses without --yes when nobody can confirm, and changes nothing', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', RESTORE_TIME]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/Refusing to restore it without confirmation/);
    expect(sentNames(rdsMock)).toEqual(['DescribeDBInstancesCommand', 'DescribeDBInstancesCommand']);
  });

  test('refuses when the operator types something other than the identifier', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', RESTORE_TIME], {
      interactive: true,
      answers: ['y'],
    });
    expect(result.code).toBe(3);
    expect(result.questions).toEqual([`Type the instance identifier '${PRIMARY}' to restore it: `]);
    expect(sentNames(rdsMock).filter((n) => MUTATIONS.includes(n))).toEqual([]);
  });

  test('proceeds when the operator types the identifier', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', RESTORE_TIME], {
      interactive: true,
      answers: [PRIMARY],
    });
    expect(result.code).toBe(0);
    expect(sentNames(rdsMock).filter((n) => MUTATIONS.includes(n))).toEqual(MUTATIONS);
  });

  test('--dry-run prints the exact calls and makes only the read calls', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', RESTORE_TIME, '--dry-run', '--json']);
    expect(result.code).toBe(0);
    const { steps } = JSON.parse(result.stdout) as { steps: { operation: string; input?: unknown }[] };
    expect(steps.map((s) => s.operation)).toEqual([
      'CreateDBSnapshot',
      'wait',
      'RestoreDBInstanceToPointInTime',
      'wait',
    ]);
    expect(steps[0].input).toEqual(EXPECTED_SNAPSHOT_INPUT);
    expect(steps[2].input).toEqual({ ...EXPECTED_RESTORE_INPUT, RestoreTime: '2026-03-14T01:55:00.000Z' });
    expect(sentNames(rdsMock)).toEqual(['DescribeDBInstancesCommand', 'DescribeDBInstancesCommand']);
  });

  test('does not restore when the safety snapshot fails', async () => {
    rdsMock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [{ DBSnapshotIdentifier: SNAPSHOT, Status: 'failed' }] });
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', RESTORE_TIME, '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`snapshot ${SNAPSHOT}: status 'failed'.*Nothing else was changed`));
    expect(sentNames(rdsMock)).not.toContain('RestoreDBInstanceToPointInTimeCommand');
  });

  test('gives up after --wait-timeout with the command to follow the snapshot', async () => {
    rdsMock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [{ DBSnapshotIdentifier: SNAPSHOT, Status: 'creating', PercentProgress: 10 }] });
    const result = await runCli([
      'restore',
      '--env',
      'prod',
      '--restore-time',
      RESTORE_TIME,
      '--yes',
      '--wait-timeout',
      '2',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Gave up waiting for snapshot .* after 2m00s/);
    expect(result.stderr).toContain(`aws rds describe-db-snapshots --db-snapshot-identifier ${SNAPSHOT}`);
    expect(sentNames(rdsMock)).not.toContain('RestoreDBInstanceToPointInTimeCommand');
  });
});

describe('restore input checks', () => {
  test('rejects a time after the latest restorable time before creating anything', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', '2026-03-14T02:28:00Z', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/after the latest restorable time 2026-03-14T02:25:00.000Z/);
    expect(sentNames(rdsMock)).toEqual(['DescribeDBInstancesCommand']);
  });

  test('rejects a target identifier that is already taken, before the snapshot', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'accessweaver-prod-replica-1' })
      .resolves({ DBInstances: [primaryInstance()] });
    const result = await runCli([
      'restore',
      '--env',
      'prod',
      '--latest',
      '--target-identifier',
      'accessweaver-prod-replica-1',
      '--yes',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/An instance named accessweaver-prod-replica-1 already exists/);
    expect(sentNames(rdsMock).filter((n) => MUTATIONS.includes(n))).toEqual([]);
  });

  test('rejects a time older than the backup retention', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', '2026-01-01T00:00:00Z', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/older than the 30-day backup retention/);
  });

  test('rejects a time without a zone without calling AWS', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', '2026-03-14T01:55:00', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ISO 8601 time with a zone/);
    expect(sentNames(rdsMock)).toEqual([]);
  });

  test.each([
    ['2026-02-30T02:30:00Z', 'no February 30th'],
    ['2026-03-13T24:00:00Z', 'no hour 24'],
    ['2026-03-13T23:60:00Z', 'no minute 60'],
  ])('rejects %s (%s) as not a real time, without calling AWS', async (time) => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', time, '--dry-run']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr: `error: --restore-time '${time}' is not a real date and time (check the day of the month and hour).\n`,
    });
    expect(sentNames(rdsMock)).toEqual([]);
  });

  test('rejects a future time before calling AWS (exit 2, even without credentials)', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--restore-time', '2026-03-14T03:00:00Z', '--dry-run']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr: 'error: --restore-time 2026-03-14T03:00:00.000Z is in the future (now 2026-03-14T02:30:00.000Z).\n',
    });
    expect(sentNames(rdsMock)).toEqual([]);
  });

  test('requires exactly one of --restore-time and --latest', async () => {
    const result = await runCli(['restore', '--env', 'prod', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/exactly one of --restore-time <time> or --latest/);
  });

  test('fails clearly when automated backups are disabled', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: PRIMARY })
      .resolves({ DBInstances: [primaryInstance({ BackupRetentionPeriod: 0 })] });
    const result = await runCli(['restore', '--env', 'prod', '--latest', '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/automated backups disabled/);
    expect(sentNames(rdsMock)).toEqual(['DescribeDBInstancesCommand']);
  });

  test('exits 4 naming the instance when the primary does not exist', async () => {
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: PRIMARY }).rejects(notFound(PRIMARY));
    const result = await runCli(['restore', '--env', 'prod', '--latest', '--yes']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`DescribeDBInstances ${PRIMARY}: DBInstanceNotFoundFault`);
  });

  test('exits 2 for an unknown environment without calling AWS', async () => {
    const result = await runCli(['restore', '--env', 'production', '--latest', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Environment must be dev, staging, or prod. Got 'production'.");
    expect(sentNames(rdsMock)).toEqual([]);
  });

  test('targets <project>-<env>-primary for --project', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'acme-staging-primary' })
      .resolves({ DBInstances: [primaryInstance()] });
    await runCli(['restore', '--env', 'staging', '--project', 'acme', '--latest', '--dry-run']);
    expect(sent(rdsMock)).toEqual([
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: 'acme-staging-primary' }],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: 'acme-staging-restored-20260314-023000' }],
    ]);
  });
});
