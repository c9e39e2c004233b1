import {
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type CreateDBSnapshotCommandInput,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { awsCall, awsError } from './aws';
import { confirmDestructive } from './confirm';
import type { CliDeps } from './context';
import type { Reporter } from './output';
import { formatElapsed, pollUntil, type PollState } from './wait';

/** One AWS call of a destructive flow, exactly as it will be sent: what --dry-run prints. */
export interface PlannedStep {
  /** The API operation, or `wait` for a polling step. */
  readonly operation: string;
  readonly input?: Readonly<Record<string, unknown>>;
  readonly note?: string;
}

export function renderPlan(title: string, steps: readonly PlannedStep[]): string {
  const lines = steps.map((step, i) => {
    const head = `  ${i + 1}. ${step.operation}${step.note === undefined ? '' : `: ${step.note}`}`;
    if (step.input === undefined) return head;
    // One parameter per line, each value as compact JSON: exact, and short enough to read at a glance.
    const params = Object.entries(step.input)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `       ${key}: ${JSON.stringify(value)}`);
    return [head, ...params].join('\n');
  });
  return `${title}\n${lines.join('\n')}\n`;
}

export function waitStep(what: string, operation: string, deps: CliDeps, timeoutMinutes: number): PlannedStep {
  return {
    operation: 'wait',
    note: `${what} (${operation} every ${Math.round(deps.pollIntervalMs / 1000)}s, up to ${timeoutMinutes} min)`,
  };
}

// RDS identifier rule: a letter first, then letters, digits and hyphens; no double or trailing hyphen.
const IDENTIFIER = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,62}(?<!-)$/;

export function isValidIdentifier(identifier: string): boolean {
  return IDENTIFIER.test(identifier);
}

export function snapshotInput(
  instance: string,
  snapshot: string,
  purpose: string,
  target: { readonly project: string; readonly env: string },
): CreateDBSnapshotCommandInput {
  return {
    DBInstanceIdentifier: instance,
    DBSnapshotIdentifier: snapshot,
    Tags: [
      { Key: 'Project', Value: target.project },
      { Key: 'Environment', Value: target.env },
      { Key: 'Purpose', Value: purpose },
      { Key: 'CreatedBy', Value: 'accessweaver-rds' },
    ],
  };
}

/**
 * The gate before a destructive flow: prints the planned calls, then stops there on --dry-run (returns false), or
 * asks for confirmation (throws a refusal without it). True means go ahead.
 */
export async function planAndConfirm(options: {
  readonly title: string;
  readonly steps: readonly PlannedStep[];
  readonly dryRun: boolean;
  readonly yes: boolean;
  readonly identifier: string;
  readonly action: string;
  readonly deps: CliDeps;
  readonly reporter: Reporter;
}): Promise<boolean> {
  const { title, steps, reporter } = options;
  if (options.dryRun) {
    reporter.result({ dryRun: true, steps }, () => renderPlan(`Dry run, nothing changed. ${title}`, steps));
    return false;
  }
  reporter.info(renderPlan(title, steps).trimEnd());
  await confirmDestructive({
    yes: options.yes,
    terminal: options.deps.terminal,
    identifier: options.identifier,
    action: options.action,
  });
  return true;
}

/** Takes the safety snapshot and waits until it is available; nothing else happens until then. */
export async function snapshotAndWait(
  rds: RDSClient,
  input: CreateDBSnapshotCommandInput,
  deps: CliDeps,
  reporter: Reporter,
  timeoutMinutes: number,
): Promise<number> {
  const id = input.DBSnapshotIdentifier ?? '';
  reporter.progress(`Creating snapshot ${id} of ${input.DBInstanceIdentifier}`);
  await awsCall(`CreateDBSnapshot ${id}`, () => rds.send(new CreateDBSnapshotCommand(input)));
  const { elapsedMs } = await pollUntil<null>({
    label: `snapshot ${id}`,
    clock: deps.clock,
    intervalMs: deps.pollIntervalMs,
    timeoutMs: timeoutMinutes * 60_000,
    progress: (line) => reporter.progress(line),
    followUp: `Nothing else was changed. Check it with: aws rds describe-db-snapshots --db-snapshot-identifier ${id}`,
    check: async (): Promise<PollState<null>> => {
      const output = await awsCall(`DescribeDBSnapshots ${id}`, () =>
        rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id })),
      );
      const snapshot = output.DBSnapshots?.[0];
      const status = snapshot?.Status ?? 'unknown';
      if (status === 'available') return { kind: 'done', status: 'available', value: null };
      if (status === 'failed' || status === 'error' || status === 'deleted') return { kind: 'failed', status };
      return { kind: 'pending', status: `${status} ${snapshot?.PercentProgress ?? 0}%` };
    },
  });
  reporter.progress(`Snapshot ${id} available after ${formatElapsed(elapsedMs)}`);
  return elapsedMs;
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
  options: {
    readonly deps: CliDeps;
    readonly reporter: Reporter;
    readonly timeoutMinutes: number;
    readonly label: string;
    /** Called before every poll; throws to stop waiting (an operator's interrupt). */
    readonly checkAbort?: () => void;
  },
): Promise<{ readonly instance: DBInstance; readonly elapsedMs: number }> {
  const { value, elapsedMs } = await pollUntil<DBInstance>({
    label: options.label,
    clock: options.deps.clock,
    intervalMs: options.deps.pollIntervalMs,
    timeoutMs: options.timeoutMinutes * 60_000,
    progress: (line) => options.reporter.progress(line),
    followUp: `Check it with: aws rds describe-db-instances --db-instance-identifier ${identifier}`,
    check: async (): Promise<PollState<DBInstance>> => {
      options.checkAbort?.();
      let instance: DBInstance | undefined;
      try {
        const output = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
        instance = output.DBInstances?.[0];
      } catch (error) {
        // A restore target can lag behind its own creation request for a poll or two.
        if ((error as { name?: string }).name?.startsWith('DBInstanceNotFound'))
          return { kind: 'pending', status: 'not visible yet' };
        throw awsError(error, `DescribeDBInstances ${identifier}`);
      }
      if (instance === undefined) return { kind: 'pending', status: 'not visible yet' };
      const status = instance.DBInstanceStatus ?? 'unknown';
      if (FAILED_INSTANCE_STATES.has(status)) return { kind: 'failed', status };
      if (done(instance)) return { kind: 'done', status, value: instance };
      return { kind: 'pending', status };
    },
  });
  return { instance: value, elapsedMs };
}
