import type { Command } from 'commander';
import { positiveInteger, type GlobalOptions, type Runner } from './command';
import type { CliDeps } from './context';
import { openDatabase } from './database';
import type { DatabaseState, DeployedDatabase, RestoreOutcome, Waits } from './engine';
import { failedError, usageError, type ExitCodeValue } from './exit-codes';
import { renderRecord, type Reporter } from './output';
import { isValidIdentifier, runDestructive, snapshotTags, type DestructiveFlow } from './rds-flows';
import { resolveTarget, type Target } from './target';
import { timestampSuffix } from './wait';

export interface RestoreOptions {
  readonly restoreTime?: string;
  readonly latest?: boolean;
  readonly targetIdentifier?: string;
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  readonly wait: boolean;
  readonly waitTimeout: number;
}

// A zone is mandatory: at 3 a.m. "02:00" must not silently mean the laptop's local time.
const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** Whether the written fields name a real time: Date turns 2026-02-30 into March 2, and 24:00 into the next day. */
function isCalendarTime(match: RegExpExecArray): boolean {
  const [year, month, day, hour, minute, second, zoneHours, zoneMinutes] = match.slice(1).map((f) => Number(f ?? 0));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate(); // day 0 of the next month
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    zoneHours <= 23 &&
    zoneMinutes <= 59
  );
}

/** Parses --restore-time, and refuses a time in the future before anything asks AWS. */
export function parseRestoreTime(value: string, now: Date): Date {
  const match = ISO_WITH_ZONE.exec(value);
  const parsed = new Date(value);
  if (match !== null && !isCalendarTime(match)) {
    throw usageError(`--restore-time '${value}' is not a real date and time (check the day of the month and hour).`);
  }
  if (match === null || Number.isNaN(parsed.getTime())) {
    throw usageError(`--restore-time '${value}' is not an ISO 8601 time with a zone, e.g. 2026-03-14T01:55:00Z.`);
  }
  if (parsed.getTime() > now.getTime()) {
    throw usageError(`--restore-time ${parsed.toISOString()} is in the future (now ${now.toISOString()}).`);
  }
  return parsed;
}

/** Checks the time against the database's recovery window, so AWS is never asked for the impossible. */
export function checkRecoveryWindow(source: DatabaseState, restoreTime: Date | undefined, now: Date): void {
  const retentionDays = source.backupRetentionDays;
  if (retentionDays === 0) {
    throw failedError(`${source.identifier} has automated backups disabled: there is no point-in-time recovery.`);
  }
  if (restoreTime === undefined) return;
  const latest = source.latestRestorableTime;
  if (latest !== undefined && restoreTime.getTime() > latest.getTime()) {
    throw usageError(
      `--restore-time ${restoreTime.toISOString()} is after the latest restorable time ` +
        `${latest.toISOString()} (use --latest).`,
    );
  }
  const earliest = new Date(now.getTime() - retentionDays * 86_400_000);
  if (restoreTime.getTime() < earliest.getTime()) {
    throw usageError(
      `--restore-time ${restoreTime.toISOString()} is older than the ${retentionDays}-day backup retention ` +
        `(earliest about ${earliest.toISOString()}).`,
    );
  }
}

function nextSteps(
  target: Target,
  db: DeployedDatabase,
  restored: string,
  outcome: RestoreOutcome,
  snapshot: string,
): readonly string[] {
  return [
    `1. Check the restored data on ${outcome.endpoint ?? restored} (its master password is ${outcome.masterPassword}).`,
    `2. The app and read-only logins have the passwords they had at the restore time; if they changed since, ` +
      `set them again.`,
    `3. Point the application at the restored ${db.noun}: update 'host' in ${target.appSecretName} and ` +
      `${target.readonlySecretName}, then restart the services.`,
    `4. ${restored} is not in Terraform state: swap identifiers (rename ${db.identifier} away, ` +
      `${restored} to it) or import it before the next apply.`,
    `5. Keep snapshot ${snapshot} until the incident is closed.`,
  ];
}

function restoreTags(target: Target, source: string, restoreTime: Date | undefined) {
  return [
    { Key: 'Project', Value: target.project },
    { Key: 'Environment', Value: target.env },
    { Key: 'RestoredFrom', Value: source },
    { Key: 'RestoreTime', Value: restoreTime === undefined ? 'latest' : restoreTime.toISOString() },
    { Key: 'CreatedBy', Value: 'accessweaver-rds' },
  ];
}

