/**
 * The Aurora PostgreSQL engine behind the CLI's seam (engine.ts): a DB cluster whose writer and readers are DB
 * instances of it. The cluster holds the endpoint, the backups, the security groups and the point-in-time
 * recovery; the writer instance holds the class. Every DB cluster API the operational commands call is here.
 */
import {
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  RestoreDBClusterToPointInTimeCommand,
  type CreateDBInstanceCommandInput,
  type DBCluster,
  type DBInstance,
  type RDSClient,
  type RestoreDBClusterToPointInTimeCommandInput,
  type Tag,
} from '@aws-sdk/client-rds';
import { awsCall, awsError } from './aws';
import {
  checkOrderable,
  describeInstance,
  scaleWriter,
  snapshotOperation,
  waitForInstance,
  type SnapshotCalls,
} from './db-instance';
import type { DatabaseState, DeployedDatabase, Operation, RestoreOutcome, RestoreRequest } from './engine';
import { unavailableError, usageError } from './exit-codes';
import { waitStep } from './rds-flows';
import { formatElapsed } from './wait';

export async function describeCluster(rds: RDSClient, identifier: string): Promise<DBCluster> {
  const output = await awsCall(`DescribeDBClusters ${identifier}`, () =>
    rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier })),
  );
  const cluster = output.DBClusters?.[0];
  if (cluster === undefined) throw unavailableError(`DB cluster ${identifier} not found.`);
  return cluster;
}

const writerOf = (cluster: DBCluster) => cluster.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;

/** The engine-neutral reading of a cluster and its writer instance. */
export function clusterState(identifier: string, cluster: DBCluster, writer: DBInstance): DatabaseState {
  return {
    identifier,
    status: cluster.Status ?? 'unknown',
    engine: cluster.Engine ?? 'aurora-postgresql',
    engineVersion: cluster.EngineVersion,
    writerClass: writer.DBInstanceClass,
    multiAz: cluster.MultiAZ,
    writer:
      cluster.Endpoint === undefined || cluster.Port === undefined
        ? undefined
        : { host: cluster.Endpoint, port: cluster.Port },
    databaseName: cluster.DatabaseName,
    readers: (cluster.DBClusterMembers ?? []).flatMap((m) =>
      m.IsClusterWriter || m.DBInstanceIdentifier === undefined ? [] : [m.DBInstanceIdentifier],
    ),
    securityGroups: (cluster.VpcSecurityGroups ?? []).map((g) => ({
      id: g.VpcSecurityGroupId ?? '',
      status: g.Status ?? 'unknown',
    })),
    // Aurora storage grows by itself; the cluster reports no size to judge.
    storageGiB: undefined,
    storageType: cluster.StorageType,
    backupRetentionDays: cluster.BackupRetentionPeriod ?? 0,
    latestRestorableTime: cluster.LatestRestorableTime,
    iamAuthentication: cluster.IAMDatabaseAuthenticationEnabled,
    masterSecretArn: cluster.MasterUserSecret?.SecretArn,
  };
}

/** The cluster's identifier must be free: checked before the snapshot, not discovered after it. */
async function checkClusterFree(rds: RDSClient, identifier: string): Promise<void> {
  try {
    await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
  } catch (error) {
    if ((error as { name?: string }).name?.startsWith('DBClusterNotFound')) return;
    throw awsError(error, `DescribeDBClusters ${identifier}`);
  }
  throw usageError(`A cluster named ${identifier} already exists: choose another --target-identifier.`);
}

/**
 * The restored cluster: the source's network, cluster parameter group, storage, logs, IAM authentication and
 * deletion protection, so it can take the source's place. Its master password is the source's at the restore time.
 */
export function clusterRestoreInput(
  source: DBCluster,
  sourceIdentifier: string,
  request: Pick<RestoreRequest, 'targetIdentifier' | 'restoreTime' | 'tags'>,
): RestoreDBClusterToPointInTimeCommandInput {
  return {
    SourceDBClusterIdentifier: sourceIdentifier,
    DBClusterIdentifier: request.targetIdentifier,
    ...(request.restoreTime === undefined ? { UseLatestRestorableTime: true } : { RestoreToTime: request.restoreTime }),
    DBSubnetGroupName: source.DBSubnetGroup,
    VpcSecurityGroupIds: (source.VpcSecurityGroups ?? []).flatMap((g) =>
      g.VpcSecurityGroupId === undefined ? [] : [g.VpcSecurityGroupId],
    ),
    DBClusterParameterGroupName: source.DBClusterParameterGroup,
    KmsKeyId: source.KmsKeyId,
    StorageType: source.StorageType,
    EnableIAMDatabaseAuthentication: source.IAMDatabaseAuthenticationEnabled,
    EnableCloudwatchLogsExports: source.EnabledCloudwatchLogsExports,
    DeletionProtection: source.DeletionProtection,
    CopyTagsToSnapshot: true,
    Tags: [...request.tags],
  };
}

