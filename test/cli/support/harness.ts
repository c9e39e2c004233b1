import { BackupClient } from '@aws-sdk/client-backup';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type {
  AwsClients,
  CliDeps,
  Clock,
  DatabaseTools,
  IamAuthTokenRequest,
  IamAuthTokenSigner,
  Interrupts,
  Terminal,
} from '../../../src/cli/context';
import { run } from '../../../src/cli/main';

/** A clock whose sleep advances time instantly and records every wait. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  private current: number;

  constructor(start = new Date('2026-03-14T02:30:00.000Z')) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.current += ms;
  }
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Questions the command asked on the terminal. */
  readonly questions: readonly string[];
}

export interface HarnessOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly interactive?: boolean;
  /** Answers to prompts, in order. */
  readonly answers?: readonly string[];
  readonly clock?: FakeClock;
  readonly database?: DatabaseTools;
  readonly iamAuthToken?: IamAuthTokenSigner;
  readonly interrupts?: Interrupts;
}

/** A stand-in for the RDS signer: records what it was asked to sign and returns a recognisable token. */
export class StubSigner {
  readonly requests: IamAuthTokenRequest[] = [];
  readonly sign: IamAuthTokenSigner = async (request) => {
    this.requests.push(request);
    return (
      `${request.hostname}:${request.port}/?Action=connect&DBUser=${request.username}&X-Amz-Signature=stub` +
      `${this.requests.length}`
    );
  };
}

const unexpectedSigner: IamAuthTokenSigner = () => Promise.reject(new Error('no IAM token was expected in this test'));

const unusedDatabaseTools: DatabaseTools = {
  migrate: () => Promise.reject(new Error('migrate was not expected in this test')),
  setLoginPasswords: () => Promise.reject(new Error('setLoginPasswords was not expected in this test')),
};

/** AWS clients with fixed region and dummy credentials; aws-sdk-client-mock intercepts every send. */
export function testAwsClients(): AwsClients {
  const config = { region: 'eu-west-3', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } };
  return {
    rds: new RDSClient(config),
    secrets: new SecretsManagerClient(config),
    cloudwatch: new CloudWatchClient(config),
    ec2: new EC2Client(config),
    backup: new BackupClient(config),
  };
}

/** Runs the CLI in-process with captured output and injected clock, terminal and environment. */
export async function runCli(argv: readonly string[], options: HarnessOptions = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const questions: string[] = [];
  const answers = [...(options.answers ?? [])];
  const terminal: Terminal = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    interactive: options.interactive ?? false,
    ask: async (question) => {
      questions.push(question);
      return answers.shift() ?? '';
    },
  };
  const deps: CliDeps = {
    aws: () => testAwsClients(),
    clock: options.clock ?? new FakeClock(),
    terminal,
    env: options.env ?? {},
    database: options.database ?? unusedDatabaseTools,
    iamAuthToken: options.iamAuthToken ?? unexpectedSigner,
    pollIntervalMs: 30_000,
    interrupts: options.interrupts ?? { onInterrupt: () => () => undefined },
  };
  const code = await run(argv, deps);
  return { code, stdout, stderr, questions };
}
