/**
 * The Aurora PostgreSQL engine behind the CLI's seam (engine.ts): a DB cluster whose writer and readers are DB
 * instances of it. The cluster holds the endpoint, the backups, the security groups and the point-in-time
 * recovery; the writer instance holds the class. Every DB cluster API the operational commands call is here.
 */
import {
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  DeleteDBClusterCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  ModifyDBClusterCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBClusterToPointInTimeCommand,
  type CreateDBInstanceCommandInput,
  type DBCluster,
  type DBInstance,
  type DeleteDBClusterCommandInput,
  type ModifyDBClusterCommandInput,
  type RDSClient,
  type RestoreDBClusterFromSnapshotCommandInput,
  type RestoreDBClusterToPointInTimeCommandInput,
  type Tag,
} from '@aws-sdk/client-rds';
import { awsCall, awsCallUnlessNotFound } from './aws';
import {
  checkOrderable,
  describeInstance,
  removableInstance,
  scaleWriter,
  snapshotOperation,
  waitForInstance,
  type SnapshotCalls,
} from './db-instance';
import {
  drillEndpoint,
  drillTags,
  removeDrillResource,
  requestDeletion,
  type RemovableResource,
} from './drill-resources';
import type {
  DatabaseState,
  DeployedDatabase,
  DrillRequest,
  Operation,
  RestoreOutcome,
  RestoreRequest,
  TemporaryDatabase,
  Waits,
} from './engine';
import { unavailableError, usageError } from './exit-codes';
import { waitStep } from './rds-flows';
import { formatElapsed, pollTiming, pollUntil, type PollState } from './wait';

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
    subnetGroup: cluster.DBSubnetGroup,
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

const isNotFound = (error: unknown) => (error as { name?: string }).name?.startsWith('DBClusterNotFound') === true;

