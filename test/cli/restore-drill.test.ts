/**
 * restore-drill's AWS flow, call by call: the restore, the waits, the cleanup on success and on every failure path,
 * and the refusal to delete anything that is not the drill's own. The verification is injected here; it runs
 * against the real PostgreSQL in test/db/verify-restore.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListRecoveryPointsByBackupVaultCommand } from '@aws-sdk/client-backup';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import {
  DBInstanceNotFoundFault,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSubnetGroupsCommand,
  InvalidDBInstanceStateFault,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { ResolvedConnection } from '../../src/cli/connection';
import type { DatabaseTools, Interrupts } from '../../src/cli/context';
import type { RestoreVerification } from '../../src/db/verify-restore';
import {
  backupMock,
  ec2Mock,
  KMS_KEY_ARN,
  primaryInstance,
  rdsMock,
  resetAwsMocks,
  secretsMock,
  sent,
  sentNames,
} from './support/aws';
import { FakeClock, runCli } from './support/harness';

// The fake clock starts at 2026-03-14T02:30:00Z and each poll waits 30 s.
const PRIMARY = 'accessweaver-prod-primary';
const DRILL = 'accessweaver-prod-drill-20260314-023000';
const GROUP = 'sg-0d1d1d1d1d1d1d1d1';
const RUNNER = 'sg-0a0a0a0a0a0a0a0a0';
const VPC = 'vpc-0300000000000000';
const DRILL_SECRET = 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:rds!db-drill-AbCdEf';
const SNAPSHOT_ARN = 'arn:aws:rds:eu-west-3:123456789012:snapshot:awsbackup:job-0b1c2d3e-new';

const TAGS = [
  { Key: 'Project', Value: 'accessweaver' },
  { Key: 'Environment', Value: 'prod' },
  { Key: 'Purpose', Value: 'restore-drill' },
  { Key: 'CreatedBy', Value: 'accessweaver-rds' },
  { Key: 'accessweaver-rds:restore-drill', Value: DRILL },
];

const OK: RestoreVerification = {
  ok: true,
  checks: [
    { name: 'migrations', ok: true, detail: 'at 0005_pg_stat_statements.sql' },
    { name: 'row-level security', ok: true, detail: 'enabled and forced on 4 tables' },
  ],
  tables: [
    { table: 'tenants', rows: 2 },
    { table: 'users', rows: 6 },
  ],
};

const notFound = (id: string) => new DBInstanceNotFoundFault({ message: `DBInstance ${id} not found.`, $metadata: {} });
const drillInstance = (status: string, overrides: Partial<DBInstance> = {}): DBInstance => ({
  DBInstanceIdentifier: DRILL,
  DBInstanceStatus: status,
  DBName: 'accessweaver',
  Endpoint: { Address: 'drill.c9akciq32.eu-west-3.rds.amazonaws.com', Port: 5432 },
  MasterUserSecret: { SecretArn: DRILL_SECRET, SecretStatus: 'active', KmsKeyId: KMS_KEY_ARN },
  TagList: TAGS,
  ...overrides,
});

/** The drill instance as DescribeDBInstances reports it, call after call. */
function drillStates(...states: Array<DBInstance | 'absent'>): void {
  let chain = rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: DRILL });
  for (const state of states) {
    chain = state === 'absent' ? chain.rejectsOnce(notFound(DRILL)) : chain.resolvesOnce({ DBInstances: [state] });
  }
  chain.rejects(notFound(DRILL));
}

let caBundle: string;
beforeAll(() => {
  caBundle = path.join(mkdtempSync(path.join(os.tmpdir(), 'aw-drill-ca-')), 'bundle.pem');
  writeFileSync(caBundle, '');
});

