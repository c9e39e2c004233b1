import type { Tag } from '@aws-sdk/client-rds';
import { confirmDestructive } from './confirm';
import type { CliDeps } from './context';
import type { Operation } from './engine';
import { ExitCode, type ExitCodeValue } from './exit-codes';
import type { Reporter } from './output';

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

export function waitStep(
  what: string,
  operation: string,
  deps: Pick<CliDeps, 'pollIntervalMs'>,
  timeoutMinutes: number,
): PlannedStep {
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

/** The tags of a snapshot the CLI takes: whose it is and why. */
export function snapshotTags(target: { readonly project: string; readonly env: string }, purpose: string): Tag[] {
  return [
    { Key: 'Project', Value: target.project },
    { Key: 'Environment', Value: target.env },
    { Key: 'Purpose', Value: purpose },
    { Key: 'CreatedBy', Value: 'accessweaver-rds' },
  ];
}

/** What the operator is asked to confirm: the plan, and the identifier to type back. */
export interface Plan {
  readonly title: string;
  readonly steps: readonly PlannedStep[];
  readonly identifier: string;
  /** @default 'instance identifier' */
  readonly label?: string;
  /** The refusal's and the prompt's verb phrase, e.g. `scale it`. */
  readonly action: string;
}

/** How a destructive command was invoked: its --dry-run and --yes, and where it reads and writes. */
export interface Invocation {
  readonly dryRun?: boolean;
  readonly yes?: boolean;
  readonly deps: CliDeps;
  readonly reporter: Reporter;
}

/**
 * The gate before a destructive flow: prints the planned calls, then stops there on --dry-run (returns false), or
 * asks for confirmation (throws a refusal without it). True means go ahead.
 */
export async function planAndConfirm(plan: Plan, invocation: Invocation): Promise<boolean> {
  const { title, steps } = plan;
  const { reporter } = invocation;
  if (invocation.dryRun === true) {
    reporter.result({ dryRun: true, steps }, () => renderPlan(`Dry run, nothing changed. ${title}`, steps));
    return false;
  }
  reporter.info(renderPlan(title, steps).trimEnd());
  await confirmDestructive({
    yes: invocation.yes === true,
    terminal: invocation.deps.terminal,
    identifier: plan.identifier,
    label: plan.label,
    action: plan.action,
  });
  return true;
}

/** A destructive change to the deployed database, as runDestructive carries it out. */
export interface DestructiveFlow<T> extends Omit<Plan, 'steps'> {
  /** Taken, and waited for, before the change. */
  readonly snapshot: Operation<void>;
  /** The change itself, its wait included. */
  readonly change: Operation<T>;
  /** Reports the outcome once the change (and its wait) is done. */
  report(outcome: T): void;
}

/**
 * Every destructive command's skeleton: print the plan (and stop there on --dry-run), confirm, take the safety
 * snapshot and wait for it, make the change and wait for it, report. Nothing changes before the confirmation, and
 * nothing but the snapshot before the snapshot is available.
 */
export async function runDestructive<T>(flow: DestructiveFlow<T>, invocation: Invocation): Promise<ExitCodeValue> {
  const steps = [...flow.snapshot.steps, ...flow.change.steps];
  if (!(await planAndConfirm({ ...flow, steps }, invocation))) return ExitCode.Ok;
  await flow.snapshot.run();
  flow.report(await flow.change.run());
  return ExitCode.Ok;
}
