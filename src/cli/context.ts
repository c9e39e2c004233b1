import { BackupClient } from '@aws-sdk/client-backup';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Signer } from '@aws-sdk/rds-signer';
import { createInterface } from 'node:readline/promises';
import type { SecretLogins } from '../db/logins';
import type { RestoreVerification } from '../db/verify-restore';
import type { ResolvedConnection } from './connection';

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
  readonly ec2: EC2Client;
  readonly backup: BackupClient;
}

/** The database layer's entry points that setup-database drives (src/db). */
export interface DatabaseTools {
  migrate(
    databaseUrl: string,
    options?: { directory?: string; log?: (line: string) => void },
  ): Promise<{ applied: string[]; alreadyApplied: string[] }>;
  setLoginPasswords(
    databaseUrl: string,
    passwords: { app: string; readonly: string },
    logins?: SecretLogins,
  ): Promise<void>;
  /**
   * Checks that a restored database is usable, over a connection the CLI resolved.
   * @default connects and runs verifyRestoredDatabase (src/db/verify-restore.ts)
   */
  verifyRestore?(connection: ResolvedConnection): Promise<RestoreVerification>;
}

/** Ctrl-C during a long flow: the handler runs instead of the process exiting; the returned function unsubscribes. */
export interface Interrupts {
  onInterrupt(handler: () => void): () => void;
}

/** What an IAM database authentication token is signed for. */
export interface IamAuthTokenRequest {
  readonly hostname: string;
  readonly port: number;
  readonly username: string;
  /** undefined: the SDK's own resolution (AWS_REGION / profile). */
  readonly region: string | undefined;
}

/** Signs an IAM database authentication token (a presigned URL used as the password). */
export type IamAuthTokenSigner = (request: IamAuthTokenRequest) => Promise<string>;

/** The AWS SDK's RDS signer, with the default credential chain. */
export const rdsSigner: IamAuthTokenSigner = ({ hostname, port, username, region }) =>
  new Signer({ hostname, port, username, ...(region === undefined ? {} : { region }) }).getAuthToken();

export interface CliDeps {
  /** AWS clients for a region (undefined: the SDK's own resolution, AWS_REGION / profile). */
  readonly aws: (region: string | undefined) => AwsClients;
  readonly clock: Clock;
  readonly terminal: Terminal;
  /** Environment variables (DATABASE_URL, PGSSLROOTCERT), injected so tests do not leak into each other. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly database: DatabaseTools;
  /** Signs the operator's IAM database authentication tokens. */
  readonly iamAuthToken: IamAuthTokenSigner;
  /** Delay between two polls of a long AWS operation. */
  readonly pollIntervalMs: number;
  /**
   * SIGINT, injected so a test can interrupt a flow.
   * @default processInterrupts
   */
  readonly interrupts?: Interrupts;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export const processInterrupts: Interrupts = {
  onInterrupt(handler) {
    process.on('SIGINT', handler);
    return () => process.off('SIGINT', handler);
  },
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
  // The SDK's documented switch for its multi-line notice that future releases need Node 22: an operator running
  // a restore needs the command's own output, not that (README, "Node.js versions", says it once instead).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config = region === undefined ? {} : { region };
  return {
    rds: new RDSClient(config),
    secrets: new SecretsManagerClient(config),
    cloudwatch: new CloudWatchClient(config),
    ec2: new EC2Client(config),
    backup: new BackupClient(config),
  };
}
