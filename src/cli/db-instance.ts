/**
 * The first engine behind the CLI's seam (engine.ts): a PostgreSQL DB instance, its read replicas beside it. Every
 * DB instance API the operational commands call is here.
 */
import {
  CreateDBSnapshotCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DescribeOrderableDBInstanceOptionsCommand,
  ModifyDBInstanceCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBInstance,
  type DeleteDBInstanceCommandInput,
  type ModifyDBInstanceCommandInput,
  type RDSClient,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
  type RestoreDBInstanceToPointInTimeCommandInput,
  type Tag,
} from '@aws-sdk/client-rds';
import { awsCall, awsCallUnlessNotFound } from './aws';
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
  ScaleRequest,
  TemporaryDatabase,
  Waits,
} from './engine';
import { unavailableError, usageError } from './exit-codes';
import { waitStep } from './rds-flows';
import type { Target } from './target';
import { formatElapsed, pollTiming, pollUntil, type PollState } from './wait';

export async function describeInstance(rds: RDSClient, identifier: string): Promise<DBInstance> {
  const output = await awsCall(`DescribeDBInstances ${identifier}`, () =>
    rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier })),
  );
  const instance = output.DBInstances?.[0];
  if (instance === undefined) {
    throw unavailableError(`DB instance ${identifier} not found.`);
  }
  return instance;
}

/** The engine-neutral reading of a DB instance. */
export function instanceState(instance: DBInstance): DatabaseState {
  const { Endpoint: endpoint } = instance;
  return {
    identifier: instance.DBInstanceIdentifier ?? '',
    status: instance.DBInstanceStatus ?? 'unknown',
    engine: instance.Engine ?? 'postgres',
    engineVersion: instance.EngineVersion,
    writerClass: instance.DBInstanceClass,
    multiAz: instance.MultiAZ,
    writer:
      endpoint?.Address === undefined || endpoint.Port === undefined
        ? undefined
        : { host: endpoint.Address, port: endpoint.Port },
    databaseName: instance.DBName,
    subnetGroup: instance.DBSubnetGroup?.DBSubnetGroupName,
    readers: instance.ReadReplicaDBInstanceIdentifiers ?? [],
    securityGroups: (instance.VpcSecurityGroups ?? []).map((g) => ({
      id: g.VpcSecurityGroupId ?? '',
      status: g.Status ?? 'unknown',
    })),
    storageGiB: instance.AllocatedStorage,
    storageType: instance.StorageType,
    backupRetentionDays: instance.BackupRetentionPeriod ?? 0,
    latestRestorableTime: instance.LatestRestorableTime,
    iamAuthentication: instance.IAMDatabaseAuthenticationEnabled,
    masterSecretArn: instance.MasterUserSecret?.SecretArn,
  };
}

const isNotFound = (error: unknown) => (error as { name?: string }).name?.startsWith('DBInstanceNotFound') === true;

/** The instance as DescribeDBInstances reports it; undefined while it is not, or no longer, visible. */
async function readInstance(rds: RDSClient, identifier: string): Promise<DBInstance | undefined> {
  const describe = () => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
  return (await awsCallUnlessNotFound(`DescribeDBInstances ${identifier}`, describe, isNotFound))?.DBInstances?.[0];
}

/** Instance states from which waiting cannot end well. */
const FAILED_INSTANCE_STATES = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-option-group',
  'inaccessible-encryption-credentials',
  'restore-error',
  'storage-full',
  'deleting',
]);

/** Polls an instance until `done` says so; a not-yet-visible instance (just requested) counts as pending. */
export async function waitForInstance(
  rds: RDSClient,
  identifier: string,
  done: (instance: DBInstance) => boolean,
  options: Waits & {
    readonly label: string;
    /** Called before every poll; throws to stop waiting (an operator's interrupt). */
    readonly checkAbort?: () => void;
  },
): Promise<{ readonly instance: DBInstance; readonly elapsedMs: number }> {
  const { value, elapsedMs } = await pollUntil<DBInstance>({
    label: options.label,
    ...pollTiming(options),
    followUp: `Check it with: aws rds describe-db-instances --db-instance-identifier ${identifier}`,
    check: async (): Promise<PollState<DBInstance>> => {
      options.checkAbort?.();
      // A restore target can lag behind its own creation request for a poll or two.
      const instance = await readInstance(rds, identifier);
      if (instance === undefined) return { kind: 'pending', status: 'not visible yet' };
      const status = instance.DBInstanceStatus ?? 'unknown';
      if (FAILED_INSTANCE_STATES.has(status)) return { kind: 'failed', status };
      if (done(instance)) return { kind: 'done', status, value: instance };
      return { kind: 'pending', status };
    },
  });
  return { instance: value, elapsedMs };
}