beforeEach(() => {
  resetAwsMocks();
  rdsMock
    .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: PRIMARY })
    .resolves({ DBInstances: [primaryInstance()] });
  rdsMock.on(DescribeDBSubnetGroupsCommand).resolves({
    DBSubnetGroups: [{ DBSubnetGroupName: 'accessweaver-prod-db-subnet-group', VpcId: VPC }],
  });
  rdsMock.on(RestoreDBInstanceToPointInTimeCommand).resolves({ DBInstance: drillInstance('creating') });
  rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({ DBInstance: drillInstance('creating') });
  rdsMock.on(DeleteDBInstanceCommand).resolves({ DBInstance: drillInstance('deleting') });
  // free check, two polls until available; then cleanup: available (delete), deleting, gone.
  drillStates(
    'absent',
    drillInstance('creating'),
    drillInstance('available'),
    drillInstance('available'),
    drillInstance('deleting'),
    'absent',
  );
  ec2Mock.on(CreateSecurityGroupCommand).resolves({ GroupId: GROUP });
  ec2Mock.on(RevokeSecurityGroupEgressCommand).resolves({ Return: true });
  ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
  ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [{ GroupId: GROUP, GroupName: DRILL, VpcId: VPC, Tags: TAGS }],
  });
  ec2Mock.on(DeleteSecurityGroupCommand).resolves({});
  secretsMock
    .on(GetSecretValueCommand, { SecretId: DRILL_SECRET })
    .resolves({ SecretString: JSON.stringify({ username: 'accessweaver_admin', password: 'drill-pw' }) });
});

/** Every call to every client, in the order they were made (sinon numbers calls across spies). */
function allCalls(): string[] {
  const mocks: Array<[string, AwsStub<any, any, any>]> = [
    ['rds', rdsMock],
    ['ec2', ec2Mock],
    ['secrets', secretsMock],
    ['backup', backupMock],
  ];
  return mocks
    .flatMap(([client, mock]) =>
      mock.calls().map((call) => {
        const command = call.args[0] as { constructor: { name: string } };
        return {
          id: (call as unknown as { callId: number }).callId,
          name: `${client} ${command.constructor.name.replace(/Command$/, '')}`,
        };
      }),
    )
    .sort((a, b) => a.id - b.id)
    .map((call) => call.name);
}

const CLEANUP_CALLS = [
  'rds DescribeDBInstances',
  'rds DeleteDBInstance',
  'rds DescribeDBInstances',
  'rds DescribeDBInstances',
  'ec2 DescribeSecurityGroups',
  'ec2 DeleteSecurityGroup',
];

interface Tools extends DatabaseTools {
  readonly connections: ResolvedConnection[];
}

function tools(verify: (clock?: FakeClock) => Promise<RestoreVerification> = async () => OK, clock?: FakeClock): Tools {
  const connections: ResolvedConnection[] = [];
  return {
    connections,
    migrate: () => Promise.reject(new Error('not expected')),
    setLoginPasswords: () => Promise.reject(new Error('not expected')),
    verifyRestore: async (connection) => {
      connections.push(connection);
      return verify(clock);
    },
  };
}

const drill = (...extra: string[]) => [
  'restore-drill',
  '--env',
  'prod',
  '--allow-from',
  RUNNER,
  '--ca-bundle',
  caBundle,
  '--yes',
  ...extra,
];

