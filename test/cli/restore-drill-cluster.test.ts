/**
 * restore-drill on an Aurora cluster (`--engine aurora-cluster`), call by call: the cluster restore, its writer, the
 * copy's own master secret, and the removal of the writer then the cluster, each checked for the drill's name and
 * tag first. The verification is injected, as in restore-drill.test.ts.
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
  CreateDBInstanceCommand,
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSubnetGroupsCommand,
  ModifyDBClusterCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBClusterToPointInTimeCommand,
  type DBCluster,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { ResolvedConnection } from '../../src/cli/connection';
import type { DatabaseTools } from '../../src/cli/context';
import type { RestoreVerification } from '../../src/db/verify-restore';
import {
  auroraCluster,
  auroraWriter,
  backupMock,
  ec2Mock,
  KMS_KEY_ARN,
  rdsMock,
  resetAwsMocks,
  secretsMock,
  sent,
  sentNames,
} from './support/aws';
import { runCli } from './support/harness';

// The fake clock starts at 2026-03-14T02:30:00Z and each poll waits 30 s.
const CLUSTER = 'accessweaver-prod-cluster';
const WRITER = 'accessweaver-prod-primary';
const DRILL = 'accessweaver-prod-drill-20260314-023000';
const DRILL_WRITER = `${DRILL}-writer`;
const GROUP = 'sg-0d1d1d1d1d1d1d1d1';
const RUNNER = 'sg-0a0a0a0a0a0a0a0a0';
const VPC = 'vpc-0300000000000000';
const DRILL_SECRET = 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:rds!cluster-drill-AbCdEf';
const DRILL_ENDPOINT = 'drill.cluster-c9akciq32.eu-west-3.rds.amazonaws.com';
const SNAPSHOT_ARN = 'arn:aws:rds:eu-west-3:123456789012:cluster-snapshot:awsbackup:job-0b1c2d3e-new';

const TAGS = [
  { Key: 'Project', Value: 'accessweaver' },
  { Key: 'Environment', Value: 'prod' },
  { Key: 'Purpose', Value: 'restore-drill' },
  { Key: 'CreatedBy', Value: 'accessweaver-rds' },
  { Key: 'accessweaver-rds:restore-drill', Value: DRILL },
];

const OK: RestoreVerification = {
  ok: true,
  checks: [{ name: 'migrations', ok: true, detail: 'at 0005_pg_stat_statements.sql' }],
  tables: [{ table: 'tenants', rows: 2 }],
};

const clusterGone = () => new DBClusterNotFoundFault({ message: `DBCluster ${DRILL} not found.`, $metadata: {} });
const writerGone = () =>
  new DBInstanceNotFoundFault({ message: `DBInstance ${DRILL_WRITER} not found.`, $metadata: {} });

const drillCluster = (status: string, overrides: Partial<DBCluster> = {}): DBCluster => ({
  DBClusterIdentifier: DRILL,
  Status: status,
  DatabaseName: 'accessweaver',
  Endpoint: DRILL_ENDPOINT,
  Port: 5432,
  TagList: TAGS,
  ...overrides,
});
const withSecret = (status: string) =>
  drillCluster(status, { MasterUserSecret: { SecretArn: DRILL_SECRET, SecretStatus: 'active' } });
const drillWriter = (status: string, overrides: Partial<DBInstance> = {}): DBInstance => ({
  DBInstanceIdentifier: DRILL_WRITER,
  DBClusterIdentifier: DRILL,
  DBInstanceStatus: status,
  TagList: TAGS,
  ...overrides,
});

/** The drill cluster as DescribeDBClusters reports it, call after call; absent afterwards. */
function clusterStates(...states: Array<DBCluster | 'absent'>): void {
  let chain = rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: DRILL });
  for (const state of states) {
    chain = state === 'absent' ? chain.rejectsOnce(clusterGone()) : chain.resolvesOnce({ DBClusters: [state] });
  }
  chain.rejects(clusterGone());
}

function writerStates(...states: Array<DBInstance | 'absent'>): void {
  let chain = rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: DRILL_WRITER });
  for (const state of states) {
    chain = state === 'absent' ? chain.rejectsOnce(writerGone()) : chain.resolvesOnce({ DBInstances: [state] });
  }
  chain.rejects(writerGone());
}