/** The new instance's identifier must be free: checked before the snapshot, not discovered after it. */
export async function checkTargetFree(rds: RDSClient, identifier: string): Promise<void> {
  if ((await readInstance(rds, identifier)) === undefined) return;
  throw usageError(`An instance named ${identifier} already exists: choose another --target-identifier.`);
}

/** How one kind of manual snapshot is taken and read back. */
export interface SnapshotCalls {
  /** The API operation that creates it, and its input, as planned. */
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
  create(): Promise<unknown>;
  /** The API operation that reads it back. */
  readonly readOperation: string;
  /** Its current state; undefined while not visible. */
  read(): Promise<{ readonly Status?: string; readonly PercentProgress?: number } | undefined>;
  /** The AWS CLI command that shows it, for the operator to follow up. */
  readonly followUp: string;
}

/** A manual snapshot as a planned operation: created, then waited for until available. */
export function snapshotOperation(id: string, source: string, calls: SnapshotCalls, waits: Waits): Operation<void> {
  return {
    steps: [
      { operation: calls.operation, input: calls.input },
      waitStep(`snapshot ${id} available`, calls.readOperation, waits.deps, waits.timeoutMinutes),
    ],
    run: () => snapshotAndWait(id, source, calls, waits),
  };
}

/** Creates a manual snapshot, then polls until it is available; nothing else happens until then. */
async function snapshotAndWait(id: string, source: string, calls: SnapshotCalls, waits: Waits): Promise<void> {
  const { reporter } = waits;
  reporter.progress(`Creating snapshot ${id} of ${source}`);
  await awsCall(`${calls.operation} ${id}`, () => calls.create());
  const { elapsedMs } = await pollUntil<null>({
    label: `snapshot ${id}`,
    ...pollTiming(waits),
    followUp: `Nothing else was changed. Check it with: ${calls.followUp}`,
    check: async (): Promise<PollState<null>> => {
      const snapshot = await awsCall(`${calls.readOperation} ${id}`, () => calls.read());
      const status = snapshot?.Status ?? 'unknown';
      if (status === 'available') return { kind: 'done', status: 'available', value: null };
      if (status === 'failed' || status === 'error' || status === 'deleted') return { kind: 'failed', status };
      return { kind: 'pending', status: `${status} ${snapshot?.PercentProgress ?? 0}%` };
    },
  });
  reporter.progress(`Snapshot ${id} available after ${formatElapsed(elapsedMs)}`);
}

function instanceSnapshot(rds: RDSClient, instance: string, id: string, tags: readonly Tag[]): SnapshotCalls {
  const input = { DBInstanceIdentifier: instance, DBSnapshotIdentifier: id, Tags: [...tags] };
  return {
    operation: 'CreateDBSnapshot',
    input,
    create: () => rds.send(new CreateDBSnapshotCommand(input)),
    readOperation: 'DescribeDBSnapshots',
    read: async () => (await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }))).DBSnapshots?.[0],
    followUp: `aws rds describe-db-snapshots --db-snapshot-identifier ${id}`,
  };
}

/**
 * Checks RDS offers the class for this engine version and storage type here, so a typo or an
 * unavailable class is refused before the snapshot rather than by ModifyDBInstance after it.
 */
export async function checkOrderable(rds: RDSClient, source: DatabaseState, instanceClass: string): Promise<void> {
  const { engine, engineVersion, storageType } = source;
  const output = await awsCall(`DescribeOrderableDBInstanceOptions ${instanceClass}`, () =>
    rds.send(
      new DescribeOrderableDBInstanceOptionsCommand({
        Engine: engine,
        EngineVersion: engineVersion,
        DBInstanceClass: instanceClass,
        Vpc: true,
        MaxRecords: 100,
      }),
    ),
  );
  const offers = output.OrderableDBInstanceOptions ?? [];
  const matching = storageType === undefined ? offers : offers.filter((o) => o.StorageType === storageType);
  if (matching.length === 0) {
    throw usageError(
      `RDS does not offer ${instanceClass} for ${engine} ${engineVersion ?? ''}` +
        `${storageType === undefined ? '' : ` with ${storageType} storage`} in this region.`,
    );
  }
}