describe('restore-drill: the flow', () => {
  test('creates the group, restores, waits, verifies, deletes the instance then the group, in that order', async () => {
    const database = tools();
    const result = await runCli(drill(), { database });
    expect(result.code).toBe(0);
    expect(allCalls()).toEqual([
      'rds DescribeDBInstances',
      'rds DescribeDBSubnetGroups',
      'rds DescribeDBInstances',
      'ec2 CreateSecurityGroup',
      'ec2 RevokeSecurityGroupEgress',
      'ec2 AuthorizeSecurityGroupIngress',
      'rds RestoreDBInstanceToPointInTime',
      'rds DescribeDBInstances',
      'rds DescribeDBInstances',
      'secrets GetSecretValue',
      ...CLEANUP_CALLS,
    ]);
    expect(database.connections.map((c) => c.display)).toEqual([
      `accessweaver_admin@drill.c9akciq32.eu-west-3.rds.amazonaws.com:5432/accessweaver (sslmode=verify-full)`,
    ]);
  });

  test(
    'sends exactly these inputs: a group admitting only ' + 'the drill, a restore into it, no final snapshot',
    async () => {
      await runCli(drill(), { database: tools() });
      expect(sent(ec2Mock)).toEqual([
        [
          'CreateSecurityGroupCommand',
          {
            GroupName: DRILL,
            Description: `Admits only restore drill ${DRILL} to its temporary instance`,
            VpcId: VPC,
            TagSpecifications: [{ ResourceType: 'security-group', Tags: TAGS }],
          },
        ],
        [
          'RevokeSecurityGroupEgressCommand',
          { GroupId: GROUP, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] },
        ],
        [
          'AuthorizeSecurityGroupIngressCommand',
          {
            GroupId: GROUP,
            IpPermissions: [
              {
                IpProtocol: 'tcp',
                FromPort: 5432,
                ToPort: 5432,
                UserIdGroupPairs: [{ GroupId: RUNNER, Description: `restore drill ${DRILL}` }],
              },
            ],
          },
        ],
        ['DescribeSecurityGroupsCommand', { GroupIds: [GROUP] }],
        ['DeleteSecurityGroupCommand', { GroupId: GROUP }],
      ]);
      const rds = sent(rdsMock);
      expect(rds.find(([name]) => name === 'RestoreDBInstanceToPointInTimeCommand')?.[1]).toEqual({
        SourceDBInstanceIdentifier: PRIMARY,
        TargetDBInstanceIdentifier: DRILL,
        UseLatestRestorableTime: true,
        DBSubnetGroupName: 'accessweaver-prod-db-subnet-group',
        VpcSecurityGroupIds: [GROUP],
        MultiAZ: true,
        PubliclyAccessible: false,
        DeletionProtection: false,
        CopyTagsToSnapshot: false,
        ManageMasterUserPassword: true,
        MasterUserSecretKmsKeyId: KMS_KEY_ARN,
        DBParameterGroupName: 'accessweaver-prod-pg-params',
        Tags: TAGS,
      });
      expect(rds.filter(([name]) => name === 'DeleteDBInstanceCommand')).toEqual([
        [
          'DeleteDBInstanceCommand',
          { DBInstanceIdentifier: DRILL, SkipFinalSnapshot: true, DeleteAutomatedBackups: true },
        ],
      ]);
    },
  );

  test('an address as --allow-from becomes the only CIDR admitted', async () => {
    await runCli(
      ['restore-drill', '--env', 'prod', '--allow-from', '10.30.1.15/32', '--ca-bundle', caBundle, '--yes'],
      {
        database: tools(),
      },
    );
    const [, ingress] = sent(ec2Mock).find(([name]) => name === 'AuthorizeSecurityGroupIngressCommand') ?? [];
    expect(ingress).toMatchObject({
      IpPermissions: [{ IpRanges: [{ CidrIp: '10.30.1.15/32', Description: `restore drill ${DRILL}` }] }],
    });
  });

  test('reports restore time, time to usable against the RTO, and point age against the RPO, as JSON', async () => {
    const clock = new FakeClock();
    const result = await runCli(drill('--json'), {
      clock,
      database: tools(async (c) => {
        await c?.sleep(12_000); // the verification's own duration
        return OK;
      }, clock),
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      drill: DRILL,
      environment: 'prod',
      region: null,
      source: { kind: 'point-in-time', restoreTime: 'latest' },
      outcome: 'objectives met',
      rto: { objectiveMinutes: 15, usableSeconds: 42, met: true },
      rpo: { objectiveMinutes: 15, pointTime: '2026-03-14T02:25:00.000Z', pointAgeSeconds: 300, met: true },
      timings: { restoreSeconds: 30, verificationSeconds: 12 },
      verification: OK,
      cleanup: { instance: 'deleted', securityGroup: 'deleted', error: null },
      error: null,
      exitCode: 0,
    });
  });

  test('prints a table of the measurements, the checks and the row counts', async () => {
    const result = await runCli(drill(), { database: tools() });
    expect(result.stdout).toContain('Usable after   0m30s / RTO 15 min: met');
    expect(result.stdout).toContain('Point age      5m00s / RPO 15 min: met');
    expect(result.stdout).toContain('Cleanup        instance deleted, security group deleted');
    expect(result.stdout).toMatch(/migrations\s+ok\s+at 0005_pg_stat_statements.sql/);
    expect(result.stdout).toMatch(/users\s+6/);
  });

  test('exits 5 when the database was verified but became usable after the RTO', async () => {
    drillStates(
      'absent',
      ...Array.from({ length: 31 }, () => drillInstance('creating')),
      drillInstance('available'),
      drillInstance('available'),
      'absent',
    );
    const result = await runCli(drill('--json'), { database: tools() });
    expect(result.code).toBe(5);
    expect(JSON.parse(result.stdout)).toMatchObject({
      outcome: 'objective missed',
      // 31 polls 30 s apart before 'available': 15 min 30 s.
      rto: { objectiveMinutes: 15, usableSeconds: 930, met: false },
    });
  });

  test('restores the newest snapshot recovery point of the vault with --latest-snapshot', async () => {
    backupMock.on(ListRecoveryPointsByBackupVaultCommand).resolves({
      RecoveryPoints: [
        {
          RecoveryPointArn: 'arn:aws:rds:eu-west-3:123456789012:snapshot:awsbackup:job-old',
          ResourceArn: `arn:aws:rds:eu-west-3:123456789012:db:${PRIMARY}`,
          Status: 'COMPLETED',
          CreationDate: new Date('2026-03-13T00:00:00Z'),
        },
        {
          RecoveryPointArn: SNAPSHOT_ARN,
          ResourceArn: `arn:aws:rds:eu-west-3:123456789012:db:${PRIMARY}`,
          Status: 'COMPLETED',
          CreationDate: new Date('2026-03-14T00:00:00Z'),
        },
        {
          RecoveryPointArn: 'arn:aws:backup:eu-west-3:123456789012:recovery-point:continuous:db-abc',
          ResourceArn: `arn:aws:rds:eu-west-3:123456789012:db:${PRIMARY}`,
          Status: 'COMPLETED',
          CreationDate: new Date('2026-03-14T02:00:00Z'),
        },
        {
          RecoveryPointArn: 'arn:aws:rds:eu-west-3:123456789012:snapshot:awsbackup:job-other-db',
          ResourceArn: 'arn:aws:rds:eu-west-3:123456789012:db:accessweaver-prod-replica-1',
          Status: 'COMPLETED',
          CreationDate: new Date('2026-03-14T01:00:00Z'),
        },
        {
          RecoveryPointArn: 'arn:aws:rds:eu-west-3:123456789012:snapshot:awsbackup:job-running',
          ResourceArn: `arn:aws:rds:eu-west-3:123456789012:db:${PRIMARY}`,
          Status: 'CREATING',
          CreationDate: new Date('2026-03-14T02:10:00Z'),
        },
      ],
    });
    const result = await runCli(drill('--latest-snapshot', '--json'), { database: tools() });
    expect(sent(backupMock)).toEqual([
      [
        'ListRecoveryPointsByBackupVaultCommand',
        { BackupVaultName: 'accessweaver-prod-backup', ByResourceType: 'RDS' },
      ],
    ]);
    const [, input] = sent(rdsMock).find(([name]) => name === 'RestoreDBInstanceFromDBSnapshotCommand') ?? [];
    expect(input).toMatchObject({
      DBSnapshotIdentifier: SNAPSHOT_ARN,
      DBInstanceIdentifier: DRILL,
      VpcSecurityGroupIds: [GROUP],
    });
    // The snapshot is 2 h 30 min old: verified, but older than prod's 15-minute RPO.
    expect(result.code).toBe(5);
    expect(JSON.parse(result.stdout).rpo).toEqual({
      objectiveMinutes: 15,
      pointTime: '2026-03-14T00:00:00.000Z',
      pointAgeSeconds: 9000,
      met: false,
    });
  });
});