let caBundle: string;
beforeAll(() => {
  caBundle = path.join(mkdtempSync(path.join(os.tmpdir(), 'aw-drill-ca-')), 'bundle.pem');
  writeFileSync(caBundle, '');
});

beforeEach(() => {
  resetAwsMocks();
  rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: CLUSTER }).resolves({ DBClusters: [auroraCluster()] });
  rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: WRITER }).resolves({ DBInstances: [auroraWriter()] });
  rdsMock.on(DescribeDBSubnetGroupsCommand).resolves({
    DBSubnetGroups: [{ DBSubnetGroupName: 'accessweaver-prod-db-subnet-group', VpcId: VPC }],
  });
  rdsMock.on(RestoreDBClusterToPointInTimeCommand).resolves({});
  rdsMock.on(RestoreDBClusterFromSnapshotCommand).resolves({});
  rdsMock.on(CreateDBInstanceCommand).resolves({});
  rdsMock.on(ModifyDBClusterCommand).resolves({});
  rdsMock.on(DeleteDBInstanceCommand).resolves({});
  rdsMock.on(DeleteDBClusterCommand).resolves({});
  // free check; available without a secret (the drill asks for one), then with it; cleanup: delete, deleting, gone.
  clusterStates(
    'absent',
    drillCluster('available'),
    withSecret('available'),
    withSecret('available'),
    withSecret('deleting'),
  );
  // one poll creating, then available; cleanup: delete, deleting, gone.
  writerStates(drillWriter('creating'), drillWriter('available'), drillWriter('available'), drillWriter('deleting'));
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

function tools(): DatabaseTools & { readonly connections: ResolvedConnection[] } {
  const connections: ResolvedConnection[] = [];
  return {
    connections,
    migrate: () => Promise.reject(new Error('not expected')),
    setLoginPasswords: () => Promise.reject(new Error('not expected')),
    verifyRestore: async (connection) => {
      connections.push(connection);
      return OK;
    },
  };
}

const drill = (...extra: string[]) => [
  'restore-drill',
  '--env',
  'prod',
  '--engine',
  'aurora-cluster',
  '--allow-from',
  RUNNER,
  '--ca-bundle',
  caBundle,
  '--yes',
  ...extra,
];

const WRITER_INPUT = {
  DBInstanceIdentifier: DRILL_WRITER,
  DBClusterIdentifier: DRILL,
  DBInstanceClass: 'db.r6g.large',
  Engine: 'aurora-postgresql',
  DBParameterGroupName: 'accessweaver-prod-pg-params',
  PubliclyAccessible: false,
  Tags: TAGS,
};

const REMOVAL = [
  ['DescribeDBInstancesCommand', { DBInstanceIdentifier: DRILL_WRITER }],
  ['DeleteDBInstanceCommand', { DBInstanceIdentifier: DRILL_WRITER }],
  ['DescribeDBInstancesCommand', { DBInstanceIdentifier: DRILL_WRITER }],
  ['DescribeDBInstancesCommand', { DBInstanceIdentifier: DRILL_WRITER }],
  ['DescribeDBClustersCommand', { DBClusterIdentifier: DRILL }],
  ['DeleteDBClusterCommand', { DBClusterIdentifier: DRILL, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }],
  ['DescribeDBClustersCommand', { DBClusterIdentifier: DRILL }],
  ['DescribeDBClustersCommand', { DBClusterIdentifier: DRILL }],
];

