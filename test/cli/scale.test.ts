import {
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribeOrderableDBInstanceOptionsCommand,
  ModifyDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { primaryInstance, rdsMock, resetAwsMocks, sent, sentNames } from './support/aws';
import { FakeClock, runCli } from './support/harness';

const PRIMARY = 'accessweaver-prod-primary';
const SNAPSHOT = 'accessweaver-prod-pre-scale-20260314-023000';
const MUTATIONS = ['CreateDBSnapshotCommand', 'ModifyDBInstanceCommand'];

beforeEach(() => {
  resetAwsMocks();
  rdsMock
    .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: PRIMARY })
    // 1: the pre-flight read; 2: right after ModifyDBInstance, still the old class;
    // 3: modifying; then available on the new class.
    .resolvesOnce({ DBInstances: [primaryInstance()] })
    .resolvesOnce({ DBInstances: [primaryInstance({ PendingModifiedValues: { DBInstanceClass: 'db.r6g.xlarge' } })] })
    .resolvesOnce({ DBInstances: [primaryInstance({ DBInstanceStatus: 'modifying' })] })
    .resolves({ DBInstances: [primaryInstance({ DBInstanceClass: 'db.r6g.xlarge' })] });
  rdsMock.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { DBSnapshotIdentifier: SNAPSHOT, Status: 'creating' } });
  rdsMock
    .on(DescribeDBSnapshotsCommand)
    .resolves({ DBSnapshots: [{ DBSnapshotIdentifier: SNAPSHOT, Status: 'available', PercentProgress: 100 }] });
  rdsMock.on(DescribeOrderableDBInstanceOptionsCommand).resolves({
    OrderableDBInstanceOptions: [
      { Engine: 'postgres', EngineVersion: '15.18', DBInstanceClass: 'db.r6g.xlarge', StorageType: 'gp3' },
      { Engine: 'postgres', EngineVersion: '15.18', DBInstanceClass: 'db.r6g.xlarge', StorageType: 'io1' },
    ],
  });
  rdsMock.on(ModifyDBInstanceCommand).resolves({ DBInstance: primaryInstance({ DBInstanceStatus: 'modifying' }) });
});

describe('scale', () => {
  test('snapshots, then modifies the class with ApplyImmediately, then waits for the new class', async () => {
    const result = await runCli(['scale', '--env', 'prod', '--instance-class', 'db.r6g.xlarge', '--yes']);
    expect(result.code).toBe(0);
    expect(sent(rdsMock)).toEqual([
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: PRIMARY }],
      [
        'DescribeOrderableDBInstanceOptionsCommand',
        { Engine: 'postgres', EngineVersion: '15.18', DBInstanceClass: 'db.r6g.xlarge', Vpc: true, MaxRecords: 100 },
      ],
      [
        'CreateDBSnapshotCommand',
        {
          DBInstanceIdentifier: PRIMARY,
          DBSnapshotIdentifier: SNAPSHOT,
          Tags: [
            { Key: 'Project', Value: 'accessweaver' },
            { Key: 'Environment', Value: 'prod' },
            { Key: 'Purpose', Value: 'pre-scale' },
            { Key: 'CreatedBy', Value: 'accessweaver-rds' },
          ],
        },
      ],
      ['DescribeDBSnapshotsCommand', { DBSnapshotIdentifier: SNAPSHOT }],
      [
        'ModifyDBInstanceCommand',
        { DBInstanceIdentifier: PRIMARY, DBInstanceClass: 'db.r6g.xlarge', ApplyImmediately: true },
      ],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: PRIMARY }],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: PRIMARY }],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: PRIMARY }],
    ]);
  });

  test('does not take an available instance still on the old class for done', async () => {
    const clock = new FakeClock();
    const result = await runCli(['scale', '--env', 'prod', '--instance-class', 'db.r6g.xlarge', '--yes'], { clock });
    expect(result.stderr).toContain(`waiting for ${PRIMARY} available on db.r6g.xlarge: available (0m00s elapsed)`);
    expect(result.stderr).toContain(`waiting for ${PRIMARY} available on db.r6g.xlarge: modifying (0m30s elapsed)`);
    expect(result.stderr).toContain(`waiting for ${PRIMARY} available on db.r6g.xlarge: available (1m00s elapsed)`);
  });

  test('reminds that the environment table still names the old class, and that replicas keep theirs', async () => {
    const result = await runCli(['scale', '--env', 'prod', '--instance-class', 'db.r6g.xlarge', '--yes', '--json']);
    const { notes, previousClass, instanceClass } = JSON.parse(result.stdout);
    expect([previousClass, instanceClass]).toEqual(['db.r6g.large', 'db.r6g.xlarge']);
    expect(notes[0]).toMatch(/src\/config\/environments\.ts.*next apply reverts it to db\.r6g\.large/);
    expect(notes[1]).toContain('accessweaver-prod-replica-1, accessweaver-prod-replica-2');
  });

  test('tells a caller of the module to set the class in its instance_overrides', async () => {
    const result = await runCli(['scale', '--env', 'prod', '--instance-class', 'db.r6g.xlarge', '--yes', '--json']);
    expect(JSON.parse(result.stdout).notes[0]).toContain('instance_overrides = { instance_class = "db.r6g.xlarge" }');
  });

  test('does nothing when the instance already runs on the class', async () => {
    const result = await runCli(['scale', '--env', 'prod', '--instance-class', 'db.r6g.large', '--yes']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/already runs on db\.r6g\.large; nothing to do/);
    expect(sentNames(rdsMock)).toEqual(['DescribeDBInstancesCommand']);
  });
});

