import { Command } from 'commander';
import { positiveInteger, type GlobalOptions, type Runner } from './command';
import {
  chosenLogin,
  resolveConnection,
  sqlOptions,
  withDatabase,
  type LoginOptions,
  type ResolvedConnection,
} from './connection';
import type { CliDeps } from './context';
import { ExitCode, usageError } from './exit-codes';
import { renderTable, type Reporter } from './output';
import {
  connections,
  reindexConcurrently,
  slowQueries,
  tableStats,
  vacuumAnalyze,
  type Connection,
  type SlowQuery,
  type TableRun,
  type TableStats,
} from './sql-reports';
import { formatDuration } from './wait';

interface SqlOptions extends GlobalOptions, LoginOptions {
  readonly databaseUrl?: string;
  readonly caBundle?: string;
}

const MAINTENANCE_SUBCOMMANDS = ['vacuum', 'reindex', 'stats', 'connections', 'slow-queries'];

// The reports default to the IAM operator login; vacuum and reindex require --master-secret or a URL.
const sqlCommand = (command: Command) => sqlOptions(command, 'operator');

async function connect(options: SqlOptions, deps: CliDeps, reporter: Reporter): Promise<ResolvedConnection> {
  const connection = await resolveConnection(options, chosenLogin(options), deps);
  reporter.progress(`Connecting to ${connection.display}`);
  return connection;
}

const runColumns = [
  { header: 'TABLE', value: (r: TableRun) => r.table },
  { header: 'DURATION', value: (r: TableRun) => formatDuration(r.durationMs), align: 'right' as const },
];

/**
 * Routine maintenance and reports. The reports connect as the IAM operator login, whose pg_monitor
 * membership shows other sessions' query text. VACUUM and REINDEX need the tables' owner, the
 * master user (PostgreSQL 15 has no maintenance role a login could hold instead): they take
 * `--master-secret`, or a URL of the operator's choosing.
 */
