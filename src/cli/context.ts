import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createInterface } from 'node:readline/promises';

/** Time, injected so waits are instant and elapsed times are deterministic under test. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** Where the command writes and, for confirmations, reads. */
export interface Terminal {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when a person can answer a prompt (stdin and stderr are TTYs). */
  readonly interactive: boolean;
  ask(question: string): Promise<string>;
}

export interface AwsClients {
  readonly rds: RDSClient;
  readonly secrets: SecretsManagerClient;
  readonly cloudwatch: CloudWatchClient;
}

/** The database layer's entry points that setup-database drives (src/db). */
export interface DatabaseTools {
  migrate(
    databaseUrl: string,
    options?: { directory?: string; log?: (line: string) => void },
  ): Promise<{ applied: string[]; alreadyApplied: string[] }>;
  setLoginPasswords(databaseUrl: string, passwords: { app: string; readonly: string }): Promise<void>;
}

export interface CliDeps {
  /** AWS clients for a region (undefined: the SDK's own resolution, AWS_REGION / profile). */
  readonly aws: (region: string | undefined) => AwsClients;
  readonly clock: Clock;
  readonly terminal: Terminal;
  /** Environment variables (DATABASE_URL, PGSSLROOTCERT), injected so tests do not leak into each other. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly database: DatabaseTools;
  /** Delay between two polls of a long AWS operation. */
  readonly pollIntervalMs: number;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export function processTerminal(): Terminal {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    async ask(question) {
      // Prompts go to stderr so `--json` output on stdout stays parseable.
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
  };
}

export function defaultAwsClients(region: string | undefined): AwsClients {
  const config = region === undefined ? {} : { region };
  return {
    rds: new RDSClient(config),
    secrets: new SecretsManagerClient(config),
    cloudwatch: new CloudWatchClient(config),
  };
}