describe('scale safety', () => {
  test('refuses without --yes when nobody can confirm, and changes nothing', async () => {
    const result = await runCli(['scale', '--env', 'prod', '--instance-class', 'db.r6g.xlarge']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/Refusing to scale it without confirmation: re-run with --yes/);
    expect(sentNames(rdsMock).filter((n) => MUTATIONS.includes(n))).toEqual([]);
  });

  test('refuses when the interactive answer is not the identifier', async () => {
    const result = await runCli(['scale', '--env', 'prod', '--instance-class', 'db.r6g.xlarge'], {
      interactive: true,
      answers: ['yes'],
    });
    expect(result.code).toBe(3);
    expect(sentNames(rdsMock).filter((n) => MUTATIONS.includes(n))).toEqual([]);
  });

  test('--dry-run prints the exact calls and makes only the read calls', async () => {
    const result = await runCli(['scale', '--env', 'prod', '--instance-class', 'db.r6g.xlarge', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^Dry run, nothing changed\. Scale accessweaver-prod-primary from db\.r6g\.large to db\.r6g\.xlarge/,
    );
    expect(result.stdout).toContain('3. ModifyDBInstance');
    expect(result.stdout).toMatch(/^ {7}ApplyImmediately: true$/m);
    expect(sentNames(rdsMock)).toEqual(['DescribeDBInstancesCommand', 'DescribeOrderableDBInstanceOptionsCommand']);
  });

  test('refuses to modify an instance that is not available', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: PRIMARY })
      .resolves({ DBInstances: [primaryInstance({ DBInstanceStatus: 'backing-up' })] });
    const result = await runCli(['scale', '--env', 'prod', '--instance-class', 'db.r6g.xlarge', '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is 'backing-up': scale only an available instance/);
    expect(sentNames(rdsMock)).toEqual(['DescribeDBInstancesCommand']);
  });

  test('rejects a class RDS does not offer for the engine version and storage type, before the snapshot', async () => {
    rdsMock.on(DescribeOrderableDBInstanceOptionsCommand).resolves({
      OrderableDBInstanceOptions: [
        { Engine: 'postgres', EngineVersion: '15.18', DBInstanceClass: 'db.r6g.xlarge', StorageType: 'gp3' },
      ],
    });
    const result = await runCli(['scale', '--env', 'prod', '--instance-class', 'db.r6g.xlarge', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'RDS does not offer db.r6g.xlarge for postgres 15.18 with io1 storage in this region.',
    );
    expect(sentNames(rdsMock).filter((n) => MUTATIONS.includes(n))).toEqual([]);
  });

  test('rejects a malformed instance class without calling AWS', async () => {
    const result = await runCli(['scale', '--env', 'prod', '--instance-class', 'r6g.xlarge', '--yes']);
    expect(result.code).toBe(2);
    expect(sentNames(rdsMock)).toEqual([]);
  });

  test('requires --instance-class', async () => {
    const result = await runCli(['scale', '--env', 'prod', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--instance-class <class>' not specified/);
  });
});