describe('restore-drill: cleanup whatever happened', () => {
  test('a rejected restore request: nothing to delete but the group; exit 1', async () => {
    rdsMock
      .on(RestoreDBInstanceToPointInTimeCommand)
      .rejects(
        Object.assign(new Error('Restore of a DB instance is not possible now.'), { name: 'InvalidRestoreFault' }),
      );
    drillStates('absent', 'absent');
    const result = await runCli(drill('--json'), { database: tools() });
    expect(result.code).toBe(1);
    expect(sentNames(rdsMock)).not.toContain('DeleteDBInstanceCommand');
    expect(sentNames(ec2Mock)).toContain('DeleteSecurityGroupCommand');
    expect(JSON.parse(result.stdout)).toMatchObject({
      outcome: 'failed',
      error: expect.stringContaining(
        'RestoreDBInstanceToPointInTime accessweaver-prod-drill-20260314-023000: InvalidRestoreFault',
      ),
      cleanup: { instance: 'never created', securityGroup: 'deleted' },
    });
  });

  test('a restore that fails in RDS: the failed instance is deleted, then the group; exit 1', async () => {
    drillStates(
      'absent',
      drillInstance('creating'),
      drillInstance('incompatible-restore'),
      drillInstance('incompatible-restore'),
      'absent',
    );
    const result = await runCli(drill('--json'), { database: tools() });
    expect(result.code).toBe(1);
    expect(allCalls().slice(-5)).toEqual(CLEANUP_CALLS.filter((_, i) => i !== 2));
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: expect.stringContaining("status 'incompatible-restore'"),
      cleanup: { instance: 'deleted', securityGroup: 'deleted' },
      verification: null,
    });
  });

  test('a verification that fails: cleanup runs, exit 1, the failed check reported', async () => {
    const failing: RestoreVerification = {
      ok: false,
      checks: [{ name: 'row-level security', ok: false, detail: 'not enforced on users (disabled)' }],
      tables: [],
    };
    const result = await runCli(drill(), { database: tools(async () => failing) });
    expect(result.code).toBe(1);
    expect(allCalls().slice(-6)).toEqual(CLEANUP_CALLS);
    expect(result.stdout).toMatch(/row-level security\s+FAIL\s+not enforced on users \(disabled\)/);
    expect(result.stdout).toContain('Outcome        failed');
  });

  test('a database that cannot be reached: cleanup runs, exit 4', async () => {
    const { unavailableError } = await import('../../src/cli/exit-codes');
    const result = await runCli(drill(), {
      database: tools(async () => {
        throw unavailableError('Cannot connect to drill: timeout');
      }),
    });
    expect(result.code).toBe(4);
    expect(allCalls().slice(-6)).toEqual(CLEANUP_CALLS);
  });

  test('interrupted while waiting: stops waiting, deletes what it created, exit 1', async () => {
    let fire = () => undefined as void;
    const interrupts: Interrupts = {
      onInterrupt: (handler) => {
        fire = handler;
        return () => undefined;
      },
    };
    // 1: the free check; 2: first poll, interrupted; then cleanup: 3: still creating (interrupted again, deletion
    // refused), 4: creating (deletion accepted), 5: deleting, 6: gone.
    let polls = 0;
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: DRILL }).callsFake(() => {
      polls += 1;
      if (polls === 1 || polls >= 6) throw notFound(DRILL);
      if (polls === 2 || polls === 3) fire();
      return { DBInstances: [drillInstance(polls === 5 ? 'deleting' : 'creating')] };
    });
    rdsMock
      .on(DeleteDBInstanceCommand)
      .rejectsOnce(new InvalidDBInstanceStateFault({ message: 'Instance is being created.', $metadata: {} }))
      .resolves({});
    const result = await runCli(drill('--json'), { database: tools(), interrupts });
    expect(result.code).toBe(1);
    expect(sentNames(secretsMock)).toEqual([]);
    expect(sentNames(rdsMock).filter((name) => name === 'DeleteDBInstanceCommand')).toHaveLength(2);
    expect(sentNames(ec2Mock).at(-1)).toBe('DeleteSecurityGroupCommand');
    expect(result.stderr).toContain('interrupted: stopping the drill and deleting what it created.');
    expect(result.stderr).toContain(`cleanup of ${DRILL} is running`);
    expect(JSON.parse(result.stdout)).toMatchObject({
      outcome: 'interrupted',
      error: 'Interrupted by the operator.',
      cleanup: { instance: 'deleted', securityGroup: 'deleted' },
    });
  });

  test('a group still in use is retried until its network interfaces are gone', async () => {
    ec2Mock
      .on(DeleteSecurityGroupCommand)
      .rejectsOnce(Object.assign(new Error('resource has a dependent object'), { name: 'DependencyViolation' }))
      .resolves({});
    const result = await runCli(drill(), { database: tools() });
    expect(result.code).toBe(0);
    expect(sentNames(ec2Mock).filter((name) => name === 'DeleteSecurityGroupCommand')).toHaveLength(2);
  });

  test('a failed group creation: nothing else is created, nothing deleted; exit 1', async () => {
    ec2Mock
      .on(CreateSecurityGroupCommand)
      .rejects(Object.assign(new Error('quota'), { name: 'RulesPerSecurityGroupLimitExceeded' }));
    drillStates('absent', 'absent');
    const result = await runCli(drill(), { database: tools() });
    expect(result.code).toBe(1);
    expect(sentNames(rdsMock)).not.toContain('RestoreDBInstanceToPointInTimeCommand');
    expect(sentNames(rdsMock)).not.toContain('DeleteDBInstanceCommand');
    expect(sentNames(ec2Mock)).toEqual(['CreateSecurityGroupCommand']);
  });
});