/** A restored cluster has no instance: its writer, on the source writer's class and DB parameter group. */
export function restoredWriterInput(
  writer: DBInstance,
  request: Pick<RestoreRequest, 'targetIdentifier' | 'tags'>,
): CreateDBInstanceCommandInput {
  return {
    DBInstanceIdentifier: `${request.targetIdentifier}-writer`,
    DBClusterIdentifier: request.targetIdentifier,
    DBInstanceClass: writer.DBInstanceClass,
    Engine: writer.Engine,
    DBParameterGroupName: writer.DBParameterGroups?.[0]?.DBParameterGroupName,
    Tags: [...request.tags],
  };
}

// RestoreDBClusterToPointInTime cannot ask for a managed master secret: the restored cluster keeps the password.
const MASTER_PASSWORD =
  "the source's at the restore time; `aws rds modify-db-cluster --manage-master-user-password` gives it a secret";

function restoreCluster(
  rds: RDSClient,
  source: { readonly cluster: DBCluster; readonly writer: DBInstance; readonly identifier: string },
  request: RestoreRequest,
): Operation<RestoreOutcome> {
  const { targetIdentifier, waits } = request;
  const restore = clusterRestoreInput(source.cluster, source.identifier, request);
  const writer = restoredWriterInput(source.writer, request);
  const writerId = writer.DBInstanceIdentifier ?? '';
  const label = `${writerId} available`;
  return {
    steps: [
      { operation: 'RestoreDBClusterToPointInTime', input: { ...restore } },
      { operation: 'CreateDBInstance', input: { ...writer }, note: 'the restored cluster has no instance of its own' },
      ...(request.wait ? [waitStep(label, 'DescribeDBInstances', waits.deps, waits.timeoutMinutes)] : []),
    ],
    async run() {
      waits.reporter.progress(`Requesting restore into cluster ${targetIdentifier}`);
      await awsCall(`RestoreDBClusterToPointInTime ${targetIdentifier}`, () =>
        rds.send(new RestoreDBClusterToPointInTimeCommand(restore)),
      );
      await awsCall(`CreateDBInstance ${writerId}`, () => rds.send(new CreateDBInstanceCommand(writer)));
      if (!request.wait) return { status: 'requested', endpoint: undefined, masterPassword: MASTER_PASSWORD };
      const available = (i: DBInstance) => i.DBInstanceStatus === 'available';
      const { elapsedMs } = await waitForInstance(rds, writerId, available, { ...waits, label });
      waits.reporter.progress(`${targetIdentifier} available after ${formatElapsed(elapsedMs)}`);
      const restored = await describeCluster(rds, targetIdentifier);
      const endpoint = restored.Endpoint && `${restored.Endpoint}:${restored.Port ?? ''}`;
      return { status: 'available', endpoint, masterPassword: MASTER_PASSWORD };
    },
  };
}

function clusterSnapshot(rds: RDSClient, cluster: string, id: string, tags: readonly Tag[]): SnapshotCalls {
  const input = { DBClusterIdentifier: cluster, DBClusterSnapshotIdentifier: id, Tags: [...tags] };
  return {
    operation: 'CreateDBClusterSnapshot',
    input,
    create: () => rds.send(new CreateDBClusterSnapshotCommand(input)),
    readOperation: 'DescribeDBClusterSnapshots',
    read: async () =>
      (await rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id })))
        .DBClusterSnapshots?.[0],
    followUp: `aws rds describe-db-cluster-snapshots --db-cluster-snapshot-identifier ${id}`,
  };
}

/**
 * The deployed Aurora cluster `identifier`. Its DescribeDBClusters answer and its writer's DescribeDBInstances
 * answer are read once and kept, so a flow plans and changes from the same reading.
 */
export function clusterDatabase(rds: RDSClient, identifier: string): DeployedDatabase {
  let described: { cluster: DBCluster; writer: DBInstance; identifier: string } | undefined;
  const source = async () => {
    if (described !== undefined) return described;
    const cluster = await describeCluster(rds, identifier);
    const writerId = writerOf(cluster);
    if (writerId === undefined) throw unavailableError(`DB cluster ${identifier} has no writer instance.`);
    described = { cluster, writer: await describeInstance(rds, writerId), identifier };
    return described;
  };
  return {
    noun: 'cluster',
    identifier,
    describe: async () => {
      const { cluster, writer } = await source();
      return clusterState(identifier, cluster, writer);
    },
    // Aurora publishes per-role figures of the cluster: the writer's is the primary's equivalent.
    writerDimensions: () => [
      { Name: 'DBClusterIdentifier', Value: identifier },
      { Name: 'Role', Value: 'WRITER' },
    ],
    checkClass: (state, instanceClass) => checkOrderable(rds, state, instanceClass),
    scaleImpact: () =>
      'Aurora: the writer instance restarts on the new class (a minute or more without writes); readers keep theirs.',
    safetySnapshot: (snapshotId, tags, waits) =>
      snapshotOperation(snapshotId, identifier, clusterSnapshot(rds, identifier, snapshotId, tags), waits),
    // The class is the writer instance's: the instance engine's change, on the writer.
    scaleWriter: async (request) => scaleWriter(rds, (await source()).writer.DBInstanceIdentifier ?? '', request),
    checkFree: (candidate) => checkClusterFree(rds, candidate),
    restoreToPointInTime: async (request) => restoreCluster(rds, await source(), request),
  };
}
