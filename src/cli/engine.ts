/**
 * The CLI's engine seam: what the commands ask of the deployed database, whatever RDS resource it is. A command
 * reads a DatabaseState and asks for Operations; only an implementation of DeployedDatabase knows which RDS API,
 * identifier field or metric dimension that means: db-instance.ts for a PostgreSQL DB instance with read replicas,
 * db-cluster.ts for an Aurora PostgreSQL cluster. Another engine is another implementation, chosen in database.ts.
 */
import type { Dimension } from '@aws-sdk/client-cloudwatch';
import type { Tag } from '@aws-sdk/client-rds';
import type { CliDeps } from './context';
import type { Drill } from './drill-resources';
import type { Reporter } from './output';
import type { PlannedStep } from './rds-flows';

/** A change as the calls it makes (what --dry-run prints) and the code that makes them, waits included. */
export interface Operation<T> {
  readonly steps: readonly PlannedStep[];
  run(): Promise<T>;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** What the commands read of the deployed database, the same fields for every engine. */
export interface DatabaseState {
  readonly identifier: string;
  readonly status: string;
  readonly engine: string;
  readonly engineVersion: string | undefined;
  /** The writer's instance class. */
  readonly writerClass: string | undefined;
  readonly multiAz: boolean | undefined;
  /** Undefined until RDS has given the writer an address. */
  readonly writer: Endpoint | undefined;
  readonly databaseName: string | undefined;
  readonly subnetGroup: string | undefined;
  /** Identifiers of the read replicas (or reader instances). */
  readonly readers: readonly string[];
  readonly securityGroups: readonly { readonly id: string; readonly status: string }[];
  readonly storageGiB: number | undefined;
  readonly storageType: string | undefined;
  /** 0: automated backups off, so no point-in-time recovery. */
  readonly backupRetentionDays: number;
  readonly latestRestorableTime: Date | undefined;
  readonly iamAuthentication: boolean | undefined;
  readonly masterSecretArn: string | undefined;
}

/** How a change waits: what it polls with, where its progress goes, and how long before it gives up. */
export interface Waits {
  readonly deps: Pick<CliDeps, 'clock' | 'pollIntervalMs'>;
  readonly reporter: Pick<Reporter, 'progress'>;
  readonly timeoutMinutes: number;
}

export interface ScaleRequest {
  readonly instanceClass: string;
  /** False: return once the change is requested. */
  readonly wait: boolean;
  readonly waits: Waits;
}

export interface RestoreRequest {
  /** The identifier of the new database; the deployed one is left as it is. */
  readonly targetIdentifier: string;
  /** Undefined: the latest restorable time. */
  readonly restoreTime: Date | undefined;
  readonly tags: readonly Tag[];
  /** False: return once the restore is requested. */
  readonly wait: boolean;
  readonly waits: Waits;
}

export interface RestoreOutcome {
  /** `available` once waited for, `requested` otherwise. */
  readonly status: string;
  /** `host:port` of the restored writer, once known. */
  readonly endpoint: string | undefined;
  /** Where the restored database's master password is, for the operator's next steps. */
  readonly masterPassword: string;
}

/** What a restore drill restores: a point in time of the deployed database, or an AWS Backup snapshot of it. */
export type DrillPoint =
  | { readonly kind: 'point-in-time'; readonly time: Date | undefined }
  | { readonly kind: 'snapshot'; readonly arn: string };

export interface DrillRequest {
  readonly drill: Drill;
  readonly point: DrillPoint;
  readonly subnetGroup: string;
  readonly multiAz: boolean;
  /** The environment's class, for a writer the engine cannot copy from the deployed one (another region). */
  readonly instanceClass: string;
  /** False in another region: the deployed database's parameter groups and keys exist in its own region only. */
  readonly sameRegion: boolean;
  readonly waits: Waits;
}

/** Where the drill connects to its copy, as the copy's master user. */
export interface DrillEndpoint {
  readonly host: string;
  readonly port: number;
  readonly databaseName: string;
  readonly masterSecretArn: string;
}

/**
 * The temporary copy a restore drill verifies: restored into the drill's own security group, waited for until
 * usable, then removed whatever happened. Removal deletes only what carries the drill's name and tag.
 */
export interface TemporaryDatabase {
  /** What --dry-run prints of the restore (its waits included) and of the removal. */
  readonly restoreSteps: readonly PlannedStep[];
  readonly removeSteps: readonly PlannedStep[];
  /** `checkAbort` is called before every poll and throws to stop waiting (an operator's interrupt). */
  restore(securityGroupId: string, checkAbort: () => void): Promise<DrillEndpoint>;
  /** `never created` when RDS never acknowledged the restore, or never showed what it acknowledged. */
  remove(): Promise<'deleted' | 'never created'>;
}

/** How AWS Backup lists this engine's recovery points, and which are restorable snapshots of the database. */
export interface BackupResource {
  /** ListRecoveryPointsByBackupVault's ByResourceType. */
  readonly resourceType: string;
  /** In the ARN of a snapshot recovery point (continuous backups have others). */
  readonly snapshotArnPart: string;
  /** Before the identifier at the end of the backed-up resource's ARN. */
  readonly resourceArnPart: string;
}

export interface DeployedDatabase {
  /** What the identifier names, in messages and prompts: `instance`, `cluster`. */
  readonly noun: string;
  readonly identifier: string;
  describe(): Promise<DatabaseState>;
  /** AWS/RDS dimensions of the writer's metrics, as the module's alarms use them. */
  writerDimensions(): Dimension[];
  /** Refuses a class RDS does not offer for this database here, before anything changes. */
  checkClass(state: DatabaseState, instanceClass: string): Promise<void>;
  /** What the operator loses while the writer changes class. */
  scaleImpact(state: DatabaseState): string;
  /** A manual snapshot, waited for until available. */
  safetySnapshot(snapshotIdentifier: string, tags: readonly Tag[], waits: Waits): Operation<void>;
  /** The writer on a new class, applied now; resolves to its status (`available` once waited for). */
  scaleWriter(request: ScaleRequest): Promise<Operation<string>>;
  /** Refuses an identifier that already names a database of this kind. */
  checkFree(identifier: string): Promise<void>;
  /** A point-in-time restore into a new database beside this one, configured like the one described. */
  restoreToPointInTime(request: RestoreRequest): Promise<Operation<RestoreOutcome>>;
  readonly backup: BackupResource;
  /** A restore drill's copy; the deployed database is read for it only in its own region. */
  temporaryCopy(request: DrillRequest): Promise<TemporaryDatabase>;
}