/** The operator's choices, checked before any AWS call: the restore time and the new identifier. */
function restoreRequestOf(
  options: RestoreOptions & GlobalOptions,
  target: Target,
  db: DeployedDatabase,
  now: Date,
  waits: Waits,
) {
  if ((options.restoreTime === undefined) === (options.latest !== true)) {
    throw usageError('Give exactly one of --restore-time <time> or --latest.');
  }
  const restoreTime = options.restoreTime === undefined ? undefined : parseRestoreTime(options.restoreTime, now);
  const targetIdentifier =
    options.targetIdentifier ?? `${target.project}-${target.env}-restored-${timestampSuffix(now)}`;
  if (!isValidIdentifier(targetIdentifier))
    throw usageError(`--target-identifier '${targetIdentifier}' is not a valid RDS identifier.`);
  return {
    targetIdentifier,
    restoreTime,
    tags: restoreTags(target, db.identifier, restoreTime),
    wait: options.wait,
    waits,
  };
}

function reportRestore(
  target: Target,
  db: DeployedDatabase,
  request: ReturnType<typeof restoreRequestOf>,
  snapshotId: string,
  outcome: RestoreOutcome,
  reporter: Reporter,
): void {
  const { targetIdentifier, restoreTime } = request;
  const { status, endpoint } = outcome;
  const manual = nextSteps(target, db, targetIdentifier, outcome, snapshotId);
  const record = {
    source: db.identifier,
    snapshot: snapshotId,
    restoredInstance: targetIdentifier,
    status,
    endpoint: endpoint ?? null,
    restoreTime: restoreTime?.toISOString() ?? 'latest',
    nextSteps: manual,
  };
  reporter.result(record, () => {
    const rows = renderRecord([
      ['Safety snapshot', snapshotId],
      [`Restored ${db.noun}`, targetIdentifier],
      ['Status', status],
      ['Endpoint', endpoint ?? '(not yet known)'],
    ]);
    return `${rows}\nNext steps (manual):\n${manual.map((line) => `  ${line}`).join('\n')}\n`;
  });
}

async function restore(
  options: RestoreOptions & GlobalOptions,
  deps: CliDeps,
  reporter: Reporter,
): Promise<ExitCodeValue> {
  const target = resolveTarget(options);
  const now = deps.clock.now();
  const waits = { deps, reporter, timeoutMinutes: options.waitTimeout };
  const db = openDatabase(target, options.region, deps);
  const request = restoreRequestOf(options, target, db, now, waits);
  checkRecoveryWindow(await db.describe(), request.restoreTime, now);
  await db.checkFree(request.targetIdentifier);

  const snapshotId = `${target.project}-${target.env}-emergency-${timestampSuffix(now)}`;
  const flow: DestructiveFlow<RestoreOutcome> = {
    title:
      `Restore ${db.identifier} to ${request.restoreTime?.toISOString() ?? 'its latest restorable time'}` +
      ` into new ${db.noun} ${request.targetIdentifier}:`,
    identifier: db.identifier,
    label: `${db.noun} identifier`,
    action: 'restore it',
    snapshot: db.safetySnapshot(snapshotId, snapshotTags(target, 'emergency-restore'), waits),
    change: await db.restoreToPointInTime(request),
    report: (outcome) => reportRestore(target, db, request, snapshotId, outcome, reporter),
  };
  return runDestructive(flow, { ...options, deps, reporter });
}

/** Emergency restore: safety snapshot, then point-in-time restore into a new database beside the deployed one. */
export function registerRestore(program: Command, deps: CliDeps, run: Runner): void {
  program
    .command('restore')
    .description(
      'point-in-time restore of the primary into a new instance, after a safety snapshot (destructive: needs ' +
        '--yes or confirmation)',
    )
    .option('--restore-time <time>', 'ISO 8601 time with a zone, e.g. 2026-03-14T01:55:00Z')
    .option('--latest', 'restore to the latest restorable time')
    .option(
      '--target-identifier <id>',
      'identifier of the new instance (default <project>-<env>-restored-<UTC timestamp>)',
    )
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'print the AWS calls that would be made and stop (only read calls are made)')
    .option('--no-wait', 'return once the restore is requested instead of waiting for the new instance')
    .option('--wait-timeout <minutes>', 'give up waiting after this many minutes, per wait', positiveInteger, 180)
    .action(run<RestoreOptions>((options, reporter) => restore(options, deps, reporter)));
}