/**
 * The restore request: the source's network (subnet group, security groups), parameter group,
 * class, Multi-AZ and storage, so the new instance can take the primary's place; its master
 * password is managed by RDS in a secret of its own, like the primary's.
 */
export function restoreInput(
  source: DBInstance,
  fallbackSubnetGroup: string,
  sourceIdentifier: string,
  request: Pick<RestoreRequest, 'targetIdentifier' | 'restoreTime' | 'tags'>,
): RestoreDBInstanceToPointInTimeCommandInput {
  const storageType = source.StorageType;
  return {
    SourceDBInstanceIdentifier: sourceIdentifier,
    TargetDBInstanceIdentifier: request.targetIdentifier,
    ...(request.restoreTime === undefined ? { UseLatestRestorableTime: true } : { RestoreTime: request.restoreTime }),
    DBInstanceClass: source.DBInstanceClass,
    DBSubnetGroupName: source.DBSubnetGroup?.DBSubnetGroupName ?? fallbackSubnetGroup,
    VpcSecurityGroupIds: (source.VpcSecurityGroups ?? []).flatMap((g) =>
      g.VpcSecurityGroupId === undefined ? [] : [g.VpcSecurityGroupId],
    ),
    DBParameterGroupName: source.DBParameterGroups?.[0]?.DBParameterGroupName,
    MultiAZ: source.MultiAZ,
    PubliclyAccessible: source.PubliclyAccessible ?? false,
    StorageType: storageType,
    // Only provisioned-IOPS storage takes an Iops value; gp3 reports its baseline, which RDS rejects below 400 GiB.
    ...(storageType === 'io1' || storageType === 'io2' ? { Iops: source.Iops } : {}),
    DeletionProtection: source.DeletionProtection,
    CopyTagsToSnapshot: true,
    EnableCloudwatchLogsExports: source.EnabledCloudwatchLogsExports,
    ...(source.MasterUserSecret === undefined
      ? {}
      : { ManageMasterUserPassword: true, MasterUserSecretKmsKeyId: source.MasterUserSecret.KmsKeyId }),
    Tags: [...request.tags],
  };
}

/** The names the module gave the primary and its subnet group. */
type InstanceTarget = Pick<Target, 'primaryIdentifier' | 'subnetGroupName'>;

/** The instance on a new class, applied now; Aurora's writer is such an instance too. */
export function scaleWriter(rds: RDSClient, identifier: string, request: ScaleRequest): Operation<string> {
  const { instanceClass, waits } = request;
  const modify: ModifyDBInstanceCommandInput = {
    DBInstanceIdentifier: identifier,
    DBInstanceClass: instanceClass,
    ApplyImmediately: true,
  };
  const label = `${identifier} available on ${instanceClass}`;
  const operation: Operation<string> = {
    steps: [
      { operation: 'ModifyDBInstance', input: { ...modify } },
      ...(request.wait ? [waitStep(label, 'DescribeDBInstances', waits.deps, waits.timeoutMinutes)] : []),
    ],
    async run() {
      waits.reporter.progress(`Modifying ${identifier} to ${instanceClass} (apply immediately)`);
      await awsCall(`ModifyDBInstance ${identifier}`, () => rds.send(new ModifyDBInstanceCommand(modify)));
      if (!request.wait) return 'modifying';
      // Right after the request the instance may still report 'available' on the old class: wait for the new one.
      const done = (i: DBInstance) =>
        i.DBInstanceStatus === 'available' &&
        i.DBInstanceClass === instanceClass &&
        i.PendingModifiedValues?.DBInstanceClass === undefined;
      const { elapsedMs } = await waitForInstance(rds, identifier, done, { ...waits, label });
      waits.reporter.progress(`${identifier} runs on ${instanceClass} after ${formatElapsed(elapsedMs)}`);
      return 'available';
    },
  };
  return operation;
}

const MASTER_PASSWORD = 'in its own RDS-managed secret';

