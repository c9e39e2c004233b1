/**
 * `accessweaver-rds restore-drill`: proves a backup restores into a usable database and measures how long it takes.
 * Restores a recovery point into a temporary instance, verifies it, deletes it whatever happened, and reports the
 * time to a usable database against the environment's RTO and the restored point's age against its RPO.
 */
import {
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBInstance,
  type RDSClient,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
  type RestoreDBInstanceToPointInTimeCommandInput,
} from '@aws-sdk/client-rds';
import type { Command } from 'commander';
import { naming } from '../config/environments';
import { verifyRestoredDatabase, type RestoreVerification } from '../db/verify-restore';
import { awsCall, readSecretJson, secretString } from './aws';
import { awsRegion, positiveInteger, type GlobalOptions, type Runner } from './command';
import { rdsConnectionUrl, describeUrl, resolveCaBundle, withDatabase, type ResolvedConnection } from './connection';
import { processInterrupts, type AwsClients, type CliDeps } from './context';
import {
  allowFromOption,
  createSecurityGroup,
  deleteDrillInstance,
  deleteDrillSecurityGroup,
  deleteInstanceInput,
  drillTags,
  latestRecoveryPoint,
  securityGroupInputs,
  subnetGroupVpc,
  type Drill,
  type SecurityGroupInputs,
} from './drill-resources';
import { CliError, ExitCode, failedError, unavailableError, usageError } from './exit-codes';
import type { Reporter } from './output';
import { checkTargetFree, describeInstance, instanceState, waitForInstance } from './db-instance';
import { planAndConfirm, waitStep, type PlannedStep } from './rds-flows';
import { drillExitCode, drillJson, renderDrillReport, type DrillReport } from './restore-drill-report';
import { checkRecoveryWindow, parseRestoreTime } from './restore';
import { resolveTarget, type Target } from './target';
import { timestampSuffix } from './wait';

export interface RestoreDrillOptions extends GlobalOptions {
  readonly restoreTime?: string;
  readonly latestSnapshot?: boolean;
  readonly fromRegion?: string;
  readonly vault?: string;
  readonly subnetGroup?: string;
  readonly allowFrom?: string;
  readonly caBundle?: string;
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  readonly waitTimeout: number;
}

/** What is restored: a point in time of the primary, or an AWS Backup snapshot recovery point. */
type Source =
  | { readonly kind: 'point-in-time'; readonly time: Date | undefined; readonly pointTime: Date | undefined }
  | { readonly kind: 'snapshot'; readonly arn: string; readonly vault: string; readonly pointTime: Date };

type RestoreInput =
  | { readonly operation: 'RestoreDBInstanceToPointInTime'; readonly input: RestoreDBInstanceToPointInTimeCommandInput }
  | {
      readonly operation: 'RestoreDBInstanceFromDBSnapshot';
      readonly input: RestoreDBInstanceFromDBSnapshotCommandInput;
    };

interface Prepared {
  readonly target: Target;
  readonly drill: Drill;
  readonly region: string | undefined;
  readonly clients: AwsClients;
  readonly source: Source;
  readonly groupInputs: SecurityGroupInputs;
  readonly restore: RestoreInput;
  readonly startedAt: Date;
}

/** Where the drill restores from, decided from the options before anything is created. */
async function resolveSource(
  options: RestoreDrillOptions,
  target: Target,
  clients: AwsClients,
  primary: DBInstance | undefined,
  now: Date,
): Promise<Source> {
  if (options.fromRegion !== undefined || options.latestSnapshot === true) {
    const vault =
      options.vault ??
      (options.fromRegion !== undefined
        ? naming.drBackupVaultName(target.project, target.env)
        : naming.backupVaultName(target.project, target.env));
    const point = await latestRecoveryPoint(clients.backup, vault, target.primaryIdentifier);
    return { kind: 'snapshot', arn: point.arn, vault, pointTime: point.created };
  }
  if (primary === undefined)
    throw usageError('A point-in-time drill needs the primary (do not combine with --from-region).');
  const time = options.restoreTime === undefined ? undefined : parseRestoreTime(options.restoreTime, now);
  checkRecoveryWindow(instanceState(primary), time, now);
  return { kind: 'point-in-time', time, pointTime: time ?? primary.LatestRestorableTime };
}

/**
 * The temporary instance: the environment's Multi-AZ setting (what a real restore would get), never public, no
 * deletion protection, its own RDS-managed master password, and only the drill's security group.
 */
