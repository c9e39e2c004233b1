/**
 * `accessweaver-rds restore-drill`: proves a backup restores into a usable database and measures how long it takes.
 * Restores a recovery point into a temporary database (the engine's: engine.ts), verifies it, deletes it whatever
 * happened, and reports the time to a usable database against the environment's RTO and the restored point's age
 * against its RPO.
 */
import type { Command } from 'commander';
import { naming } from '../config/environments';
import { verifyRestoredDatabase, type RestoreVerification } from '../db/verify-restore';
import { readSecretJson, secretString } from './aws';
import { awsRegion, positiveInteger, type GlobalOptions, type Runner } from './command';
import { rdsConnectionUrl, describeUrl, resolveCaBundle, withDatabase, type ResolvedConnection } from './connection';
import { processInterrupts, type AwsClients, type CliDeps } from './context';
import { openDatabase } from './database';
import {
  allowFromOption,
  createSecurityGroup,
  deleteDrillSecurityGroup,
  latestRecoveryPoint,
  securityGroupInputs,
  subnetGroupVpc,
  type Drill,
  type SecurityGroupInputs,
} from './drill-resources';
import type { DatabaseState, DeployedDatabase, DrillEndpoint, TemporaryDatabase, Waits } from './engine';
import { CliError, ExitCode, failedError, usageError } from './exit-codes';
import type { Reporter } from './output';
import { planAndConfirm, type PlannedStep } from './rds-flows';
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

/** What is restored: a point in time of the deployed database, or an AWS Backup snapshot recovery point. */
type Source =
  | { readonly kind: 'point-in-time'; readonly time: Date | undefined; readonly pointTime: Date | undefined }
  | { readonly kind: 'snapshot'; readonly arn: string; readonly vault: string; readonly pointTime: Date };

interface Prepared {
  readonly target: Target;
  readonly database: DeployedDatabase;
  readonly drill: Drill;
  readonly region: string | undefined;
  readonly clients: AwsClients;
  readonly source: Source;
  readonly groupInputs: SecurityGroupInputs;
  readonly copy: TemporaryDatabase;
  readonly startedAt: Date;
}

/** Where the drill restores from, decided from the options before anything is created. */
async function resolveSource(
  options: RestoreDrillOptions,
  target: Target,
  clients: AwsClients,
  database: DeployedDatabase,
  deployed: DatabaseState | undefined,
  now: Date,
): Promise<Source> {
  if (options.fromRegion !== undefined || options.latestSnapshot === true) {
    const vault =
      options.vault ??
      (options.fromRegion !== undefined
        ? naming.drBackupVaultName(target.project, target.env)
        : naming.backupVaultName(target.project, target.env));
    const point = await latestRecoveryPoint(clients.backup, vault, database);
    return { kind: 'snapshot', arn: point.arn, vault, pointTime: point.created };
  }
  if (deployed === undefined)
    throw usageError(`A point-in-time drill needs the deployed ${database.noun} (do not combine with --from-region).`);
  const time = options.restoreTime === undefined ? undefined : parseRestoreTime(options.restoreTime, now);
  checkRecoveryWindow(deployed, time, now);
  return { kind: 'point-in-time', time, pointTime: time ?? deployed.latestRestorableTime };
}

/** The inputs refused before any AWS call. */
function checkOptions(options: RestoreDrillOptions, now: Date): void {
  if (options.restoreTime !== undefined && (options.latestSnapshot === true || options.fromRegion !== undefined)) {
    throw usageError(
      '--restore-time is a point-in-time restore of the primary: not with --latest-snapshot or --from-region.',
    );
  }
  if (options.allowFrom === undefined) {
    throw usageError(
      '--allow-from <sg-id|cidr> is required: the only source the temporary database admits (where this drill runs).',
    );
  }
  // A malformed or future time is refused before any AWS call.
  if (options.restoreTime !== undefined) parseRestoreTime(options.restoreTime, now);
}

async function prepare(options: RestoreDrillOptions, deps: CliDeps, reporter: Reporter): Promise<Prepared> {
  const target = resolveTarget(options);
  const startedAt = deps.clock.now();
  checkOptions(options, startedAt);
  const region = options.fromRegion ?? options.region;
  const clients = deps.aws(region);
  const database = openDatabase(target, region, deps);
  const prefix = naming.drillIdentifierPrefix(target.project, target.env);
  const { project, env } = target;
  const drill: Drill = { identifier: `${prefix}${timestampSuffix(startedAt)}`, prefix, project, env };
  const sameRegion = options.fromRegion === undefined;
  const deployed = sameRegion ? await database.describe() : undefined;
  const source = await resolveSource(options, target, clients, database, deployed, startedAt);
  const subnetGroup = options.subnetGroup ?? deployed?.subnetGroup ?? target.subnetGroupName;
  const vpcId = await subnetGroupVpc(clients.rds, subnetGroup);
  await database.checkFree(drill.identifier);
  const groupInputs = securityGroupInputs(drill, vpcId, options.allowFrom ?? '');
  const copy = await database.temporaryCopy({
    drill,
    point:
      source.kind === 'snapshot' ? { kind: 'snapshot', arn: source.arn } : { kind: 'point-in-time', time: source.time },
    subnetGroup,
    multiAz: target.config.database.multiAz,
    instanceClass: target.config.database.instanceClass,
    sameRegion,
    waits: { deps, reporter, timeoutMinutes: options.waitTimeout },
  });
  return { target, database, drill, region, clients, source, groupInputs, copy, startedAt };
}

