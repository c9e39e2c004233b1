/**
 * The commands on an Aurora PostgreSQL cluster (`--engine aurora-cluster`): the same flows as on a DB instance,
 * through the cluster's own API calls, checked call by call.
 */
import { DescribeAlarmsCommand, GetMetricDataCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  DBClusterNotFoundFault,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeOrderableDBInstanceOptionsCommand,
  ModifyDBInstanceCommand,
  RestoreDBClusterToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import {
  auroraCluster,
  auroraWriter,
  cloudwatchMock,
  KMS_KEY_ARN,
  rdsMock,
  resetAwsMocks,
  secretsMock,
  sent,
} from './support/aws';
import { resolveConnection } from '../../src/cli/connection';
import { runCli, StubSigner, testAwsClients } from './support/harness';

// The fake clock starts at 2026-03-14T02:30:00Z, hence the 20260314-023000 suffixes.
const CLUSTER = 'accessweaver-prod-cluster';
const WRITER = 'accessweaver-prod-primary';
const AURORA = ['--env', 'prod', '--engine', 'aurora-cluster'];
const tags = (purpose: string) => [
  { Key: 'Project', Value: 'accessweaver' },
  { Key: 'Environment', Value: 'prod' },
  { Key: 'Purpose', Value: purpose },
  { Key: 'CreatedBy', Value: 'accessweaver-rds' },
];

beforeEach(() => {
  resetAwsMocks();
  rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: CLUSTER }).resolves({ DBClusters: [auroraCluster()] });
  rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: WRITER }).resolves({ DBInstances: [auroraWriter()] });
  rdsMock.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [{ Status: 'available' }] });
});

describe('health-check on a cluster', () => {
  beforeEach(() => {
    cloudwatchMock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    cloudwatchMock.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
    secretsMock.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
  });

  test('reads the cluster and its writer, and the writer role of the cluster metrics', async () => {
    await runCli(['health-check', ...AURORA, '--no-connect']);
    expect(sent(rdsMock)).toEqual([
      ['DescribeDBClustersCommand', { DBClusterIdentifier: CLUSTER }],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: WRITER }],
    ]);
    expect(sent(cloudwatchMock)[1]).toEqual([
      'GetMetricStatisticsCommand',
      expect.objectContaining({
        Dimensions: [
          { Name: 'DBClusterIdentifier', Value: CLUSTER },
          { Name: 'Role', Value: 'WRITER' },
        ],
      }),
    ]);
  });

  test('reports the cluster status, the writer class and the readers', async () => {
    const result = await runCli(['health-check', ...AURORA, '--no-connect', '--json']);
    const { instance, checks } = JSON.parse(result.stdout);
    expect(instance).toMatchObject({
      identifier: CLUSTER,
      instanceClass: 'db.r6g.large',
      replicas: ['accessweaver-prod-replica-1', 'accessweaver-prod-replica-2'],
    });
    expect(checks[0]).toEqual({ check: 'cluster status', status: 'ok', detail: 'available' });
  });
});

test('monitoring asks for the writer role of the cluster metrics', async () => {
  cloudwatchMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  await runCli(['monitoring', ...AURORA, '--no-sql']);
  const [[, input]] = sent(cloudwatchMock) as [[string, { MetricDataQueries: { MetricStat: unknown }[] }]];
  expect(input.MetricDataQueries[0].MetricStat).toMatchObject({
    Metric: {
      Dimensions: [
        { Name: 'DBClusterIdentifier', Value: CLUSTER },
        { Name: 'Role', Value: 'WRITER' },
      ],
    },
  });
});

describe('scale on a cluster', () => {
  const SNAPSHOT = 'accessweaver-prod-pre-scale-20260314-023000';

  beforeEach(() => {
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: WRITER })
      .resolvesOnce({ DBInstances: [auroraWriter()] })
      .resolves({ DBInstances: [auroraWriter({ DBInstanceClass: 'db.r6g.xlarge' })] });
    rdsMock.on(DescribeOrderableDBInstanceOptionsCommand).resolves({
      OrderableDBInstanceOptions: [{ Engine: 'aurora-postgresql', StorageType: 'aurora-iopt1' }],
    });
    rdsMock.on(ModifyDBInstanceCommand).resolves({});
  });

  test('snapshots the cluster, then moves the writer instance to the class and waits for it', async () => {
    const result = await runCli(['scale', ...AURORA, '--instance-class', 'db.r6g.xlarge', '--yes']);
    expect(result.code).toBe(0);
    expect(sent(rdsMock)).toEqual([
      ['DescribeDBClustersCommand', { DBClusterIdentifier: CLUSTER }],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: WRITER }],
      [
        'DescribeOrderableDBInstanceOptionsCommand',
        {
          Engine: 'aurora-postgresql',
          EngineVersion: '15.10',
          DBInstanceClass: 'db.r6g.xlarge',
          Vpc: true,
          MaxRecords: 100,
        },
      ],
      [
        'CreateDBClusterSnapshotCommand',
        { DBClusterIdentifier: CLUSTER, DBClusterSnapshotIdentifier: SNAPSHOT, Tags: tags('pre-scale') },
      ],
      ['DescribeDBClusterSnapshotsCommand', { DBClusterSnapshotIdentifier: SNAPSHOT }],
      [
        'ModifyDBInstanceCommand',
        { DBInstanceIdentifier: WRITER, DBInstanceClass: 'db.r6g.xlarge', ApplyImmediately: true },
      ],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: WRITER }],
    ]);
  });

  test('asks to type the cluster identifier back', async () => {
    const result = await runCli(['scale', ...AURORA, '--instance-class', 'db.r6g.xlarge'], {
      interactive: true,
      answers: [CLUSTER],
    });
    expect(result.questions).toEqual([`Type the cluster identifier '${CLUSTER}' to scale it: `]);
    expect(result.code).toBe(0);
  });
});

