import { InvalidArgumentError } from 'commander';
import { regionProblem } from '../config/regions';
import type { ExitCodeValue } from './exit-codes';
import type { Reporter } from './output';

/** Options every subcommand inherits from the program. */
export interface GlobalOptions {
  readonly env?: string;
  readonly project?: string;
  readonly region?: string;
  readonly json?: boolean;
  readonly engine?: string;
}

/** A subcommand body: parsed options in, exit code out (errors are thrown as CliError). */
export type Action<O> = (options: O & GlobalOptions, reporter: Reporter) => Promise<ExitCodeValue>;

/** Wraps an Action as a commander action handler; main.ts records the exit code. */
export type Runner = <O>(action: Action<O>) => (...args: unknown[]) => Promise<void>;

/** Commander parser for positive integer options (limits, minutes). */
export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('expected a positive integer.');
  return parsed;
}

/** Commander parser for region options: a region of the SDK's partitions, refused (exit 2) before any AWS call. */
export function awsRegion(value: string): string {
  const problem = regionProblem(value);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return value;
}