export function registerMaintenance(program: Command, deps: CliDeps, run: Runner): void {
  const maintenance = program
    .command('maintenance')
    .description('VACUUM, REINDEX and database reports (vacuum | reindex | stats | connections | slow-queries)')
    // Without a subcommand, options such as --database-url belong to none: say what is missing, not "unknown option".
    .allowUnknownOption()
    .allowExcessArguments()
    .action((_options: unknown, command: Command) => {
      // A word that is not an option's value: `maintenance banana` names a subcommand that does not exist.
      const given = command.args.find((arg, i) => !arg.startsWith('-') && !command.args[i - 1]?.startsWith('-'));
      throw usageError(
        `maintenance needs a subcommand${given === undefined ? '' : ` ('${given}' is none)`}: ` +
          `${MAINTENANCE_SUBCOMMANDS.join(', ')} (for example: accessweaver-rds maintenance stats --database-url URL).`,
      );
    });

  const ownerOnly = (options: SqlOptions, operation: string) => {
    const url = options.databaseUrl ?? deps.env.DATABASE_URL;
    if (chosenLogin(options) !== 'master' && (url === undefined || url === '')) {
      throw usageError(
        `${operation} needs the tables' owner, the master user: run it with --master-secret, or give --database-url.`,
      );
    }
  };

  sqlCommand(
    maintenance
      .command('vacuum')
      .description('VACUUM (ANALYZE) every table of schema accessweaver, one statement per table'),
  ).action(
    run<SqlOptions>(async (options, reporter) => {
      ownerOnly(options, 'vacuum');
      const connection = await connect(options, deps, reporter);
      const clock = () => deps.clock.now().getTime();
      const runs = await withDatabase(connection, (client) =>
        vacuumAnalyze(client, {
          now: clock,
          onTable: (r) => reporter.progress(`  vacuumed ${r.table} in ${formatDuration(r.durationMs)}`),
        }),
      );
      reporter.result(
        { operation: 'vacuum', tables: runs },
        () => renderTable(runColumns, runs) + `VACUUM (ANALYZE) done on ${runs.length} tables.\n`,
      );
      return ExitCode.Ok;
    }),
  );

  sqlCommand(
    maintenance
      .command('reindex')
      .description('REINDEX TABLE CONCURRENTLY every table of schema accessweaver (no write blocking)'),
  ).action(
    run<SqlOptions>(async (options, reporter) => {
      ownerOnly(options, 'reindex');
      const connection = await connect(options, deps, reporter);
      const clock = () => deps.clock.now().getTime();
      const runs = await withDatabase(connection, (client) =>
        reindexConcurrently(client, {
          now: clock,
          onTable: (r) => reporter.progress(`  reindexed ${r.table} in ${formatDuration(r.durationMs)}`),
        }),
      );
      reporter.result(
        { operation: 'reindex', tables: runs },
        () => renderTable(runColumns, runs) + `REINDEX CONCURRENTLY done on ${runs.length} tables.\n`,
      );
      return ExitCode.Ok;
    }),
  );

  sqlCommand(
    maintenance.command('stats').description('per-table activity, live/dead rows and vacuum/analyze times'),
  ).action(
    run<SqlOptions>(async (options, reporter) => {
      const connection = await connect(options, deps, reporter);
      const rows = await withDatabase(connection, (client) => tableStats(client));
      reporter.result({ operation: 'stats', tables: rows }, () =>
        renderTable<TableStats>(
          [
            { header: 'TABLE', value: (r) => `${r.schema}.${r.table}` },
            { header: 'INSERTS', value: (r) => r.inserts, align: 'right' },
            { header: 'UPDATES', value: (r) => r.updates, align: 'right' },
            { header: 'DELETES', value: (r) => r.deletes, align: 'right' },
            { header: 'LIVE', value: (r) => r.liveRows, align: 'right' },
            { header: 'DEAD', value: (r) => r.deadRows, align: 'right' },
            { header: 'LAST VACUUM', value: (r) => r.lastVacuum },
            { header: 'LAST AUTOVACUUM', value: (r) => r.lastAutovacuum },
            { header: 'LAST ANALYZE', value: (r) => r.lastAnalyze },
            { header: 'LAST AUTOANALYZE', value: (r) => r.lastAutoanalyze },
          ],
          rows,
        ),
      );
      return ExitCode.Ok;
    }),
  );

  sqlCommand(maintenance.command('connections').description('sessions on the database (pg_stat_activity)')).action(
    run<SqlOptions>(async (options, reporter) => {
      const connection = await connect(options, deps, reporter);
      const rows = await withDatabase(connection, (client) => connections(client));
      reporter.result(
        { operation: 'connections', connections: rows },
        () =>
          renderTable<Connection>(
            [
              { header: 'PID', value: (r) => r.pid, align: 'right' },
              { header: 'USER', value: (r) => r.user },
              { header: 'APPLICATION', value: (r) => r.applicationName, maxWidth: 24 },
              { header: 'CLIENT', value: (r) => r.clientAddr },
              { header: 'STATE', value: (r) => r.state },
              { header: 'WAIT', value: (r) => r.waitEvent },
              { header: 'QUERY START', value: (r) => r.queryStart },
              { header: 'CURRENT QUERY', value: (r) => r.currentQuery, maxWidth: 60 },
            ],
            rows,
          ) + `${rows.length} other sessions.\n`,
      );
      return ExitCode.Ok;
    }),
  );

  sqlCommand(maintenance.command('slow-queries').description('statements by total execution time (pg_stat_statements)'))
    .option('--limit <n>', 'how many statements', positiveInteger, 10)
    .action(
      run<SqlOptions & { readonly limit: number }>(async (options, reporter) => {
        const connection = await connect(options, deps, reporter);
        const rows = await withDatabase(connection, (client) => slowQueries(client, options.limit));
        reporter.result({ operation: 'slow-queries', queries: rows }, () =>
          renderTable<SlowQuery>(
            [
              { header: 'CALLS', value: (r) => r.calls, align: 'right' },
              { header: 'TOTAL MS', value: (r) => r.totalExecTimeMs, align: 'right' },
              { header: 'MEAN MS', value: (r) => r.meanExecTimeMs, align: 'right' },
              { header: 'ROWS', value: (r) => r.rows, align: 'right' },
              { header: 'HIT %', value: (r) => r.hitPercent, align: 'right' },
              { header: 'QUERY', value: (r) => r.query, maxWidth: 80 },
            ],
            rows,
          ),
        );
        return ExitCode.Ok;
      }),
    );
}
