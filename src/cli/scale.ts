import type { Command } from 'commander';
import { positiveInteger, type GlobalOptions, type Runner } from './command';
import type { CliDeps } from './context';
import { openDatabase } from './database';
import type { DatabaseState, DeployedDatabase } from './engine';
import { ExitCode, failedError, usageError, type ExitCodeValue } from './exit-codes';
import { renderRecord, type Reporter } from './output';
import { runDestructive, snapshotTags, type DestructiveFlow } from './rds-flows';
import { resolveTarget, type Target } from './target';
import { timestampSuffix } from './wait';

export interface ScaleOptions {
  readonly instanceClass: string;
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  readonly wait: boolean;
  readonly waitTimeout: number;
}

const INSTANCE_CLASS = /^db\.[a-z0-9]+\.[a-z0-9]+$/;

/**
 * What keeps the new class past the next apply. The module reads the class from the environment table, which a
 * caller of modules/rds replaces with instance_overrides and the stacks with src/config/environments.ts.
 */
export function persistNote(target: Target, previous: string, instanceClass: string): string {
  return (
    `The deployed configuration still names ${previous}: record ${instanceClass} before the next apply. A caller ` +
    `of modules/rds sets instance_overrides = { instance_class = "${instanceClass}" } in its module block; the ` +
    `stacks set instanceClass for '${target.env}' in src/config/environments.ts. Otherwise the next apply reverts ` +
    `it to ${previous}.`
  );
}

/** Nothing to do (already on the class), or a refusal, decided from one reading before any change. */
function unchanged(db: DeployedDatabase, state: DatabaseState, instanceClass: string, reporter: Reporter): boolean {
  const current = state.writerClass ?? 'unknown';
  if (current === instanceClass) {
    reporter.result(
      { instance: db.identifier, instanceClass: current, changed: false },
      () => `${db.identifier} already runs on ${current}; nothing to do.\n`,
    );
    return true;
  }
  if (state.status !== 'available') {
    throw failedError(`${db.identifier} is '${state.status}': scale only an available ${db.noun}.`);
  }
  return false;
}

async function scaleFlow(
  db: DeployedDatabase,
  state: DatabaseState,
  target: Target,
  options: ScaleOptions,
  deps: CliDeps,
  reporter: Reporter,
): Promise<DestructiveFlow<string>> {
  const current = state.writerClass ?? 'unknown';
  const snapshotId = `${target.project}-${target.env}-pre-scale-${timestampSuffix(deps.clock.now())}`;
  const waits = { deps, reporter, timeoutMinutes: options.waitTimeout };
  return {
    title: `Scale ${db.identifier} from ${current} to ${options.instanceClass}. ${db.scaleImpact(state)}`,
    identifier: db.identifier,
    label: `${db.noun} identifier`,
    action: 'scale it',
    snapshot: db.safetySnapshot(snapshotId, snapshotTags(target, 'pre-scale'), waits),
    change: await db.scaleWriter({ instanceClass: options.instanceClass, wait: options.wait, waits }),
    report(status) {
      const notes = [persistNote(target, current, options.instanceClass)];
      if (state.readers.length > 0) notes.push(`Read replicas keep their class: ${state.readers.join(', ')}.`);
      const record = {
        instance: db.identifier,
        previousClass: current,
        instanceClass: options.instanceClass,
        changed: true,
        status,
        snapshot: snapshotId,
        notes,
      };
      reporter.result(record, () => {
        const rows = renderRecord([
          [`${db.noun[0].toUpperCase()}${db.noun.slice(1)}`, db.identifier],
          ['Class', `${current} -> ${options.instanceClass}`],
          ['Status', status],
          ['Safety snapshot', snapshotId],
        ]);
        return `${rows}\n${notes.join('\n')}\n`;
      });
    },
  };
}

async function scale(options: ScaleOptions & GlobalOptions, deps: CliDeps, reporter: Reporter): Promise<ExitCodeValue> {
  const target = resolveTarget(options);
  if (!INSTANCE_CLASS.test(options.instanceClass)) {
    throw usageError(`--instance-class '${options.instanceClass}' is not an RDS instance class (e.g. db.r6g.xlarge).`);
  }
  const db = openDatabase(target, options.region, deps);
  const state = await db.describe();
  if (unchanged(db, state, options.instanceClass, reporter)) return ExitCode.Ok;
  await db.checkClass(state, options.instanceClass);
  return runDestructive(await scaleFlow(db, state, target, options, deps, reporter), { ...options, deps, reporter });
}

/**
 * Emergency scale-up: snapshot, then the writer on the new class applied immediately, then a wait until it runs
 * on it. The deployed configuration still names the old class, so the result says where to record the new one
 * before the next apply reverts the change.
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
    .action(run<ScaleOptions>((options, reporter) => scale(options, deps, reporter)));
}