describe('restore-drill: refuses to touch anything but its own resources', () => {
  test('an instance under the drill name without the drill tag is not deleted; exit 3', async () => {
    const untagged = drillInstance('available', { TagList: TAGS.slice(0, 4) });
    drillStates('absent', drillInstance('creating'), drillInstance('available'), untagged);
    const result = await runCli(drill('--json'), { database: tools() });
    expect(result.code).toBe(3);
    expect(sentNames(rdsMock)).not.toContain('DeleteDBInstanceCommand');
    expect(sentNames(ec2Mock)).not.toContain('DeleteSecurityGroupCommand');
    expect(JSON.parse(result.stdout).cleanup).toEqual({
      instance: 'left',
      securityGroup: null,
      error: expect.stringMatching(
        /^Refusing to delete DB instance accessweaver-prod-drill-20260314-023000: it is not/,
      ),
    });
  });

  test('an instance whose drill tag names another drill is not deleted', async () => {
    const other = drillInstance('available', {
      TagList: [...TAGS.slice(0, 4), { Key: 'accessweaver-rds:restore-drill', Value: 'accessweaver-prod-primary' }],
    });
    drillStates('absent', drillInstance('creating'), drillInstance('available'), other);
    const result = await runCli(drill(), { database: tools() });
    expect(result.code).toBe(3);
    expect(sentNames(rdsMock)).not.toContain('DeleteDBInstanceCommand');
  });

  test('a group that is not the drill’s (another name) is not deleted', async () => {
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [{ GroupId: GROUP, GroupName: 'accessweaver-prod-rds-sg', VpcId: VPC, Tags: TAGS }],
    });
    const result = await runCli(drill(), { database: tools() });
    expect(result.code).toBe(3);
    expect(sentNames(ec2Mock)).not.toContain('DeleteSecurityGroupCommand');
    expect(result.stdout).toMatch(/Refusing to delete security group sg-0d1d1d1d1d1d1d1d1/);
  });

  test('the guard needs the exact name, the drill prefix and the tag', async () => {
    const { isOwnDrillResource } = await import('../../src/cli/drill-resources');
    const own = { identifier: DRILL, prefix: 'accessweaver-prod-drill-', project: 'accessweaver', env: 'prod' };
    expect(isOwnDrillResource(own, DRILL, TAGS)).toBe(true);
    expect(isOwnDrillResource(own, PRIMARY, TAGS)).toBe(false);
    expect(isOwnDrillResource(own, DRILL, [])).toBe(false);
    expect(isOwnDrillResource(own, DRILL, undefined)).toBe(false);
    const primaryAsDrill = { ...own, identifier: PRIMARY };
    const primaryTags = [{ Key: 'accessweaver-rds:restore-drill', Value: PRIMARY }];
    expect(isOwnDrillResource(primaryAsDrill, PRIMARY, primaryTags)).toBe(false);
  });

  test('--dry-run prints every call and makes only read calls, without a CA bundle', async () => {
    const result = await runCli(['restore-drill', '--env', 'prod', '--allow-from', RUNNER, '--dry-run', '--json']);
    expect(result.code).toBe(0);
    const { steps } = JSON.parse(result.stdout) as { steps: { operation: string; input?: Record<string, unknown> }[] };
    expect(steps.map((s) => s.operation)).toEqual([
      'CreateSecurityGroup',
      'RevokeSecurityGroupEgress',
      'AuthorizeSecurityGroupIngress',
      'RestoreDBInstanceToPointInTime',
      'wait',
      'verify',
      'DeleteDBInstance',
      'wait',
      'DeleteSecurityGroup',
    ]);
    expect(steps[6].input).toEqual({
      DBInstanceIdentifier: DRILL,
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
    expect(allCalls()).toEqual(['rds DescribeDBInstances', 'rds DescribeDBSubnetGroups', 'rds DescribeDBInstances']);
  });

  test('refuses without --yes when nobody can confirm, after read calls only', async () => {
    const result = await runCli(['restore-drill', '--env', 'prod', '--allow-from', RUNNER, '--ca-bundle', caBundle]);
    expect(result.code).toBe(3);
    expect(allCalls()).toEqual(['rds DescribeDBInstances', 'rds DescribeDBSubnetGroups', 'rds DescribeDBInstances']);
  });
});