/** The cluster's identifier must be free: checked before the snapshot, not discovered after it. */
async function checkClusterFree(rds: RDSClient, identifier: string): Promise<void> {
  if ((await readCluster(rds, identifier)) === undefined) return;
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

// The module's engine: what a snapshot restore names when the deployed cluster was not read (another region).
const AURORA_ENGINE = 'aurora-postgresql';

interface ClusterSource {
  readonly cluster: DBCluster;
  readonly writer: DBInstance;
  readonly identifier: string;
}

type ClusterDrillRestore =
  | { readonly operation: 'RestoreDBClusterToPointInTime'; readonly input: RestoreDBClusterToPointInTimeCommandInput }
  | { readonly operation: 'RestoreDBClusterFromSnapshot'; readonly input: RestoreDBClusterFromSnapshotCommandInput };

/**
 * A drill's cluster: only the drill's security group, no deletion protection, and in the source's region its cluster
 * parameter group and storage type (RDS's defaults in another region, where they do not exist).
 */
function drillClusterInput(
  source: ClusterSource | undefined,
  sourceIdentifier: string,
  request: DrillRequest,
): ClusterDrillRestore {
  const { drill, point } = request;
  const cluster = source?.cluster;
  const common = {
    DBClusterIdentifier: drill.identifier,
    DBSubnetGroupName: request.subnetGroup,
    VpcSecurityGroupIds: ['<security group created above>'],
    ...(cluster?.DBClusterParameterGroup === undefined
      ? {}
      : { DBClusterParameterGroupName: cluster.DBClusterParameterGroup }),
    ...(cluster?.StorageType === undefined ? {} : { StorageType: cluster.StorageType }),
    DeletionProtection: false,
    CopyTagsToSnapshot: false,
    Tags: drillTags(drill),
  };
  if (point.kind === 'snapshot') {
    const engine = cluster?.Engine ?? AURORA_ENGINE;
    return {
      operation: 'RestoreDBClusterFromSnapshot',
      input: { SnapshotIdentifier: point.arn, Engine: engine, ...common },
    };
  }
  return {
    operation: 'RestoreDBClusterToPointInTime',
    input: {
      SourceDBClusterIdentifier: sourceIdentifier,
      ...(point.time === undefined ? { UseLatestRestorableTime: true } : { RestoreToTime: point.time }),
      ...common,
    },
  };
}

function sendClusterRestore(rds: RDSClient, restore: ClusterDrillRestore, groupId: string): Promise<unknown> {
  const VpcSecurityGroupIds = [groupId];
  return restore.operation === 'RestoreDBClusterToPointInTime'
    ? rds.send(new RestoreDBClusterToPointInTimeCommand({ ...restore.input, VpcSecurityGroupIds }))
    : rds.send(new RestoreDBClusterFromSnapshotCommand({ ...restore.input, VpcSecurityGroupIds }));
}

/** The drill cluster's writer: the deployed writer's class and DB parameter group in its region, never public. */
function drillWriterInput(source: ClusterSource | undefined, request: DrillRequest): CreateDBInstanceCommandInput {
  const { drill } = request;
  const parameterGroup = source?.writer.DBParameterGroups?.[0]?.DBParameterGroupName;
  return {
    DBInstanceIdentifier: `${drill.identifier}-writer`,
    DBClusterIdentifier: drill.identifier,
    DBInstanceClass: source?.writer.DBInstanceClass ?? request.instanceClass,
    Engine: source?.cluster.Engine ?? AURORA_ENGINE,
    ...(parameterGroup === undefined ? {} : { DBParameterGroupName: parameterGroup }),
    PubliclyAccessible: false,
    Tags: drillTags(drill),
  };
}

/** The cluster as DescribeDBClusters reports it; undefined while it is not, or no longer, visible. */
async function readCluster(rds: RDSClient, identifier: string): Promise<DBCluster | undefined> {
  const describe = () => rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
  return (await awsCallUnlessNotFound(`DescribeDBClusters ${identifier}`, describe, isNotFound))?.DBClusters?.[0];
}

/** Cluster states from which waiting cannot end well. */
const FAILED_CLUSTER_STATES = new Set([
  'failed',
  'inaccessible-encryption-credentials',
  'incompatible-network',
  'incompatible-parameters',
  'incompatible-restore',
  'deleting',
]);

/**
 * A restored cluster keeps the source's master password, which the drill cannot read (it may have rotated since the
 * restored point, and it lives in another region for a DR copy): once the cluster is available the drill has RDS
 * manage a new one in a secret of the copy's own, and waits until that secret is active.
 */
async function waitForMasterSecret(
  rds: RDSClient,
  modify: ModifyDBClusterCommandInput,
  waits: Waits & { readonly checkAbort: () => void },
): Promise<DBCluster> {
  const identifier = modify.DBClusterIdentifier ?? '';
  let modified = false;
  const { value } = await pollUntil<DBCluster>({
    label: `${identifier} master secret active`,
    ...pollTiming(waits),
    followUp: `Check it with: aws rds describe-db-clusters --db-cluster-identifier ${identifier}`,
    check: async (): Promise<PollState<DBCluster>> => {
      waits.checkAbort();
      const cluster = await readCluster(rds, identifier);
      if (cluster === undefined) return { kind: 'pending', status: 'not visible yet' };
      const status = cluster.Status ?? 'unknown';
      if (FAILED_CLUSTER_STATES.has(status)) return { kind: 'failed', status };
      if (status !== 'available') return { kind: 'pending', status };
      if (cluster.MasterUserSecret?.SecretStatus === 'active') return { kind: 'done', status, value: cluster };
      if (modified)
        return { kind: 'pending', status: `master secret ${cluster.MasterUserSecret?.SecretStatus ?? 'requested'}` };
      await awsCall(`ModifyDBCluster ${identifier}`, () => rds.send(new ModifyDBClusterCommand(modify)));
      modified = true;
      return { kind: 'pending', status: 'master secret requested' };
    },
  });
  return value;
}

/** A drill's cluster as its guarded removal reads and deletes it. */
function removableCluster(rds: RDSClient, input: DeleteDBClusterCommandInput): RemovableResource {
  const name = input.DBClusterIdentifier ?? '';
  return {
    name,
    what: `DB cluster ${name}`,
    read: async () => {
      const cluster = await readCluster(rds, name);
      return (
        cluster && { name: cluster.DBClusterIdentifier, tags: cluster.TagList, status: cluster.Status ?? 'unknown' }
      );
    },
    delete: () =>
      requestDeletion(`DeleteDBCluster ${name}`, () => rds.send(new DeleteDBClusterCommand(input)), isNotFound),
    followUp: `aws rds delete-db-cluster --db-cluster-identifier ${name} --skip-final-snapshot`,
  };
}

/** A cluster drill's calls: the restore, its writer and master secret; then the writer's and the cluster's removal. */
interface ClusterDrillCalls {
  readonly restore: ClusterDrillRestore;
  readonly writer: CreateDBInstanceCommandInput;
  readonly secret: ModifyDBClusterCommandInput;
  readonly removeWriter: { readonly DBInstanceIdentifier: string };
  readonly removeCluster: DeleteDBClusterCommandInput;
}

function clusterDrillCalls(
  source: ClusterSource | undefined,
  sourceIdentifier: string,
  request: DrillRequest,
): ClusterDrillCalls {
  const { identifier } = request.drill;
  const writer = drillWriterInput(source, request);
  const secretKey = source?.cluster.MasterUserSecret?.KmsKeyId;
  return {
    restore: drillClusterInput(source, sourceIdentifier, request),
    writer,
    secret: {
      DBClusterIdentifier: identifier,
      ManageMasterUserPassword: true,
      // The deployed master secret's key exists in its region only; elsewhere Secrets Manager's default applies.
      ...(secretKey === undefined ? {} : { MasterUserSecretKmsKeyId: secretKey }),
      ApplyImmediately: true,
    },
    removeWriter: { DBInstanceIdentifier: writer.DBInstanceIdentifier ?? '' },
    removeCluster: { DBClusterIdentifier: identifier, SkipFinalSnapshot: true, DeleteAutomatedBackups: true },
  };
}

function clusterDrillSteps(
  calls: ClusterDrillCalls,
  request: DrillRequest,
): Pick<TemporaryDatabase, 'restoreSteps' | 'removeSteps'> {
  const { deps, timeoutMinutes } = request.waits;
  const identifier = request.drill.identifier;
  const writerId = calls.removeWriter.DBInstanceIdentifier;
  const wait = (what: string, operation: string) => waitStep(what, operation, deps, timeoutMinutes);
  return {
    restoreSteps: [
      { operation: calls.restore.operation, input: { ...calls.restore.input } },
      {
        operation: 'CreateDBInstance',
        input: { ...calls.writer },
        note: 'the restored cluster has no instance of its own',
      },
      wait(`${writerId} available`, 'DescribeDBInstances'),
      {
        operation: 'ModifyDBCluster',
        input: { ...calls.secret },
        note: 'a master secret of its own, once the cluster is available',
      },
      wait(`${identifier} master secret active`, 'DescribeDBClusters'),
    ],
    removeSteps: [
      { operation: 'DeleteDBInstance', input: { ...calls.removeWriter }, note: 'whatever happened before' },
      wait(`${writerId} deleted`, 'DescribeDBInstances'),
      { operation: 'DeleteDBCluster', input: { ...calls.removeCluster }, note: 'once its writer is gone' },
      wait(`${identifier} deleted`, 'DescribeDBClusters'),
    ],
  };
}

/** The drill's copy of the cluster: a restored cluster and its writer, removed writer first, no final snapshot. */
function temporaryCluster(
  rds: RDSClient,
  source: ClusterSource | undefined,
  sourceIdentifier: string,
  request: DrillRequest,
): TemporaryDatabase {
  const { drill, waits } = request;
  const calls = clusterDrillCalls(source, sourceIdentifier, request);
  const writerId = calls.removeWriter.DBInstanceIdentifier;
  const requested = { cluster: false, writer: false };
  return {
    ...clusterDrillSteps(calls, request),
    async restore(groupId, checkAbort) {
      await awsCall(`${calls.restore.operation} ${drill.identifier}`, () =>
        sendClusterRestore(rds, calls.restore, groupId),
      );
      requested.cluster = true;
      await awsCall(`CreateDBInstance ${writerId}`, () => rds.send(new CreateDBInstanceCommand(calls.writer)));
      requested.writer = true;
      const available = (i: DBInstance) => i.DBInstanceStatus === 'available';
      await waitForInstance(rds, writerId, available, { ...waits, label: `${writerId} available`, checkAbort });
      const cluster = await waitForMasterSecret(rds, calls.secret, { ...waits, checkAbort });
      return drillEndpoint(drill.identifier, {
        host: cluster.Endpoint,
        port: cluster.Port,
        databaseName: cluster.DatabaseName,
        masterSecretArn: cluster.MasterUserSecret?.SecretArn,
      });
    },
    async remove() {
      const writer = removableInstance(rds, calls.removeWriter);
      await removeDrillResource(drill, writer, { requested: requested.writer, waits });
      return removeDrillResource(drill, removableCluster(rds, calls.removeCluster), {
        requested: requested.cluster,
        waits,
      });
    },
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
    backup: { resourceType: 'Aurora', snapshotArnPart: ':cluster-snapshot:', resourceArnPart: ':cluster:' },
    temporaryCopy: async (request) =>
      temporaryCluster(rds, request.sameRegion ? await source() : undefined, identifier, request),
  };
}
