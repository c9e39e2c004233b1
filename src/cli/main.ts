import { Command, CommanderError, Option } from 'commander';
import { version } from '../../package.json';
import { DEFAULT_PROJECT_NAME, ENVIRONMENTS } from '../config/environments';
import { setLoginPasswords } from '../db/logins';
import { migrate } from '../db/migrate';
import { awsRegion, type Action, type GlobalOptions, type Runner } from './command';
import {
  defaultAwsClients,
  processTerminal,
  rdsSigner,
  systemClock,
  type AwsClients,
  type CliDeps,
  type DatabaseTools,
} from './context';
import { commandPath, reportConnectionLoss } from './connection-loss';
import { CliError, ExitCode, type ExitCodeValue } from './exit-codes';
import { registerAudit } from './audit';
import { registerHealthCheck } from './health-check';
import { registerMaintenance } from './maintenance';
import { registerMonitoring } from './monitoring';
import { Reporter } from './output';
import { registerRestore } from './restore';
import { registerRestoreDrill } from './restore-drill';
import { registerScale } from './scale';
import { registerSetupDatabase } from './setup-database';
import { ENGINES, resolveTarget } from './target';
import { registerRotateTenantContextKey } from './tenant-context-key';

/** Builds the `accessweaver-rds` program; `onExit` receives the exit code the chosen command decided. */
export function buildProgram(deps: CliDeps, onExit: (code: ExitCodeValue) => void): Command {
  const program = new Command('accessweaver-rds');
  // Settings made before .command() are inherited by every subcommand.
  program
    .exitOverride()
    .configureOutput({ writeOut: (text) => deps.terminal.stdout(text), writeErr: (text) => deps.terminal.stderr(text) })
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .version(version)
    .description(
      'Operations for the AccessWeaver RDS PostgreSQL database: health, maintenance, restore, restore drill, ' +
        'scaling, setup, monitoring, audit.',
    )
    .option('--env <env>', `environment (${ENVIRONMENTS.join(', ')})`)
    .option('--project <name>', 'project name used in resource names', DEFAULT_PROJECT_NAME)
    .option('--region <region>', 'AWS region (default: AWS_REGION / profile)', awsRegion)
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .addOption(
      new Option('--engine <engine>', 'what the module deployed: a DB instance (modules/rds) or an Aurora cluster')
        .choices(ENGINES)
        .default('instance'),
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 operation failed or unhealthy, 2 usage error, 3 refused (no confirmation), 4 ' +
        'not found or unreachable, 5 restore drill verified but an objective (RTO/RPO) missed.\nRunbook: ' +
        'docs/runbook.md',
    );

  const run: Runner =
    <O>(action: Action<O>) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const options = command.optsWithGlobals<O & GlobalOptions>();
      // A given --env (and --project) is checked by every command, even one that --database-url points
      // elsewhere: `--env qa` is a mistake to report (exit 2), not an option to ignore.
      if (options.env !== undefined) resolveTarget(options);
      try {
        onExit(await action(options, new Reporter(deps.terminal, Boolean(options.json))));
      } catch (error) {
        throw reportConnectionLoss(error, commandPath(command));
      }
    };

  registerHealthCheck(program, deps, run);
  registerMaintenance(program, deps, run);
  registerRestore(program, deps, run);
  registerRestoreDrill(program, deps, run);
  registerScale(program, deps, run);
  registerSetupDatabase(program, deps, run);
  registerRotateTenantContextKey(program, deps, run);
  registerMonitoring(program, deps, run);
  registerAudit(program, deps, run);
  return program;
}

/** Runs one invocation (argv without node and script) and returns the process exit code. */
export async function run(argv: readonly string[], deps: CliDeps): Promise<ExitCodeValue> {
  let code: ExitCodeValue = ExitCode.Ok;
  const program = buildProgram(deps, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; every other parse failure is a usage error (commander printed it).
      if (error.exitCode === 0) return ExitCode.Ok;
      if (argv.includes('--json'))
        deps.terminal.stdout(`${JSON.stringify({ error: error.message, exitCode: ExitCode.Usage }, null, 2)}\n`);
      return ExitCode.Usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    const exitCode = error instanceof CliError ? error.exitCode : ExitCode.Failed;
    deps.terminal.stderr(`error: ${message}\n`);
    // A machine reading --json output gets the failure as JSON too, instead of an empty stdout.
    if (argv.includes('--json')) deps.terminal.stdout(`${JSON.stringify({ error: message, exitCode }, null, 2)}\n`);
    return exitCode;
  }
}

/** One set of AWS clients per region for the whole invocation (they hold connection pools). */
function memoizedAwsClients(): CliDeps['aws'] {
  const byRegion = new Map<string | undefined, AwsClients>();
  return (region) => {
    const existing = byRegion.get(region);
    if (existing !== undefined) return existing;
    const created = defaultAwsClients(region);
    byRegion.set(region, created);
    return created;
  };
}

export function defaultDeps(database: DatabaseTools): CliDeps {
  return {
    aws: memoizedAwsClients(),
    clock: systemClock,
    terminal: processTerminal(),
    env: process.env,
    database,
    iamAuthToken: rdsSigner,
    pollIntervalMs: 15_000,
  };
}

/** Entry point of bin/accessweaver-rds.js. */
export async function main(argv: readonly string[]): Promise<ExitCodeValue> {
  return run(argv, defaultDeps({ migrate, setLoginPasswords }));
}
