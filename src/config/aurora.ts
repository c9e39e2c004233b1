/**
 * The environment table's Aurora columns: what an Aurora PostgreSQL cluster needs beyond the rows of
 * `ENVIRONMENT_CONFIGS` (which it shares: backups, monitoring, deletion protection, connections, secrets, logs and
 * the module-managed reader count, `replicaCount`).
 *
 * Emitted into `modules/rds-aurora` as `local.aurora_configs`, selected at plan by `var.environment`.
 */
import { EnvironmentName } from './environments';

/** Aurora's two storage configurations: Standard (I/O billed per request) and I/O-Optimized (I/O included). */
export const AURORA_STORAGE_TYPES = ['aurora', 'aurora-iopt1'] as const;
export type AuroraStorageType = (typeof AURORA_STORAGE_TYPES)[number];

/** The instance class of an Aurora Serverless v2 instance: its capacity is the cluster's ACU range. */
export const SERVERLESS_CLASS = 'db.serverless';

export interface AuroraSizing {
  /** Class of the writer and of every reader; `db.serverless` for Aurora Serverless v2. */
  readonly instanceClass: string;
  /** Serverless v2 capacity in ACUs (1 ACU is about 2 GiB of memory); null for provisioned classes. */
  readonly serverlessCapacity: { readonly minAcu: number; readonly maxAcu: number } | null;
  readonly storageType: AuroraStorageType;
  /**
   * Reader autoscaling on top of the module's `replicaCount` readers, which are its floor: Application Auto Scaling
   * keeps between `replicaCount` and `maxReaders` Aurora replicas, tracking the readers' average CPU. Null: none.
   */
  readonly readerAutoscaling: {
    readonly maxReaders: number;
    /** RDSReaderAverageCPUUtilization the policy holds the readers at, in percent. */
    readonly targetCpuPercent: number;
    readonly scaleInCooldownSeconds: number;
    readonly scaleOutCooldownSeconds: number;
  } | null;
  /** AuroraReplicaLag alarm threshold, in milliseconds. */
  readonly replicaLagAlarmMs: number;
  /** FreeLocalStorage alarm threshold (temporary files, sorts), in GiB. */
  readonly freeLocalStorageAlarmGiB: number;
  /** Deadlocks alarm threshold, per minute. */
  readonly deadlocksAlarmPerMinute: number;
  /** ServerlessDatabaseCapacity alarm threshold, in percent of maxAcu (Serverless v2 only). */
  readonly capacityAlarmPercent: number;
}

/**
 * The name of each field in the module's `local.aurora_configs` rows. Nested objects are written as the module
 * reads them (`serverless_capacity.min_acu`, `reader_autoscaling.max_readers`).
 */
export const AURORA_ATTRIBUTES: Readonly<Record<keyof AuroraSizing, string>> = {
  instanceClass: 'instance_class',
  serverlessCapacity: 'serverless_capacity',
  storageType: 'storage_type',
  readerAutoscaling: 'reader_autoscaling',
  replicaLagAlarmMs: 'replica_lag_alarm_ms',
  freeLocalStorageAlarmGiB: 'free_local_storage_alarm_gib',
  deadlocksAlarmPerMinute: 'deadlocks_alarm_per_minute',
  capacityAlarmPercent: 'capacity_alarm_percent',
};

/**
 * The design document's production scaling: 2 to 5 readers (the floor is prod's `replicaCount`, 2), target
 * tracking on the readers' average CPU at 70 %. Scale-out within a minute of sustained load (a new reader takes
 * about ten minutes to be available), scale-in after five so a short lull does not drop a reader just added.
 */
const DESIGN_READER_SCALING = {
  targetCpuPercent: 70,
  scaleInCooldownSeconds: 300,
  scaleOutCooldownSeconds: 60,
} as const;

export const AURORA_CONFIGS: Readonly<Record<EnvironmentName, AuroraSizing>> = {
  // Serverless v2 from 0.5 ACU: an idle development database costs its floor, and it grows to 4 ACU (8 GiB) when
  // someone runs a test suite against it.
  dev: {
    instanceClass: SERVERLESS_CLASS,
    serverlessCapacity: { minAcu: 0.5, maxAcu: 4 },
    storageType: 'aurora',
    readerAutoscaling: null,
    replicaLagAlarmMs: 1000,
    freeLocalStorageAlarmGiB: 2,
    deadlocksAlarmPerMinute: 5,
    capacityAlarmPercent: 90,
  },
  staging: {
    instanceClass: 'db.t4g.medium',
    serverlessCapacity: null,
    storageType: 'aurora',
    readerAutoscaling: { maxReaders: 2, ...DESIGN_READER_SCALING },
    replicaLagAlarmMs: 1000,
    freeLocalStorageAlarmGiB: 4,
    deadlocksAlarmPerMinute: 5,
    capacityAlarmPercent: 90,
  },
  prod: {
    instanceClass: 'db.r6g.large',
    serverlessCapacity: null,
    storageType: 'aurora-iopt1',
    readerAutoscaling: { maxReaders: 5, ...DESIGN_READER_SCALING },
    replicaLagAlarmMs: 200,
    freeLocalStorageAlarmGiB: 8,
    deadlocksAlarmPerMinute: 1,
    capacityAlarmPercent: 90,
  },
};

/** The table as the module's `local.aurora_configs`: a row per environment, named by AURORA_ATTRIBUTES. */
export function auroraConfigsLocal(
  table: Readonly<Record<EnvironmentName, AuroraSizing>> = AURORA_CONFIGS,
): Record<string, unknown> {
  const snake = (value: unknown): unknown =>
    value !== null && typeof value === 'object'
      ? Object.fromEntries(
          Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snake(v)]),
        )
      : value;
  const fields = Object.entries(AURORA_ATTRIBUTES) as [keyof AuroraSizing, string][];
  return Object.fromEntries(
    Object.entries(table).map(([environment, row]) => [
      environment,
      Object.fromEntries(fields.map(([field, attribute]) => [attribute, snake(row[field])])),
    ]),
  );
}