function plannedSteps(prepared: Prepared): PlannedStep[] {
  const { groupInputs, copy } = prepared;
  return [
    { operation: 'CreateSecurityGroup', input: { ...groupInputs.create } },
    { operation: 'RevokeSecurityGroupEgress', input: { ...groupInputs.revokeEgress } },
    { operation: 'AuthorizeSecurityGroupIngress', input: { ...groupInputs.ingress } },
    ...copy.restoreSteps,
    {
      operation: 'verify',
      note: 'GetSecretValue of the new master secret, connect over TLS, check migrations, RLS, isolation, row counts',
    },
    ...copy.removeSteps,
    { operation: 'DeleteSecurityGroup', note: `the group created above, once the ${prepared.database.noun} is gone` },
  ];
}

/** Connection to the temporary database as its master user, from the secret RDS made for it. */
async function drillConnection(
  clients: AwsClients,
  endpoint: DrillEndpoint,
  caBundle: string,
): Promise<ResolvedConnection> {
  const secretArn = endpoint.masterSecretArn;
  const secret = await readSecretJson(clients.secrets, secretArn, 'drill master credentials');
  const url = rdsConnectionUrl({
    host: endpoint.host,
    port: endpoint.port,
    database: endpoint.databaseName,
    user: secretString(secret, 'username', secretArn),
    password: secretString(secret, 'password', secretArn),
    caBundle,
  });
  return { url, display: describeUrl(url), source: 'secrets' };
}

const defaultVerify = (connection: ResolvedConnection): Promise<RestoreVerification> =>
  withDatabase(connection, (client) => verifyRestoredDatabase(client));

const errorFields = (error: unknown) => ({
  message: error instanceof Error ? error.message : String(error),
  code: error instanceof CliError ? error.exitCode : ExitCode.Failed,
});

/** Restores, waits until usable, verifies: the timed part of the drill. */
async function restoreAndVerify(
  prepared: Prepared,
  context: { readonly groupId: string; readonly caBundlePath: string; readonly deps: CliDeps },
  reporter: Reporter,
  report: DrillReport,
  checkAbort: () => void,
): Promise<void> {
  const { drill, clients, copy } = prepared;
  const { deps } = context;
  const requestedAt = deps.clock.now();
  const endpoint = await copy.restore(context.groupId, checkAbort);
  report.timings.restoreMs = deps.clock.now().getTime() - requestedAt.getTime();
  reporter.progress(`${drill.identifier} available; verifying the restored database`);
  const connection = await drillConnection(clients, endpoint, context.caBundlePath);
  checkAbort();
  const verifyStarted = deps.clock.now();
  report.verification = await (deps.database.verifyRestore ?? defaultVerify)(connection);
  report.timings.verificationMs = deps.clock.now().getTime() - verifyStarted.getTime();
  report.timings.usableMs = deps.clock.now().getTime() - requestedAt.getTime();
  checkAbort();
}

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
  const unsubscribe = (deps.interrupts ?? processInterrupts).onInterrupt(() => {
    if (interrupted) {
      reporter.warn(
        `cleanup of ${drill.identifier} is running; it stops only when the ${prepared.database.noun} and group are gone.`,
      );
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
    const context = { groupId: groupId ?? '', caBundlePath: options.caBundlePath, deps };
    await restoreAndVerify(prepared, context, reporter, report, checkAbort);
  } catch (error) {
    ({ message: report.error, code: report.errorCode } = errorFields(error));
  } finally {
    report.interrupted = interrupted;
    const waits = { deps, reporter, timeoutMinutes: options.waitTimeout };
    await cleanup(prepared, { groupId, waits, report });
    unsubscribe();
  }
  return report;
}

/** Deletes the database, then the group; a failure of either is reported with what is left and how to remove it. */
async function cleanup(
  prepared: Prepared,
  context: { readonly groupId: string | undefined; readonly waits: Waits; readonly report: DrillReport },
): Promise<void> {
  const { drill, clients, copy } = prepared;
  const { waits, report } = context;
  waits.reporter.progress(`Cleaning up: deleting ${drill.identifier} (no final snapshot)`);
  try {
    report.cleanup.database = await copy.remove();
  } catch (error) {
    report.cleanup.database = 'left';
    ({ message: report.cleanup.error, code: report.cleanup.errorCode } = errorFields(error));
    return; // The group stays attached to a database that still exists.
  }
  if (context.groupId === undefined) return;
  try {
    await deleteDrillSecurityGroup(clients.ec2, context.groupId, drill, waits);
    report.cleanup.securityGroup = 'deleted';
  } catch (error) {
    report.cleanup.securityGroup = 'left';
    ({ message: report.cleanup.error, code: report.cleanup.errorCode } = errorFields(error));
  }
}

function summary(prepared: Prepared): DrillReport['prepared'] {
  const { target, drill, source } = prepared;
  return {
    drill: drill.identifier,
    noun: prepared.database.noun,
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
      'restore the latest backup (or a point in time) into a temporary database, verify it, delete it, ' +
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
      "DB subnet group of the temporary database (default: the deployed database's / the module's)",
    )
    .option(
      '--allow-from <sg-id|cidr>',
      'the only source admitted to the temporary database: where this drill runs',
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
        const prepared = await prepare(options, deps, reporter);
        const { drill, database } = prepared;
        const proceed = await planAndConfirm(
          {
            title:
              `Restore drill ${drill.identifier} of ${database.identifier} ` + `(${describeSource(prepared.source)}):`,
            steps: plannedSteps(prepared),
            identifier: database.identifier,
            label: `${database.noun} identifier`,
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
