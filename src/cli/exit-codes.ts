/**
 * Exit codes of `accessweaver-rds`. Scripts and on-call runbooks branch on these, so they are part
 * of the interface: change them only with the runbook (docs/runbook.md).
 */
export const ExitCode = {
  /** The operation completed (or, for health-check, every check passed). */
  Ok: 0,
  /** The operation ran and failed: an AWS or SQL error, a failed wait, an unhealthy check. */
  Failed: 1,
  /** Bad input: unknown option or environment, malformed time or instance class, missing CA bundle. */
  Usage: 2,
  /** A destructive operation was refused: no `--yes` and no interactive confirmation. */
  Refused: 3,
  /** The target does not exist or cannot be reached: instance, secret, or database connection. */
  Unavailable: 4,
  /** restore-drill: the restored database was verified, but slower than the RTO or older than the RPO. */
  ObjectiveMissed: 5,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is meant for the operator as is, with the exit code it maps to. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

export const usageError = (message: string): CliError => new CliError(message, ExitCode.Usage);
export const unavailableError = (message: string, cause?: unknown): CliError =>
  new CliError(message, ExitCode.Unavailable, cause === undefined ? undefined : { cause });
/** `cause`: the error being reported, so a lost connection in it is still recognised (connection-loss.ts). */
export const failedError = (message: string, cause?: unknown): CliError =>
  new CliError(message, ExitCode.Failed, cause === undefined ? undefined : { cause });