describe('restore-drill: from the disaster-recovery copy', () => {
  test('--from-region restores the newest copy of the DR vault there, without the primary', async () => {
    backupMock.on(ListRecoveryPointsByBackupVaultCommand).resolves({
      RecoveryPoints: [
        {
          RecoveryPointArn: 'arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:copyjob-1',
          ResourceArn: `arn:aws:rds:eu-west-3:123456789012:db:${PRIMARY}`,
          Status: 'COMPLETED',
          CreationDate: new Date('2026-03-14T00:20:00Z'),
        },
      ],
    });
    const result = await runCli(drill('--from-region', 'eu-west-1', '--json'), { database: tools() });
    expect(sent(backupMock)).toEqual([
      [
        'ListRecoveryPointsByBackupVaultCommand',
        { BackupVaultName: 'accessweaver-prod-backup-dr', ByResourceType: 'RDS' },
      ],
    ]);
    expect(
      sent(rdsMock).map(([, input]) => (input as { DBInstanceIdentifier?: string }).DBInstanceIdentifier),
    ).not.toContain(PRIMARY);
    const [, input] = sent(rdsMock).find(([name]) => name === 'RestoreDBInstanceFromDBSnapshotCommand') ?? [];
    expect(input).toEqual({
      DBSnapshotIdentifier: 'arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:copyjob-1',
      DBInstanceIdentifier: DRILL,
      DBSubnetGroupName: 'accessweaver-prod-db-subnet-group',
      VpcSecurityGroupIds: [GROUP],
      MultiAZ: true,
      PubliclyAccessible: false,
      DeletionProtection: false,
      CopyTagsToSnapshot: false,
      ManageMasterUserPassword: true,
      Tags: TAGS,
    });
    expect(JSON.parse(result.stdout)).toMatchObject({
      region: 'eu-west-1',
      source: { kind: 'snapshot', vault: 'accessweaver-prod-backup-dr' },
      cleanup: { instance: 'deleted', securityGroup: 'deleted' },
    });
  });

  test('an empty DR vault: exit 4 before anything is created', async () => {
    backupMock.on(ListRecoveryPointsByBackupVaultCommand).resolves({ RecoveryPoints: [] });
    const result = await runCli(drill('--from-region', 'eu-west-1'), { database: tools() });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(
      'Vault accessweaver-prod-backup-dr holds no completed snapshot recovery point of accessweaver-prod-primary.',
    );
    expect(sentNames(ec2Mock)).toEqual([]);
  });
});