function restoreInput(
  prepared: Omit<Prepared, 'restore' | 'startedAt'>,
  primary: DBInstance | undefined,
  subnetGroup: string,
): RestoreInput {
  const { target, drill, source } = prepared;
  const common = {
    DBSubnetGroupName: subnetGroup,
    VpcSecurityGroupIds: ['<security group created above>'],
    MultiAZ: target.config.database.multiAz,
    PubliclyAccessible: false,
    DeletionProtection: false,
    CopyTagsToSnapshot: false,
    ManageMasterUserPassword: true,
    // The primary's key and parameter group exist in its region only; in the DR region RDS's defaults apply.
    ...(primary?.MasterUserSecret?.KmsKeyId === undefined
      ? {}
      : { MasterUserSecretKmsKeyId: primary.MasterUserSecret.KmsKeyId }),
    ...(primary?.DBParameterGroups?.[0]?.DBParameterGroupName === undefined
      ? {}
      : { DBParameterGroupName: primary.DBParameterGroups[0].DBParameterGroupName }),
    Tags: drillTags(drill),
  };
  if (source.kind === 'snapshot') {
    return {
      operation: 'RestoreDBInstanceFromDBSnapshot',
      input: { DBSnapshotIdentifier: source.arn, DBInstanceIdentifier: drill.identifier, ...common },
    };
  }
  return {
    operation: 'RestoreDBInstanceToPointInTime',
    input: {
      SourceDBInstanceIdentifier: target.primaryIdentifier,
      TargetDBInstanceIdentifier: drill.identifier,
      ...(source.time === undefined ? { UseLatestRestorableTime: true } : { RestoreTime: source.time }),
      ...common,
    },
  };
}

async function prepare(options: RestoreDrillOptions, deps: CliDeps): Promise<Prepared> {
  const target = resolveTarget(options);
  if (options.restoreTime !== undefined && (options.latestSnapshot === true || options.fromRegion !== undefined)) {
    throw usageError(
      '--restore-time is a point-in-time restore of the primary: not with --latest-snapshot or --from-region.',
    );
  }
  if (options.allowFrom === undefined) {
    throw usageError(
      '--allow-from <sg-id|cidr> is required: the only source the temporary instance admits (where this drill runs).',
    );
  }
  const startedAt = deps.clock.now();
  if (target.engine !== 'instance') {
    throw usageError(`restore-drill restores DB instances only; --engine ${target.engine} is not drilled yet.`);
  }
  // A malformed or future time is refused before any AWS call.
  if (options.restoreTime !== undefined) parseRestoreTime(options.restoreTime, startedAt);
  const region = options.fromRegion ?? options.region;
  const clients = deps.aws(region);
  const drill: Drill = {
    identifier: `${naming.drillIdentifierPrefix(target.project, target.env)}${timestampSuffix(startedAt)}`,
    prefix: naming.drillIdentifierPrefix(target.project, target.env),
    project: target.project,
    env: target.env,
  };
  const primary =
    options.fromRegion === undefined ? await describeInstance(clients.rds, target.primaryIdentifier) : undefined;
  const source = await resolveSource(options, target, clients, primary, startedAt);
  const subnetGroup = options.subnetGroup ?? primary?.DBSubnetGroup?.DBSubnetGroupName ?? target.subnetGroupName;
  const vpcId = await subnetGroupVpc(clients.rds, subnetGroup);
  await checkTargetFree(clients.rds, drill.identifier);
  const groupInputs = securityGroupInputs(drill, vpcId, options.allowFrom);
  const partial = { target, drill, region, clients, source, groupInputs };
  return { ...partial, restore: restoreInput(partial, primary, subnetGroup), startedAt };
}

function plannedSteps(prepared: Prepared, deps: CliDeps, timeout: number): PlannedStep[] {
  const { drill, groupInputs, restore } = prepared;
  return [
    { operation: 'CreateSecurityGroup', input: { ...groupInputs.create } },
    { operation: 'RevokeSecurityGroupEgress', input: { ...groupInputs.revokeEgress } },
    { operation: 'AuthorizeSecurityGroupIngress', input: { ...groupInputs.ingress } },
    { operation: restore.operation, input: { ...restore.input } },
    waitStep(`${drill.identifier} available`, 'DescribeDBInstances', deps, timeout),
    {
      operation: 'verify',
      note: 'GetSecretValue of the new master secret, connect over TLS, check migrations, RLS, isolation, row counts',
    },
    { operation: 'DeleteDBInstance', input: { ...deleteInstanceInput(drill) }, note: 'whatever happened before' },
    waitStep(`${drill.identifier} deleted`, 'DescribeDBInstances', deps, timeout),
    { operation: 'DeleteSecurityGroup', note: 'the group created above, once the instance is gone' },
  ];
}