describe('restore on a cluster', () => {
  const SNAPSHOT = 'accessweaver-prod-emergency-20260314-023000';
  const RESTORED = 'accessweaver-prod-restored-20260314-023000';
  const RESTORED_WRITER = `${RESTORED}-writer`;
  const RESTORE_TAGS = [
    { Key: 'Project', Value: 'accessweaver' },
    { Key: 'Environment', Value: 'prod' },
    { Key: 'RestoredFrom', Value: CLUSTER },
    { Key: 'RestoreTime', Value: 'latest' },
    { Key: 'CreatedBy', Value: 'accessweaver-rds' },
  ];

  beforeEach(() => {
    rdsMock
      .on(DescribeDBClustersCommand, { DBClusterIdentifier: RESTORED })
      .rejectsOnce(new DBClusterNotFoundFault({ message: `DBCluster ${RESTORED} not found`, $metadata: {} }))
      .resolves({ DBClusters: [auroraCluster({ DBClusterIdentifier: RESTORED, Endpoint: 'restored.example' })] });
    rdsMock.on(CreateDBClusterSnapshotCommand).resolves({});
    rdsMock.on(RestoreDBClusterToPointInTimeCommand).resolves({});
    rdsMock.on(CreateDBInstanceCommand).resolves({});
    rdsMock
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: RESTORED_WRITER })
      .resolves({ DBInstances: [auroraWriter({ DBInstanceIdentifier: RESTORED_WRITER })] });
  });

  test('snapshots the cluster, restores it into a new cluster, gives that a writer and waits for it', async () => {
    const result = await runCli(['restore', ...AURORA, '--latest', '--yes', '--json']);
    expect(result.code).toBe(0);
    expect(sent(rdsMock)).toEqual([
      ['DescribeDBClustersCommand', { DBClusterIdentifier: CLUSTER }],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: WRITER }],
      ['DescribeDBClustersCommand', { DBClusterIdentifier: RESTORED }],
      [
        'CreateDBClusterSnapshotCommand',
        { DBClusterIdentifier: CLUSTER, DBClusterSnapshotIdentifier: SNAPSHOT, Tags: tags('emergency-restore') },
      ],
      ['DescribeDBClusterSnapshotsCommand', { DBClusterSnapshotIdentifier: SNAPSHOT }],
      [
        'RestoreDBClusterToPointInTimeCommand',
        {
          SourceDBClusterIdentifier: CLUSTER,
          DBClusterIdentifier: RESTORED,
          UseLatestRestorableTime: true,
          DBSubnetGroupName: 'accessweaver-prod-db-subnet-group',
          VpcSecurityGroupIds: ['sg-0db0000000000001'],
          DBClusterParameterGroupName: 'accessweaver-prod-cluster-params-20260101',
          KmsKeyId: KMS_KEY_ARN,
          StorageType: 'aurora-iopt1',
          EnableIAMDatabaseAuthentication: true,
          EnableCloudwatchLogsExports: ['postgresql'],
          DeletionProtection: true,
          CopyTagsToSnapshot: true,
          Tags: RESTORE_TAGS,
        },
      ],
      [
        'CreateDBInstanceCommand',
        {
          DBInstanceIdentifier: RESTORED_WRITER,
          DBClusterIdentifier: RESTORED,
          DBInstanceClass: 'db.r6g.large',
          Engine: 'aurora-postgresql',
          DBParameterGroupName: 'accessweaver-prod-pg-params',
          Tags: RESTORE_TAGS,
        },
      ],
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: RESTORED_WRITER }],
      ['DescribeDBClustersCommand', { DBClusterIdentifier: RESTORED }],
    ]);
    expect(JSON.parse(result.stdout).endpoint).toBe('restored.example:5432');
  });

  test('refuses a target identifier that already names a cluster, before the snapshot', async () => {
    const result = await runCli(['restore', ...AURORA, '--latest', '--yes', '--target-identifier', CLUSTER]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`A cluster named ${CLUSTER} already exists`);
  });
});

test("the operator's IAM token is signed for the cluster's writer endpoint", async () => {
  const signer = new StubSigner();
  const ca = { caBundle: __filename };
  const deps = { aws: () => testAwsClients(), env: {}, iamAuthToken: signer.sign };
  await resolveConnection({ env: 'prod', engine: 'aurora-cluster', ...ca }, 'operator', deps);
  expect(signer.requests).toEqual([
    { hostname: auroraCluster().Endpoint, port: 5432, username: 'accessweaver_iam_operator', region: undefined },
  ]);
});
