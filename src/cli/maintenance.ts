import { Command } from 'commander';
import { positiveInteger, type GlobalOptions, type Runner } from './command';
import { connectAs, requireOwner, sqlOptions, withDatabase, type SqlCommandOptions } from './connection';
import type { CliDeps } from './context';
import { ExitCode, usageError } from './exit-codes';
import { renderTable, type Column } from './output';
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

type SqlOptions = SqlCommandOptions & GlobalOptions;

const MAINTENANCE_SUBCOMMANDS = ['vacuum', 'reindex', 'stats', 'connections', 'slow-queries'];

// The reports default to the IAM operator login; vacuum and reindex require --master-secret or a URL.
const sqlCommand = (command: Command) => sqlOptions(command, 'operator');

const runColumns = [
  { header: 'TABLE', value: (r: TableRun) => r.table },
  { header: 'DURATION', value: (r: TableRun) => formatDuration(r.durationMs), align: 'right' as const },
];

const statsColumns: Column<TableStats>[] = [
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
];

const connectionColumns: Column<Connection>[] = [
  { header: 'PID', value: (r) => r.pid, align: 'right' },
  { header: 'USER', value: (r) => r.user },
  { header: 'APPLICATION', value: (r) => r.applicationName, maxWidth: 24 },
  { header: 'CLIENT', value: (r) => r.clientAddr },
  { header: 'STATE', value: (r) => r.state },
  { header: 'WAIT', value: (r) => r.waitEvent },
  { header: 'QUERY START', value: (r) => r.queryStart },
  { header: 'CURRENT QUERY', value: (r) => r.currentQuery, maxWidth: 60 },
];

const slowQueryColumns: Column<SlowQuery>[] = [
  { header: 'CALLS', value: (r) => r.calls, align: 'right' },
  { header: 'TOTAL MS', value: (r) => r.totalExecTimeMs, align: 'right' },
  { header: 'MEAN MS', value: (r) => r.meanExecTimeMs, align: 'right' },
  { header: 'ROWS', value: (r) => r.rows, align: 'right' },
  { header: 'HIT %', value: (r) => r.hitPercent, align: 'right' },
  { header: 'QUERY', value: (r) => r.query, maxWidth: 80 },
];

/** A statement per table as the tables' owner: VACUUM (ANALYZE) or REINDEX CONCURRENTLY. */
interface TableMaintenance {
  readonly name: 'vacuum' | 'reindex';
  readonly description: string;
  /** Past tense for the progress lines, e.g. `vacuumed`. */
  readonly done: string;
  /** The statement, for the closing line. */
  readonly statement: string;
  readonly perTable: typeof vacuumAnalyze;
}

const TABLE_MAINTENANCE: readonly TableMaintenance[] = [
  {
    name: 'vacuum',
    description: 'VACUUM (ANALYZE) every table of schema accessweaver, one statement per table',
    done: 'vacuumed',
    statement: 'VACUUM (ANALYZE)',
    perTable: vacuumAnalyze,
  },
  {
    name: 'reindex',
    description: 'REINDEX TABLE CONCURRENTLY every table of schema accessweaver (no write blocking)',
    done: 'reindexed',
    statement: 'REINDEX CONCURRENTLY',
    perTable: reindexConcurrently,
  },
];

function registerTableMaintenance(maintenance: Command, job: TableMaintenance, deps: CliDeps, run: Runner): void {
  sqlCommand(maintenance.command(job.name).description(job.description)).action(
    run<SqlOptions>(async (options, reporter) => {
      requireOwner(options, deps.env, `${job.name} needs the tables' owner`);
      const connection = await connectAs(options, deps, reporter);
      const runs = await withDatabase(connection, (client) =>
        job.perTable(client, {
          now: () => deps.clock.now().getTime(),
          onTable: (r) => reporter.progress(`  ${job.done} ${r.table} in ${formatDuration(r.durationMs)}`),
        }),
      );
      reporter.result(
        { operation: job.name, tables: runs },
        () => renderTable(runColumns, runs) + `${job.statement} done on ${runs.length} tables.\n`,
      );
      return ExitCode.Ok;
    }),
  );
}

function registerReports(maintenance: Command, deps: CliDeps, run: Runner): void {
  sqlCommand(
    maintenance.command('stats').description('per-table activity, live/dead rows and vacuum/analyze times'),
  ).action(
    run<SqlOptions>(async (options, reporter) => {
      const connection = await connectAs(options, deps, reporter);
      const rows = await withDatabase(connection, (client) => tableStats(client));
      reporter.result({ operation: 'stats', tables: rows }, () => renderTable(statsColumns, rows));
      return ExitCode.Ok;
    }),
  );

  sqlCommand(maintenance.command('connections').description('sessions on the database (pg_stat_activity)')).action(
    run<SqlOptions>(async (options, reporter) => {
      const connection = await connectAs(options, deps, reporter);
      const rows = await withDatabase(connection, (client) => connections(client));
      reporter.result(
        { operation: 'connections', connections: rows },
        () => renderTable(connectionColumns, rows) + `${rows.length} other sessions.\n`,
      );
      return ExitCode.Ok;
    }),
  );

  sqlCommand(maintenance.command('slow-queries').description('statements by total execution time (pg_stat_statements)'))
    .option('--limit <n>', 'how many statements', positiveInteger, 10)
    .action(
      run<SqlOptions & { readonly limit: number }>(async (options, reporter) => {
        const connection = await connectAs(options, deps, reporter);
        const rows = await withDatabase(connection, (client) => slowQueries(client, options.limit));
        reporter.result({ operation: 'slow-queries', queries: rows }, () => renderTable(slowQueryColumns, rows));
        return ExitCode.Ok;
      }),
    );
}

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
  for (const job of TABLE_MAINTENANCE) registerTableMaintenance(maintenance, job, deps, run);
  registerReports(maintenance, deps, run);
}