/** Connection to the temporary instance as its master user, from the secret RDS made for it. */
async function drillConnection(
  clients: AwsClients,
  instance: DBInstance,
  caBundle: string,
): Promise<ResolvedConnection> {
  const secretArn = instance.MasterUserSecret?.SecretArn;
  const host = instance.Endpoint?.Address;
  const port = instance.Endpoint?.Port;
  if (secretArn === undefined || host === undefined || port === undefined || instance.DBName === undefined) {
    throw unavailableError(
      `${instance.DBInstanceIdentifier ?? 'The drill instance'} reports no endpoint, database name or master secret.`,
    );
  }
  const secret = await readSecretJson(clients.secrets, secretArn, 'drill master credentials');
  const url = rdsConnectionUrl({
    host,
    port,
    database: instance.DBName,
    user: secretString(secret, 'username', secretArn),
    password: secretString(secret, 'password', secretArn),
    caBundle,
  });
  return { url, display: describeUrl(url), source: 'secrets' };
}

const defaultVerify = (connection: ResolvedConnection): Promise<RestoreVerification> =>
  withDatabase(connection, (client) => verifyRestoredDatabase(client));

/** The drill itself, between the gate and the report: every path ends in cleanup. */
async function execute(
  prepared: Prepared,
  options: RestoreDrillOptions & { readonly caBundlePath: string },
  deps: CliDeps,
  reporter: Reporter,
): Promise<DrillReport> {
  const { drill, clients } = prepared;
  const report: DrillReport = { prepared: summary(prepared), timings: {}, cleanup: {} };
  let interrupted = false;
  let groupId: string | undefined;
  let requested = false;
  const unsubscribe = (deps.interrupts ?? processInterrupts).onInterrupt(() => {
    if (interrupted) {
      reporter.warn(`cleanup of ${drill.identifier} is running; it stops only when the instance and group are gone.`);
      return;
    }
    interrupted = true;
    reporter.warn('interrupted: stopping the drill and deleting what it created.');
  });
  const checkAbort = () => {
    if (interrupted) throw failedError('Interrupted by the operator.');
  };
  try {
    await createSecurityGroup(clients.ec2, prepared.groupInputs, (id) => {
      groupId = id;
    });
    checkAbort();
    const requestedAt = deps.clock.now();
    await requestRestore(clients.rds, prepared.restore, groupId ?? '');
    requested = true;
    const { instance } = await waitForInstance(
      clients.rds,
      drill.identifier,
      (i) => i.DBInstanceStatus === 'available',
      {
        deps,
        reporter,
        timeoutMinutes: options.waitTimeout,
        label: `${drill.identifier} available`,
        checkAbort,
      },
    );
    report.timings.restoreMs = deps.clock.now().getTime() - requestedAt.getTime();
    reporter.progress(`${drill.identifier} available; verifying the restored database`);
    const connection = await drillConnection(clients, instance, options.caBundlePath);
    checkAbort();
    const verifyStarted = deps.clock.now();
    report.verification = await (deps.database.verifyRestore ?? defaultVerify)(connection);
    report.timings.verificationMs = deps.clock.now().getTime() - verifyStarted.getTime();
    report.timings.usableMs = deps.clock.now().getTime() - requestedAt.getTime();
    checkAbort();
  } catch (error) {
    report.error = error instanceof Error ? error.message : String(error);
    report.errorCode = error instanceof CliError ? error.exitCode : ExitCode.Failed;
  } finally {
    report.interrupted = interrupted;
    await cleanup(prepared, { groupId, requested, options, deps, reporter, report });
    unsubscribe();
  }
  return report;
}

async function requestRestore(rds: RDSClient, restore: RestoreInput, groupId: string): Promise<void> {
  const VpcSecurityGroupIds = [groupId];
  const identifier =
    restore.operation === 'RestoreDBInstanceToPointInTime'
      ? restore.input.TargetDBInstanceIdentifier
      : restore.input.DBInstanceIdentifier;
  await awsCall(`${restore.operation} ${identifier ?? ''}`, () =>
    restore.operation === 'RestoreDBInstanceToPointInTime'
      ? rds.send(new RestoreDBInstanceToPointInTimeCommand({ ...restore.input, VpcSecurityGroupIds }))
      : rds.send(new RestoreDBInstanceFromDBSnapshotCommand({ ...restore.input, VpcSecurityGroupIds })),
  );
}

