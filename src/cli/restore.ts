import {
  DescribeDBInstancesCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBInstance,
  type RDSClient,
  type RestoreDBInstanceToPointInTimeCommandInput,
} from '@aws-sdk/client-rds';
import type { Command } from 'commander';
import { awsCall, awsError, describeInstance } from './aws';
import { positiveInteger, type Runner } from './command';
import type { CliDeps } from './context';
import { ExitCode, failedError, usageError } from './exit-codes';
import { renderRecord } from './output';
import {
  isValidIdentifier,
  planAndConfirm,
  snapshotAndWait,
  snapshotInput,
  waitForInstance,
  waitStep,
  type PlannedStep,
} from './rds-flows';
import { resolveTarget, type Target } from './target';
import { formatElapsed, timestampSuffix } from './wait';

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

/** Checks the time against the instance's recovery window, so AWS is never asked for the impossible. */
export function checkRecoveryWindow(source: DBInstance, restoreTime: Date | undefined, now: Date): void {
  const retentionDays = source.BackupRetentionPeriod ?? 0;
  if (retentionDays === 0) {
    throw failedError(
      `${source.DBInstanceIdentifier} has automated backups disabled: there is no point-in-time recovery.`,
    );
  }
  if (restoreTime === undefined) return;
  const latest = source.LatestRestorableTime;
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

/**
 * The restore request: the source's network (subnet group, security groups), parameter group,
 * class, Multi-AZ and storage, so the new instance can take the primary's place; its master
 * password is managed by RDS in a secret of its own, like the primary's.
 */
export function restoreInput(
  source: DBInstance,
  target: Target,
  targetIdentifier: string,
  restoreTime: Date | undefined,
): RestoreDBInstanceToPointInTimeCommandInput {
  const storageType = source.StorageType;
  return {
    SourceDBInstanceIdentifier: target.primaryIdentifier,
    TargetDBInstanceIdentifier: targetIdentifier,
    ...(restoreTime === undefined ? { UseLatestRestorableTime: true } : { RestoreTime: restoreTime }),
    DBInstanceClass: source.DBInstanceClass,
    DBSubnetGroupName: source.DBSubnetGroup?.DBSubnetGroupName ?? target.subnetGroupName,
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
    Tags: [
      { Key: 'Project', Value: target.project },
      { Key: 'Environment', Value: target.env },
      { Key: 'RestoredFrom', Value: target.primaryIdentifier },
      { Key: 'RestoreTime', Value: restoreTime === undefined ? 'latest' : restoreTime.toISOString() },
      { Key: 'CreatedBy', Value: 'accessweaver-rds' },
    ],
  };
}

/** The new instance's identifier must be free: checked before the snapshot, not discovered after it. */
export async function checkTargetFree(rds: RDSClient, identifier: string): Promise<void> {
  try {
    await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
  } catch (error) {
    if ((error as { name?: string }).name?.startsWith('DBInstanceNotFound')) return;
    throw awsError(error, `DescribeDBInstances ${identifier}`);
  }
  throw usageError(`An instance named ${identifier} already exists: choose another --target-identifier.`);
}

function nextSteps(
  target: Target,
  restored: string,
  endpoint: string | undefined,
  snapshot: string,
): readonly string[] {
  return [
    `1. Check the restored data on ${endpoint ?? restored} (its master password is in its own RDS-managed secret).`,
    `2. The app and read-only logins have the passwords they had at the restore time; if they changed since, ` +
      `set them again.`,
    `3. Point the application at the restored instance: update 'host' in ${target.appSecretName} and ` +
      `${target.readonlySecretName}, then restart the services.`,
    `4. ${restored} is not in Terraform state: swap identifiers (rename ${target.primaryIdentifier} away, ` +
      `${restored} to it) or import it before the next apply.`,
    `5. Keep snapshot ${snapshot} until the incident is closed.`,
  ];
}

/** Emergency restore: safety snapshot, then point-in-time restore into a new instance. */
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
    .action(
      run<RestoreOptions>(async (options, reporter) => {
        const target = resolveTarget(options);
        if ((options.restoreTime === undefined) === (options.latest !== true)) {
          throw usageError('Give exactly one of --restore-time <time> or --latest.');
        }
        const now = deps.clock.now();
        const restoreTime = options.restoreTime === undefined ? undefined : parseRestoreTime(options.restoreTime, now);
        const stamp = timestampSuffix(now);
        const targetIdentifier = options.targetIdentifier ?? `${target.project}-${target.env}-restored-${stamp}`;
        if (!isValidIdentifier(targetIdentifier))
          throw usageError(`--target-identifier '${targetIdentifier}' is not a valid RDS identifier.`);

        const { rds } = deps.aws(options.region);
        const source = await describeInstance(rds, target.primaryIdentifier);
        checkRecoveryWindow(source, restoreTime, now);
        await checkTargetFree(rds, targetIdentifier);

        const snapshot = snapshotInput(
          target.primaryIdentifier,
          `${target.project}-${target.env}-emergency-${stamp}`,
          'emergency-restore',
          target,
        );
        const restore = restoreInput(source, target, targetIdentifier, restoreTime);
        const steps: PlannedStep[] = [
          { operation: 'CreateDBSnapshot', input: { ...snapshot } },
          waitStep(
            `snapshot ${snapshot.DBSnapshotIdentifier} available`,
            'DescribeDBSnapshots',
            deps,
            options.waitTimeout,
          ),
          { operation: 'RestoreDBInstanceToPointInTime', input: { ...restore } },
          ...(options.wait
            ? [waitStep(`${targetIdentifier} available`, 'DescribeDBInstances', deps, options.waitTimeout)]
            : []),
        ];
        const title =
          `Restore ${target.primaryIdentifier} to ${restoreTime?.toISOString() ?? 'its latest restorable time'}` +
          ` into new instance ${targetIdentifier}:`;
        const proceed = await planAndConfirm({
          title,
          steps,
          dryRun: options.dryRun === true,
          yes: options.yes === true,
          identifier: target.primaryIdentifier,
          action: 'restore it',
          deps,
          reporter,
        });
        if (!proceed) return ExitCode.Ok;

        await snapshotAndWait(rds, snapshot, deps, reporter, options.waitTimeout);
        reporter.progress(`Requesting restore into ${targetIdentifier}`);
        await awsCall(`RestoreDBInstanceToPointInTime ${targetIdentifier}`, () =>
          rds.send(new RestoreDBInstanceToPointInTimeCommand(restore)),
        );

        let endpoint: string | undefined;
        let status = 'requested';
        if (options.wait) {
          const { instance, elapsedMs } = await waitForInstance(
            rds,
            targetIdentifier,
            (i) => i.DBInstanceStatus === 'available',
            {
              deps,
              reporter,
              timeoutMinutes: options.waitTimeout,
              label: `${targetIdentifier} available`,
            },
          );
          endpoint =
            instance.Endpoint?.Address === undefined
              ? undefined
              : `${instance.Endpoint.Address}:${instance.Endpoint.Port ?? ''}`;
          status = 'available';
          reporter.progress(`${targetIdentifier} available after ${formatElapsed(elapsedMs)}`);
        }
        const manual = nextSteps(target, targetIdentifier, endpoint, snapshot.DBSnapshotIdentifier ?? '');
        reporter.result(
          {
            source: target.primaryIdentifier,
            snapshot: snapshot.DBSnapshotIdentifier,
            restoredInstance: targetIdentifier,
            status,
            endpoint: endpoint ?? null,
            restoreTime: restoreTime?.toISOString() ?? 'latest',
            nextSteps: manual,
          },
          () =>
            renderRecord([
              ['Safety snapshot', snapshot.DBSnapshotIdentifier],
              ['Restored instance', targetIdentifier],
              ['Status', status],
              ['Endpoint', endpoint ?? '(not yet known)'],
            ]) + `\nNext steps (manual):\n${manual.map((line) => `  ${line}`).join('\n')}\n`,
        );
        return ExitCode.Ok;
      }),
    );
}