function restoreToPointInTime(
  rds: RDSClient,
  source: DBInstance,
  target: InstanceTarget,
  request: RestoreRequest,
): Operation<RestoreOutcome> {
  const { targetIdentifier, waits } = request;
  const restore = restoreInput(source, target.subnetGroupName, target.primaryIdentifier, request);
  const label = `${targetIdentifier} available`;
  return {
    steps: [
      { operation: 'RestoreDBInstanceToPointInTime', input: { ...restore } },
      ...(request.wait ? [waitStep(label, 'DescribeDBInstances', waits.deps, waits.timeoutMinutes)] : []),
    ],
    async run() {
      waits.reporter.progress(`Requesting restore into ${targetIdentifier}`);
      await awsCall(`RestoreDBInstanceToPointInTime ${targetIdentifier}`, () =>
        rds.send(new RestoreDBInstanceToPointInTimeCommand(restore)),
      );
      if (!request.wait) return { status: 'requested', endpoint: undefined, masterPassword: MASTER_PASSWORD };
      const available = (i: DBInstance) => i.DBInstanceStatus === 'available';
      const { instance, elapsedMs } = await waitForInstance(rds, targetIdentifier, available, { ...waits, label });
      waits.reporter.progress(`${targetIdentifier} available after ${formatElapsed(elapsedMs)}`);
      const endpoint = instanceState(instance).writer;
      return {
        status: 'available',
        endpoint: endpoint && `${endpoint.host}:${endpoint.port}`,
        masterPassword: MASTER_PASSWORD,
      };
    },
  };
}

type DrillRestore =
  | { readonly operation: 'RestoreDBInstanceToPointInTime'; readonly input: RestoreDBInstanceToPointInTimeCommandInput }
  | {
      readonly operation: 'RestoreDBInstanceFromDBSnapshot';
      readonly input: RestoreDBInstanceFromDBSnapshotCommandInput;
    };

/**
 * A drill's instance: the environment's Multi-AZ setting (what a real restore would get), never public, no deletion
 * protection, its own RDS-managed master password, and only the drill's security group (filled in once created).
 */
function drillRestoreInput(
  source: DBInstance | undefined,
  sourceIdentifier: string,
  request: DrillRequest,
): DrillRestore {
  const { drill, point } = request;
  const common = {
    DBSubnetGroupName: request.subnetGroup,
    VpcSecurityGroupIds: ['<security group created above>'],
    MultiAZ: request.multiAz,
    PubliclyAccessible: false,
    DeletionProtection: false,
    CopyTagsToSnapshot: false,
    ManageMasterUserPassword: true,
    // The primary's key and parameter group exist in its region only; in the DR region RDS's defaults apply.
    ...(source?.MasterUserSecret?.KmsKeyId === undefined
      ? {}
      : { MasterUserSecretKmsKeyId: source.MasterUserSecret.KmsKeyId }),
    ...(source?.DBParameterGroups?.[0]?.DBParameterGroupName === undefined
      ? {}
      : { DBParameterGroupName: source.DBParameterGroups[0].DBParameterGroupName }),
    Tags: drillTags(drill),
  };
  if (point.kind === 'snapshot') {
    return {
      operation: 'RestoreDBInstanceFromDBSnapshot',
      input: { DBSnapshotIdentifier: point.arn, DBInstanceIdentifier: drill.identifier, ...common },
    };
  }
  return {
    operation: 'RestoreDBInstanceToPointInTime',
    input: {
      SourceDBInstanceIdentifier: sourceIdentifier,
      TargetDBInstanceIdentifier: drill.identifier,
      ...(point.time === undefined ? { UseLatestRestorableTime: true } : { RestoreTime: point.time }),
      ...common,
    },
  };
}

function sendDrillRestore(rds: RDSClient, restore: DrillRestore, groupId: string): Promise<unknown> {
  const VpcSecurityGroupIds = [groupId];
  return restore.operation === 'RestoreDBInstanceToPointInTime'
    ? rds.send(new RestoreDBInstanceToPointInTimeCommand({ ...restore.input, VpcSecurityGroupIds }))
    : rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ ...restore.input, VpcSecurityGroupIds }));
}