/** Deletes the instance, then the group; a failure of either is reported with what is left and how to remove it. */
async function cleanup(
  prepared: Prepared,
  context: {
    readonly groupId: string | undefined;
    readonly requested: boolean;
    readonly options: RestoreDrillOptions;
    readonly deps: CliDeps;
    readonly reporter: Reporter;
    readonly report: DrillReport;
  },
): Promise<void> {
  const { drill, clients } = prepared;
  const { deps, reporter, report, options } = context;
  const timeoutMinutes = options.waitTimeout;
  reporter.progress(`Cleaning up: deleting ${drill.identifier} (no final snapshot)`);
  try {
    report.cleanup.instance = await deleteDrillInstance(clients.rds, drill, {
      requested: context.requested,
      deps,
      reporter,
      timeoutMinutes,
    });
  } catch (error) {
    report.cleanup.instance = 'left';
    report.cleanup.error = (error as Error).message;
    report.cleanup.errorCode = error instanceof CliError ? error.exitCode : ExitCode.Failed;
    return; // The group stays attached to an instance that still exists.
  }
  if (context.groupId === undefined) return;
  try {
    await deleteDrillSecurityGroup(clients.ec2, context.groupId, drill, { deps, reporter, timeoutMinutes });
    report.cleanup.securityGroup = 'deleted';
  } catch (error) {
    report.cleanup.securityGroup = 'left';
    report.cleanup.error = (error as Error).message;
    report.cleanup.errorCode = error instanceof CliError ? error.exitCode : ExitCode.Failed;
  }
}

function summary(prepared: Prepared): DrillReport['prepared'] {
  const { target, drill, source } = prepared;
  return {
    drill: drill.identifier,
    environment: target.env,
    region: prepared.region ?? null,
    source:
      source.kind === 'snapshot'
        ? { kind: 'snapshot', recoveryPoint: source.arn, vault: source.vault }
        : { kind: 'point-in-time', restoreTime: source.time?.toISOString() ?? 'latest' },
    pointTime: source.pointTime?.toISOString() ?? null,
    // The age of the restored point says how much a restore now would lose; a chosen time says nothing about it.
    pointAgeMs:
      source.pointTime === undefined || (source.kind === 'point-in-time' && source.time !== undefined)
        ? null
        : prepared.startedAt.getTime() - source.pointTime.getTime(),
    rtoMinutes: target.config.recovery.rtoMinutes,
    rpoMinutes: target.config.recovery.rpoMinutes,
  };
}

export function registerRestoreDrill(program: Command, deps: CliDeps, run: Runner): void {
  program
    .command('restore-drill')
    .description(
      'restore the latest backup (or a point in time) into a temporary instance, verify it, delete it, ' +
        'and report the time against the RTO',
    )
    .option('--restore-time <time>', 'point in time to restore, ISO 8601 with a zone (default: latest restorable time)')
    .option('--latest-snapshot', "restore the newest AWS Backup snapshot in the module's vault instead")
    .option(
      '--from-region <region>',
      'restore the newest copy in the disaster-recovery vault of that region, there',
      awsRegion,
    )
    .option(
      '--vault <name>',
      'backup vault to restore from (default <project>-<env>-backup, or -backup-dr with --from-region)',
    )
    .option(
      '--subnet-group <name>',
      "DB subnet group of the temporary instance (default: the primary's / the module's)",
    )
    .option(
      '--allow-from <sg-id|cidr>',
      'the only source admitted to the temporary instance: where this drill runs',
      allowFromOption,
    )
    .option('--ca-bundle <file>', 'RDS CA bundle for TLS verification (also PGSSLROOTCERT)')
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'print the AWS calls that would be made and stop (only read calls are made)')
    .option('--wait-timeout <minutes>', 'give up waiting after this many minutes, per wait', positiveInteger, 120)
    .action(
      run<RestoreDrillOptions>(async (options, reporter) => {
        // The bundle is checked before any AWS call: a drill that cannot verify the restore must not start one.
        const caBundlePath = options.dryRun === true ? '' : resolveCaBundle(options.caBundle, deps.env, false);
        const prepared = await prepare(options, deps);
        const { drill, target } = prepared;
        const proceed = await planAndConfirm(
          {
            title:
              `Restore drill ${drill.identifier} of ${target.primaryIdentifier} ` +
              `(${describeSource(prepared.source)}):`,
            steps: plannedSteps(prepared, deps, options.waitTimeout),
            identifier: target.primaryIdentifier,
            action: 'run a restore drill from it',
          },
          { ...options, deps, reporter },
        );
        if (!proceed) return ExitCode.Ok;
        const report = await execute(prepared, { ...options, caBundlePath }, deps, reporter);
        const exitCode = drillExitCode(report);
        reporter.result(drillJson(report, exitCode), () => renderDrillReport(report, exitCode));
        return exitCode;
      }),
    );
}

function describeSource(source: Source): string {
  if (source.kind === 'snapshot') return `recovery point ${source.arn} from vault ${source.vault}`;
  return source.time === undefined ? 'latest restorable time' : `point in time ${source.time.toISOString()}`;
}