describe('restore-drill: input checks', () => {
  test.each([
    [
      ['--from-region', 'eu-west-1', '--restore-time', '2026-03-14T02:00:00Z'],
      /--restore-time is a point-in-time restore/,
    ],
    [['--latest-snapshot', '--restore-time', '2026-03-14T02:00:00Z'], /--restore-time is a point-in-time restore/],
  ])('refuses %j without calling AWS', async (extra, message) => {
    const result = await runCli(drill(...extra), { database: tools() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(allCalls()).toEqual([]);
  });

  test('a future --restore-time is refused before any AWS call', async () => {
    const result = await runCli(drill('--restore-time', '2026-03-14T03:00:00Z'), { database: tools() });
    expect(result.code).toBe(2);
    expect(allCalls()).toEqual([]);
  });

  test('--restore-time restores that point; its age is not judged against the RPO', async () => {
    const result = await runCli(drill('--restore-time', '2026-03-14T01:00:00Z', '--json'), { database: tools() });
    const [, input] = sent(rdsMock).find(([name]) => name === 'RestoreDBInstanceToPointInTimeCommand') ?? [];
    expect(input).toMatchObject({ RestoreTime: new Date('2026-03-14T01:00:00Z') });
    expect(input).not.toHaveProperty('UseLatestRestorableTime');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).rpo).toEqual({
      objectiveMinutes: 15,
      pointTime: '2026-03-14T01:00:00.000Z',
      pointAgeSeconds: null,
      met: null,
    });
  });

  test('requires --allow-from', async () => {
    const result = await runCli(['restore-drill', '--env', 'prod', '--yes', '--ca-bundle', caBundle]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--allow-from <sg-id\|cidr> is required/);
    expect(allCalls()).toEqual([]);
  });

  test('refuses an --allow-from that is neither a group nor a CIDR', async () => {
    const result = await runCli([
      'restore-drill',
      '--env',
      'prod',
      '--allow-from',
      '0.0.0.0',
      '--yes',
      '--ca-bundle',
      caBundle,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/argument '0.0.0.0' is invalid. expected a security group ID/);
    expect(sentNames(ec2Mock)).toEqual([]);
  });
});