/** A drill's DB instance (the copy itself, or an Aurora copy's writer) as its guarded removal reads and deletes it. */
export function removableInstance(rds: RDSClient, input: DeleteDBInstanceCommandInput): RemovableResource {
  const name = input.DBInstanceIdentifier ?? '';
  return {
    name,
    what: `DB instance ${name}`,
    read: async () => {
      const instance = await readInstance(rds, name);
      return (
        instance && {
          name: instance.DBInstanceIdentifier,
          tags: instance.TagList,
          status: instance.DBInstanceStatus ?? 'unknown',
        }
      );
    },
    delete: () =>
      requestDeletion(`DeleteDBInstance ${name}`, () => rds.send(new DeleteDBInstanceCommand(input)), isNotFound),
    followUp: `aws rds delete-db-instance --db-instance-identifier ${name}${input.SkipFinalSnapshot === true ? ' --skip-final-snapshot' : ''}`,
  };
}

/** The drill's copy of the primary: one DB instance, restored, waited for, and deleted without a final snapshot. */
function temporaryInstance(
  rds: RDSClient,
  source: DBInstance | undefined,
  sourceIdentifier: string,
  request: DrillRequest,
): TemporaryDatabase {
  const { drill, waits } = request;
  const { identifier } = drill;
  const restore = drillRestoreInput(source, sourceIdentifier, request);
  const remove: DeleteDBInstanceCommandInput = {
    DBInstanceIdentifier: identifier,
    SkipFinalSnapshot: true,
    DeleteAutomatedBackups: true,
  };
  let requested = false;
  return {
    restoreSteps: [
      { operation: restore.operation, input: { ...restore.input } },
      waitStep(`${identifier} available`, 'DescribeDBInstances', waits.deps, waits.timeoutMinutes),
    ],
    removeSteps: [
      { operation: 'DeleteDBInstance', input: { ...remove }, note: 'whatever happened before' },
      waitStep(`${identifier} deleted`, 'DescribeDBInstances', waits.deps, waits.timeoutMinutes),
    ],
    async restore(groupId, checkAbort) {
      await awsCall(`${restore.operation} ${identifier}`, () => sendDrillRestore(rds, restore, groupId));
      requested = true;
      const available = (i: DBInstance) => i.DBInstanceStatus === 'available';
      const label = `${identifier} available`;
      const { instance } = await waitForInstance(rds, identifier, available, { ...waits, label, checkAbort });
      return drillEndpoint(identifier, {
        host: instance.Endpoint?.Address,
        port: instance.Endpoint?.Port,
        databaseName: instance.DBName,
        masterSecretArn: instance.MasterUserSecret?.SecretArn,
      });
    },
    remove: () => removeDrillResource(drill, removableInstance(rds, remove), { requested, waits }),
  };
}

/**
 * The deployed primary DB instance. Its DescribeDBInstances answer is read once and kept, so a flow plans and
 * restores from the same reading.
 */
export function instanceDatabase(rds: RDSClient, target: InstanceTarget): DeployedDatabase {
  const identifier = target.primaryIdentifier;
  let described: DBInstance | undefined;
  const source = async () => (described ??= await describeInstance(rds, identifier));
  return {
    noun: 'instance',
    identifier,
    // Named as looked up: the module's name for it, whatever the answer echoes.
    describe: async () => ({ ...instanceState(await source()), identifier }),
    // RDS metrics are keyed by the instance identifier, as the module's alarms key them.
    writerDimensions: () => [{ Name: 'DBInstanceIdentifier', Value: identifier }],
    checkClass: (state, instanceClass) => checkOrderable(rds, state, instanceClass),
    scaleImpact: (state) =>
      state.multiAz
        ? 'Multi-AZ: the standby is resized first, then a failover (about a minute of connection loss).'
        : 'Single-AZ: the instance restarts on the new class (several minutes of downtime).',
    safetySnapshot: (snapshotId, tags, waits) =>
      snapshotOperation(snapshotId, identifier, instanceSnapshot(rds, identifier, snapshotId, tags), waits),
    scaleWriter: async (request) => scaleWriter(rds, identifier, request),
    checkFree: (candidate) => checkTargetFree(rds, candidate),
    restoreToPointInTime: async (request) => restoreToPointInTime(rds, await source(), target, request),
    backup: { resourceType: 'RDS', snapshotArnPart: ':snapshot:', resourceArnPart: ':db:' },
    temporaryCopy: async (request) =>
      temporaryInstance(rds, request.sameRegion ? await source() : undefined, identifier, request),
  };
}