describe('restore-drill on a cluster: the flow', () => {
  test('restores the cluster, gives it a writer and a master secret, verifies, deletes writer then cluster', async () => {
    const database = tools();
    const result = await runCli(drill(), { database });
    expect(result.code).toBe(0);
    expect(sent(rdsMock)).toEqual([
      ['DescribeDBClustersCommand', { DBClusterIdentifier: CLUSTER }],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: WRITER }],
      ['DescribeDBSubnetGroupsCommand', { DBSubnetGroupName: 'accessweaver-prod-db-subnet-group' }],
      ['DescribeDBClustersCommand', { DBClusterIdentifier: DRILL }],
      [
        'RestoreDBClusterToPointInTimeCommand',
        {
          SourceDBClusterIdentifier: CLUSTER,
          DBClusterIdentifier: DRILL,
          UseLatestRestorableTime: true,
          DBSubnetGroupName: 'accessweaver-prod-db-subnet-group',
          VpcSecurityGroupIds: [GROUP],
          DBClusterParameterGroupName: 'accessweaver-prod-cluster-params-20260101',
          StorageType: 'aurora-iopt1',
          DeletionProtection: false,
          CopyTagsToSnapshot: false,
          Tags: TAGS,
        },
      ],
      ['CreateDBInstanceCommand', WRITER_INPUT],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: DRILL_WRITER }],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: DRILL_WRITER }],
      ['DescribeDBClustersCommand', { DBClusterIdentifier: DRILL }],
      [
        'ModifyDBClusterCommand',
        {
          DBClusterIdentifier: DRILL,
          ManageMasterUserPassword: true,
          MasterUserSecretKmsKeyId: KMS_KEY_ARN,
          ApplyImmediately: true,
        },
      ],
      ['DescribeDBClustersCommand', { DBClusterIdentifier: DRILL }],
      ...REMOVAL,
    ]);
    expect(sentNames(ec2Mock)).toEqual([
      'CreateSecurityGroupCommand',
      'RevokeSecurityGroupEgressCommand',
      'AuthorizeSecurityGroupIngressCommand',
      'DescribeSecurityGroupsCommand',
      'DeleteSecurityGroupCommand',
    ]);
    expect(database.connections.map((c) => c.display)).toEqual([
      `accessweaver_admin@${DRILL_ENDPOINT}:5432/accessweaver (sslmode=verify-full)`,
    ]);
  });

  test('measures the time to a usable cluster against the RTO and reports the cluster cleaned up', async () => {
    const result = await runCli(drill('--json'), { database: tools() });
    expect(JSON.parse(result.stdout)).toMatchObject({
      drill: DRILL,
      outcome: 'objectives met',
      // writer: creating, then available 30 s later; the secret: requested, then active 30 s later.
      rto: { objectiveMinutes: 15, usableSeconds: 60, met: true },
      rpo: { pointTime: '2026-03-14T02:25:00.000Z', pointAgeSeconds: 300, met: true },
      timings: { restoreSeconds: 60, verificationSeconds: 0 },
      cleanup: { cluster: 'deleted', securityGroup: 'deleted', error: null },
    });
  });

  test('waits until the new master secret is active, asking for it once', async () => {
    const creating = drillCluster('available', {
      MasterUserSecret: { SecretArn: DRILL_SECRET, SecretStatus: 'creating' },
    });
    clusterStates('absent', drillCluster('available'), creating, withSecret('available'), withSecret('available'));
    const result = await runCli(drill('--json'), { database: tools() });
    expect(sentNames(rdsMock).filter((name) => name === 'ModifyDBClusterCommand')).toHaveLength(1);
    // 30 s for the writer, then 60 s for the secret: requested, creating, active.
    expect(JSON.parse(result.stdout).timings).toEqual({ restoreSeconds: 90, verificationSeconds: 0 });
  });

  test('asks to type the cluster identifier back', async () => {
    const result = await runCli(
      drill().filter((arg) => arg !== '--yes'),
      {
        interactive: true,
        answers: [CLUSTER],
        database: tools(),
      },
    );
    expect(result.questions).toEqual([`Type the cluster identifier '${CLUSTER}' to run a restore drill from it: `]);
    expect(result.code).toBe(0);
  });

  test('--latest-snapshot restores the newest Aurora snapshot recovery point of the cluster', async () => {
    backupMock.on(ListRecoveryPointsByBackupVaultCommand).resolves({
      RecoveryPoints: [
        {
          RecoveryPointArn: 'arn:aws:rds:eu-west-3:123456789012:cluster-snapshot:awsbackup:job-old',
          ResourceArn: `arn:aws:rds:eu-west-3:123456789012:cluster:${CLUSTER}`,
          Status: 'COMPLETED',
          CreationDate: new Date('2026-03-13T00:00:00Z'),
        },
        {
          RecoveryPointArn: SNAPSHOT_ARN,
          ResourceArn: `arn:aws:rds:eu-west-3:123456789012:cluster:${CLUSTER}`,
          Status: 'COMPLETED',
          CreationDate: new Date('2026-03-14T00:00:00Z'),
        },
        {
          RecoveryPointArn: 'arn:aws:backup:eu-west-3:123456789012:recovery-point:continuous:cluster-abc',
          ResourceArn: `arn:aws:rds:eu-west-3:123456789012:cluster:${CLUSTER}`,
          Status: 'COMPLETED',
          CreationDate: new Date('2026-03-14T02:00:00Z'),
        },
        {
          RecoveryPointArn: 'arn:aws:rds:eu-west-3:123456789012:cluster-snapshot:awsbackup:job-other',
          ResourceArn: 'arn:aws:rds:eu-west-3:123456789012:cluster:accessweaver-staging-cluster',
          Status: 'COMPLETED',
          CreationDate: new Date('2026-03-14T01:00:00Z'),
        },
      ],
    });
    await runCli(drill('--latest-snapshot'), { database: tools() });
    expect(sent(backupMock)).toEqual([
      [
        'ListRecoveryPointsByBackupVaultCommand',
        { BackupVaultName: 'accessweaver-prod-backup', ByResourceType: 'Aurora' },
      ],
    ]);
    const [, input] = sent(rdsMock).find(([name]) => name === 'RestoreDBClusterFromSnapshotCommand') ?? [];
    expect(input).toEqual({
      SnapshotIdentifier: SNAPSHOT_ARN,
      Engine: 'aurora-postgresql',
      DBClusterIdentifier: DRILL,
      DBSubnetGroupName: 'accessweaver-prod-db-subnet-group',
      VpcSecurityGroupIds: [GROUP],
      DBClusterParameterGroupName: 'accessweaver-prod-cluster-params-20260101',
      StorageType: 'aurora-iopt1',
      DeletionProtection: false,
      CopyTagsToSnapshot: false,
      Tags: TAGS,
    });
  });

  test('--from-region restores the DR copy there without reading the cluster: defaults and the table’s class', async () => {
    backupMock.on(ListRecoveryPointsByBackupVaultCommand).resolves({
      RecoveryPoints: [
        {
          RecoveryPointArn: 'arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:awsbackup:copyjob-1',
          ResourceArn: `arn:aws:rds:eu-west-3:123456789012:cluster:${CLUSTER}`,
          Status: 'COMPLETED',
          CreationDate: new Date('2026-03-14T00:20:00Z'),
        },
      ],
    });
    const result = await runCli(drill('--from-region', 'eu-west-1'), { database: tools() });
    expect(result.code).toBe(5); // verified, but the copy is older than prod's RPO
    const rds = sent(rdsMock);
    expect(rds.slice(0, 2)).toEqual([
      ['DescribeDBSubnetGroupsCommand', { DBSubnetGroupName: 'accessweaver-prod-db-subnet-group' }],
      ['DescribeDBClustersCommand', { DBClusterIdentifier: DRILL }],
    ]);
    expect(rds.find(([name]) => name === 'RestoreDBClusterFromSnapshotCommand')?.[1]).toEqual({
      SnapshotIdentifier: 'arn:aws:rds:eu-west-1:123456789012:cluster-snapshot:awsbackup:copyjob-1',
      Engine: 'aurora-postgresql',
      DBClusterIdentifier: DRILL,
      DBSubnetGroupName: 'accessweaver-prod-db-subnet-group',
      VpcSecurityGroupIds: [GROUP],
      DeletionProtection: false,
      CopyTagsToSnapshot: false,
      Tags: TAGS,
    });
    expect(rds.find(([name]) => name === 'CreateDBInstanceCommand')?.[1]).toEqual({
      DBInstanceIdentifier: DRILL_WRITER,
      DBClusterIdentifier: DRILL,
      DBInstanceClass: 'db.r6g.large',
      Engine: 'aurora-postgresql',
      PubliclyAccessible: false,
      Tags: TAGS,
    });
    expect(rds.find(([name]) => name === 'ModifyDBClusterCommand')?.[1]).toEqual({
      DBClusterIdentifier: DRILL,
      ManageMasterUserPassword: true,
      ApplyImmediately: true,
    });
  });

  test('--dry-run prints the cluster calls, cleanup included, after read calls only', async () => {
    const result = await runCli([...drill('--dry-run', '--json')].filter((arg) => arg !== '--yes'));
    expect(result.code).toBe(0);
    const { steps } = JSON.parse(result.stdout) as { steps: { operation: string }[] };
    expect(steps.map((s) => s.operation)).toEqual([
      'CreateSecurityGroup',
      'RevokeSecurityGroupEgress',
      'AuthorizeSecurityGroupIngress',
      'RestoreDBClusterToPointInTime',
      'CreateDBInstance',
      'wait',
      'ModifyDBCluster',
      'wait',
      'verify',
      'DeleteDBInstance',
      'wait',
      'DeleteDBCluster',
      'wait',
      'DeleteSecurityGroup',
    ]);
    expect(sentNames(rdsMock)).toEqual([
      'DescribeDBClustersCommand',
      'DescribeDBInstancesCommand',
      'DescribeDBSubnetGroupsCommand',
      'DescribeDBClustersCommand',
    ]);
    expect(sentNames(ec2Mock)).toEqual([]);
  });
});

