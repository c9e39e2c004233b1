import {
  DescribeOrderableDBInstanceOptionsCommand,
  ModifyDBInstanceCommand,
  type DBInstance,
  type ModifyDBInstanceCommandInput,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { Command } from 'commander';
import { awsCall, describeInstance } from './aws';
import { positiveInteger, type Runner } from './command';
import type { CliDeps } from './context';
import { ExitCode, failedError, usageError } from './exit-codes';
import { renderRecord } from './output';
import {
  planAndConfirm,
  snapshotAndWait,
  snapshotInput,
  waitForInstance,
  waitStep,
  type PlannedStep,
} from './rds-flows';
import { resolveTarget } from './target';
import { formatElapsed, timestampSuffix } from './wait';

export interface ScaleOptions {
  readonly instanceClass: string;
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  readonly wait: boolean;
  readonly waitTimeout: number;
}

const INSTANCE_CLASS = /^db\.[a-z0-9]+\.[a-z0-9]+$/;

/**
 * Checks RDS offers the class for this engine version and storage type here, so a typo or an
 * unavailable class is refused before the snapshot rather than by ModifyDBInstance after it.
 */
async function checkOrderable(rds: RDSClient, source: DBInstance, instanceClass: string): Promise<void> {
  const engine = source.Engine ?? 'postgres';
  const output = await awsCall(`DescribeOrderableDBInstanceOptions ${instanceClass}`, () =>
    rds.send(
      new DescribeOrderableDBInstanceOptionsCommand({
        Engine: engine,
        EngineVersion: source.EngineVersion,
        DBInstanceClass: instanceClass,
        Vpc: true,
        MaxRecords: 100,
      }),
    ),
  );
  const offers = output.OrderableDBInstanceOptions ?? [];
  const matching =
    source.StorageType === undefined ? offers : offers.filter((o) => o.StorageType === source.StorageType);
  if (matching.length === 0) {
    throw usageError(
      `RDS does not offer ${instanceClass} for ${engine} ${source.EngineVersion ?? ''}` +
        `${source.StorageType === undefined ? '' : ` with ${source.StorageType} storage`} in this region.`,
    );
  }
}

/**
 * Emergency scale-up: snapshot, then ModifyDBInstance with ApplyImmediately, then
 * wait until the instance is available on the new class. The environment table still names the old
 * class, so the result says to update it before the next apply reverts the change.
 */
export function registerScale(program: Command, deps: CliDeps, run: Runner): void {
  program
    .command('scale')
    .description('change the primary instance class now, after a snapshot (destructive: needs --yes or confirmation)')
    .requiredOption('--instance-class <class>', 'new instance class, e.g. db.r6g.xlarge')
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'print the AWS calls that would be made and stop (only read calls are made)')
    .option('--no-wait', 'return once the modification is requested')
    .option('--wait-timeout <minutes>', 'give up waiting after this many minutes, per wait', positiveInteger, 120)
    .action(
      run<ScaleOptions>(async (options, reporter) => {
        const target = resolveTarget(options);
        if (!INSTANCE_CLASS.test(options.instanceClass)) {
          throw usageError(
            `--instance-class '${options.instanceClass}' is not an RDS instance class (e.g. db.r6g.xlarge).`,
          );
        }
        const { rds } = deps.aws(options.region);
        const source = await describeInstance(rds, target.primaryIdentifier);
        const current = source.DBInstanceClass ?? 'unknown';
        if (current === options.instanceClass) {
          reporter.result(
            { instance: target.primaryIdentifier, instanceClass: current, changed: false },
            () => `${target.primaryIdentifier} already runs on ${current}; nothing to do.\n`,
          );
          return ExitCode.Ok;
        }
        if (source.DBInstanceStatus !== 'available') {
          throw failedError(
            `${target.primaryIdentifier} is '${source.DBInstanceStatus ?? 'unknown'}': scale only an ` +
              `available instance.`,
          );
        }
        await checkOrderable(rds, source, options.instanceClass);

        const snapshot = snapshotInput(
          target.primaryIdentifier,
          `${target.project}-${target.env}-pre-scale-${timestampSuffix(deps.clock.now())}`,
          'pre-scale',
          target,
        );
        const modify: ModifyDBInstanceCommandInput = {
          DBInstanceIdentifier: target.primaryIdentifier,
          DBInstanceClass: options.instanceClass,
          ApplyImmediately: true,
        };
        const steps: PlannedStep[] = [
          { operation: 'CreateDBSnapshot', input: { ...snapshot } },
          waitStep(
            `snapshot ${snapshot.DBSnapshotIdentifier} available`,
            'DescribeDBSnapshots',
            deps,
            options.waitTimeout,
          ),
          { operation: 'ModifyDBInstance', input: { ...modify } },
          ...(options.wait
            ? [
                waitStep(
                  `${target.primaryIdentifier} available on ${options.instanceClass}`,
                  'DescribeDBInstances',
                  deps,
                  options.waitTimeout,
                ),
              ]
            : []),
        ];
        const downtime = source.MultiAZ
          ? 'Multi-AZ: the standby is resized first, then a failover (about a minute of connection loss).'
          : 'Single-AZ: the instance restarts on the new class (several minutes of downtime).';
        const title = `Scale ${target.primaryIdentifier} from ${current} to ${options.instanceClass}. ${downtime}`;
        const proceed = await planAndConfirm({
          title,
          steps,
          dryRun: options.dryRun === true,
          yes: options.yes === true,
          identifier: target.primaryIdentifier,
          action: 'scale it',
          deps,
          reporter,
        });
        if (!proceed) return ExitCode.Ok;

        await snapshotAndWait(rds, snapshot, deps, reporter, options.waitTimeout);
        reporter.progress(`Modifying ${target.primaryIdentifier} to ${options.instanceClass} (apply immediately)`);
        await awsCall(`ModifyDBInstance ${target.primaryIdentifier}`, () =>
          rds.send(new ModifyDBInstanceCommand(modify)),
        );

        let status = 'modifying';
        if (options.wait) {
          // Right after the request the instance may still report 'available' on the old class: wait for the new one.
          const { elapsedMs } = await waitForInstance(
            rds,
            target.primaryIdentifier,
            (i) =>
              i.DBInstanceStatus === 'available' &&
              i.DBInstanceClass === options.instanceClass &&
              i.PendingModifiedValues?.DBInstanceClass === undefined,
            {
              deps,
              reporter,
              timeoutMinutes: options.waitTimeout,
              label: `${target.primaryIdentifier} available on ${options.instanceClass}`,
            },
          );
          status = 'available';
          reporter.progress(
            `${target.primaryIdentifier} runs on ${options.instanceClass} after ${formatElapsed(elapsedMs)}`,
          );
        }
        const replicas = source.ReadReplicaDBInstanceIdentifiers ?? [];
        const notes = [
          `Update instanceClass for '${target.env}' in src/config/environments.ts to ${options.instanceClass}` +
            `, or the next apply reverts it to ${current}.`,
        ];
        if (replicas.length > 0) notes.push(`Read replicas keep their class: ${replicas.join(', ')}.`);
        reporter.result(
          {
            instance: target.primaryIdentifier,
            previousClass: current,
            instanceClass: options.instanceClass,
            changed: true,
            status,
            snapshot: snapshot.DBSnapshotIdentifier,
            notes,
          },
          () =>
            renderRecord([
              ['Instance', target.primaryIdentifier],
              ['Class', `${current} -> ${options.instanceClass}`],
              ['Status', status],
              ['Safety snapshot', snapshot.DBSnapshotIdentifier],
            ]) + `\n${notes.join('\n')}\n`,
        );
        return ExitCode.Ok;
      }),
    );
}