describe('restore-drill on a cluster: cleanup whatever happened, and only its own', () => {
  test('a rejected restore: no writer is created, nothing but the group is deleted; exit 1', async () => {
    rdsMock
      .on(RestoreDBClusterToPointInTimeCommand)
      .rejects(Object.assign(new Error('Restore is not possible now.'), { name: 'InvalidRestoreFault' }));
    clusterStates('absent');
    writerStates();
    const result = await runCli(drill('--json'), { database: tools() });
    expect(result.code).toBe(1);
    expect(sentNames(rdsMock)).not.toContain('CreateDBInstanceCommand');
    expect(sentNames(rdsMock)).not.toContain('DeleteDBInstanceCommand');
    expect(sentNames(rdsMock)).not.toContain('DeleteDBClusterCommand');
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: expect.stringContaining(`RestoreDBClusterToPointInTime ${DRILL}: InvalidRestoreFault`),
      cleanup: { cluster: 'never created', securityGroup: 'deleted' },
    });
  });

  test('a writer that fails: the writer, then the cluster, then the group are deleted; exit 1', async () => {
    writerStates(drillWriter('creating'), drillWriter('failed'), drillWriter('failed'), 'absent');
    clusterStates('absent', withSecret('available'), 'absent');
    const result = await runCli(drill('--json'), { database: tools() });
    expect(result.code).toBe(1);
    expect(sentNames(rdsMock)).not.toContain('ModifyDBClusterCommand');
    expect(sentNames(rdsMock).filter((n) => n.startsWith('Delete'))).toEqual([
      'DeleteDBInstanceCommand',
      'DeleteDBClusterCommand',
    ]);
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: expect.stringContaining(`${DRILL_WRITER} available: status 'failed'`),
      cleanup: { cluster: 'deleted', securityGroup: 'deleted' },
    });
  });

  test('a writer without the drill tag is not deleted, nor the cluster, nor the group; exit 3', async () => {
    writerStates(drillWriter('creating'), drillWriter('available'), drillWriter('available', { TagList: [] }));
    const result = await runCli(drill('--json'), { database: tools() });
    expect(result.code).toBe(3);
    expect(sentNames(rdsMock).filter((n) => n.startsWith('Delete'))).toEqual([]);
    expect(sentNames(ec2Mock)).not.toContain('DeleteSecurityGroupCommand');
    expect(JSON.parse(result.stdout).cleanup).toEqual({
      cluster: 'left',
      securityGroup: null,
      error: expect.stringMatching(new RegExp(`^Refusing to delete DB instance ${DRILL_WRITER}: it is not`)),
    });
  });

  test('a cluster whose drill tag names another drill is not deleted; exit 3', async () => {
    const other = [...TAGS.slice(0, 4), { Key: 'accessweaver-rds:restore-drill', Value: CLUSTER }];
    clusterStates('absent', drillCluster('available'), withSecret('available'), {
      ...withSecret('available'),
      TagList: other,
    });
    const result = await runCli(drill('--json'), { database: tools() });
    expect(result.code).toBe(3);
    expect(sentNames(rdsMock)).toContain('DeleteDBInstanceCommand');
    expect(sentNames(rdsMock)).not.toContain('DeleteDBClusterCommand');
    expect(JSON.parse(result.stdout).cleanup.error).toMatch(/^Refusing to delete DB cluster /);
  });
});

test("the writer's guard needs its own exact name under the drill prefix, and the drill's tag", async () => {
  const { isOwnDrillResource } = await import('../../src/cli/drill-resources');
  const own = { identifier: DRILL, prefix: 'accessweaver-prod-drill-', project: 'accessweaver', env: 'prod' };
  expect(isOwnDrillResource(own, DRILL_WRITER, TAGS, DRILL_WRITER)).toBe(true);
  expect(isOwnDrillResource(own, DRILL, TAGS, DRILL_WRITER)).toBe(false);
  expect(isOwnDrillResource(own, WRITER, TAGS, WRITER)).toBe(false);
});
