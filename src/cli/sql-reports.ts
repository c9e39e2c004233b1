import type { Client } from 'pg';
import { failedError } from './exit-codes';

/** The schema the module's migrations create; maintenance and reports are scoped to it. */
export const APPLICATION_SCHEMA = 'accessweaver';

/** Double-quotes an identifier the way quote_ident does, so odd table names cannot break or inject. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function tablesOf(client: Client, schema: string): Promise<readonly string[]> {
  // Plain tables, materialized views and partitioned tables: the relations VACUUM and REINDEX TABLE accept. A
  // partitioned parent (the audit trail) is processed whole: VACUUM and REINDEX reach each of its partitions (in
  // their own schema), and ANALYZE gathers the parent's statistics, which autovacuum never does.
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'm', 'p')
      ORDER BY c.relname`,
    [schema],
  );
  return rows.map((r) => r.name);
}

/** The fields of a server notice this module reads (pg does not export its NoticeMessage type). */
interface Notice {
  readonly severity?: string;
  readonly message?: string;
}

/** Runs `sql` and returns the warnings PostgreSQL sent while it ran (it skips, rather than fails, some work). */
async function queryCollectingWarnings(client: Client, sql: string): Promise<readonly Notice[]> {
  const warnings: Notice[] = [];
  const listener = (notice: Notice) => {
    if (notice.severity === 'WARNING') warnings.push(notice);
  };
  client.on('notice', listener);
  try {
    await client.query(sql);
  } finally {
    client.off('notice', listener);
  }
  return warnings;
}

const noTables = (schema: string, verb: string) =>
  failedError(
    `Schema ${schema} has no tables in this database: nothing to ${verb} (are the migrations applied? ` +
      'accessweaver-rds setup-database applies them).',
  );

export interface TableRun {
  readonly table: string;
  readonly durationMs: number;
}

export interface PerTableOptions {
  readonly schema?: string;
  readonly now?: () => number;
  readonly onTable?: (run: TableRun) => void;
}

/** Runs `operation` on each table of the schema in turn, timing each and reporting it as it finishes. */
async function forEachTable(
  client: Client,
  verb: string,
  options: PerTableOptions,
  operation: (qualified: string, table: string, schema: string) => Promise<void>,
): Promise<TableRun[]> {
  const schema = options.schema ?? APPLICATION_SCHEMA;
  const now = options.now ?? Date.now;
  const tables = await tablesOf(client, schema);
  if (tables.length === 0) throw noTables(schema, verb);
  const runs: TableRun[] = [];
  for (const table of tables) {
    const started = now();
    await operation(`${quoteIdent(schema)}.${quoteIdent(table)}`, table, schema);
    const run = { table: `${schema}.${table}`, durationMs: now() - started };
    runs.push(run);
    options.onTable?.(run);
  }
  return runs;
}

/**
 * VACUUM (ANALYZE), one top-level statement per table: VACUUM cannot run inside a transaction block
 * or a function (a DO-block loop fails on every PostgreSQL version). A login that
 * does not own a table only gets a WARNING and nothing is vacuumed, so warnings are failures here.
 */
export async function vacuumAnalyze(client: Client, options: PerTableOptions = {}): Promise<readonly TableRun[]> {
  return forEachTable(client, 'vacuum', options, async (qualified, table, schema) => {
    const warnings = await queryCollectingWarnings(client, `VACUUM (ANALYZE) ${qualified}`);
    if (warnings.length > 0) {
      throw failedError(
        `VACUUM ${schema}.${table}: ${warnings.map((w) => w.message).join('; ')} (run vacuum and reindex as ` +
          `the master login, which owns the schema: --master-secret).`,
      );
    }
  });
}

export interface InvalidIndex {
  readonly table: string;
  readonly index: string;
}

export async function invalidIndexes(client: Client, schema = APPLICATION_SCHEMA): Promise<readonly InvalidIndex[]> {
  const { rows } = await client.query<InvalidIndex>(
    `SELECT t.relname AS table, c.relname AS index
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT i.indisvalid
      ORDER BY t.relname, c.relname`,
    [schema],
  );
  return rows;
}

/**
 * REINDEX TABLE CONCURRENTLY, table by table. CONCURRENTLY holds only SHARE UPDATE EXCLUSIVE on each
 * table, so the application keeps reading and writing, where REINDEX DATABASE takes ACCESS
 * EXCLUSIVE on every index in turn and stalls queries for the duration. Per table rather than
 * REINDEX SCHEMA CONCURRENTLY so progress is visible and a failure names its table. A failed
 * concurrent rebuild leaves an invalid index behind, so the run ends by checking for those.
 */
export async function reindexConcurrently(client: Client, options: PerTableOptions = {}): Promise<readonly TableRun[]> {
  const schema = options.schema ?? APPLICATION_SCHEMA;
  const runs = await forEachTable(client, 'reindex', options, async (qualified, table) => {
    try {
      await client.query(`REINDEX TABLE CONCURRENTLY ${qualified}`);
    } catch (error) {
      throw failedError(`REINDEX ${schema}.${table}: ${(error as Error).message}`);
    }
  });
  const invalid = await invalidIndexes(client, schema);
  if (invalid.length > 0) {
    throw failedError(
      `Invalid indexes remain (left by an interrupted concurrent build): ${invalid
        .map((i) => `${schema}.${i.index} on ${i.table}`)
        .join(', ')}. Drop each with DROP INDEX CONCURRENTLY and run reindex again.`,
    );
  }
  return runs;
}

export interface TableStats {
  readonly schema: string;
  readonly table: string;
  readonly inserts: number;
  readonly updates: number;
  readonly deletes: number;
  readonly liveRows: number;
  readonly deadRows: number;
  readonly lastVacuum: Date | null;
  readonly lastAutovacuum: Date | null;
  readonly lastAnalyze: Date | null;
  readonly lastAutoanalyze: Date | null;
}

/** Per-table activity. pg_stat_user_tables names the table `relname` (`tablename` is pg_tables' column). */
export async function tableStats(client: Client, schema = APPLICATION_SCHEMA): Promise<readonly TableStats[]> {
  const { rows } = await client.query<TableStats>(
    `SELECT schemaname AS schema, relname AS table,
            n_tup_ins AS inserts, n_tup_upd AS updates, n_tup_del AS deletes,
            n_live_tup AS "liveRows", n_dead_tup AS "deadRows",
            last_vacuum AS "lastVacuum", last_autovacuum AS "lastAutovacuum",
            last_analyze AS "lastAnalyze", last_autoanalyze AS "lastAutoanalyze"
       FROM pg_stat_user_tables
      WHERE schemaname = $1
      ORDER BY n_live_tup DESC, relname`,
    [schema],
  );
  // Every table has a row here, even an empty one: no row means no schema, not a quiet database.
  if (rows.length === 0) throw noTables(schema, 'report');
  return rows;
}

export interface Connection {
  readonly pid: number;
  readonly user: string | null;
  readonly applicationName: string;
  readonly clientAddr: string | null;
  readonly state: string | null;
  readonly waitEvent: string | null;
  readonly backendStart: Date | null;
  readonly queryStart: Date | null;
  readonly stateChange: Date | null;
  readonly currentQuery: string | null;
}

/** Sessions on the current database other than this one, most recent query first. */
export async function connections(client: Client): Promise<readonly Connection[]> {
  const { rows } = await client.query<Connection>(
    `SELECT pid, usename AS user, application_name AS "applicationName", client_addr::text AS "clientAddr",
            state, CASE WHEN wait_event IS NULL THEN NULL ELSE wait_event_type || ':' || wait_event END AS "waitEvent",
            backend_start AS "backendStart", query_start AS "queryStart", state_change AS "stateChange",
            CASE WHEN state = 'active' THEN query END AS "currentQuery"
       FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid()
      ORDER BY query_start DESC NULLS LAST, pid`,
  );
  return rows;
}

export interface SlowQuery {
  readonly queryId: string | null;
  readonly calls: number;
  readonly totalExecTimeMs: number;
  readonly meanExecTimeMs: number;
  readonly rows: number;
  readonly hitPercent: number | null;
  readonly query: string | null;
}

/**
 * The statements with the most total execution time in this database. PostgreSQL 13 renamed
 * total_time/mean_time to total_exec_time/mean_exec_time; 15 knows only the new names.
 */
export async function slowQueries(client: Client, limit: number): Promise<readonly SlowQuery[]> {
  const installed = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'`);
  if (installed.rowCount === 0) {
    throw failedError(
      'pg_stat_statements is not installed in this database. The parameter group preloads the library; ' +
        'create the extension once as the master login: CREATE EXTENSION pg_stat_statements;',
    );
  }
  try {
    const { rows } = await client.query<SlowQuery>(
      `SELECT queryid::text AS "queryId", calls,
              total_exec_time AS "totalExecTimeMs", mean_exec_time AS "meanExecTimeMs", rows,
              round(100.0 * shared_blks_hit / nullif(shared_blks_hit + shared_blks_read, 0), 2) AS "hitPercent",
              query
         FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        ORDER BY total_exec_time DESC
        LIMIT $1`,
      [limit],
    );
    return rows;
  } catch (error) {
    // 55000: the extension exists but the library is not in shared_preload_libraries.
    if ((error as { code?: string }).code === '55000') {
      throw failedError(
        `pg_stat_statements is installed but not loaded: ${(error as Error).message}. Check the parameter ` +
          `group's shared_preload_libraries.`,
      );
    }
    throw error;
  }
}

export interface DatabaseOverview {
  readonly database: string;
  readonly sizeBytes: number;
  readonly size: string;
  readonly connections: number;
  readonly activeConnections: number;
}

export async function databaseOverview(client: Client): Promise<DatabaseOverview> {
  const { rows } = await client.query<DatabaseOverview>(
    `SELECT current_database() AS database,
            pg_database_size(current_database()) AS "sizeBytes",
            pg_size_pretty(pg_database_size(current_database())) AS size,
            (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()) AS connections,
            (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = ` +
      `'active') AS "activeConnections"`,
  );
  return rows[0];
}

export interface BusyTable {
  readonly table: string;
  readonly totalChanges: number;
  readonly liveRows: number;
  readonly sizeBytes: number;
  readonly size: string;
}

/** Tables by writes; sizes through relid, since an unquoted schemaname||'.'||tablename breaks on mixed-case names. */
export async function busiestTables(
  client: Client,
  limit: number,
  schema = APPLICATION_SCHEMA,
): Promise<readonly BusyTable[]> {
  const { rows } = await client.query<BusyTable>(
    `SELECT schemaname || '.' || relname AS table,
            n_tup_ins + n_tup_upd + n_tup_del AS "totalChanges",
            n_live_tup AS "liveRows",
            pg_total_relation_size(relid) AS "sizeBytes",
            pg_size_pretty(pg_total_relation_size(relid)) AS size
       FROM pg_stat_user_tables
      WHERE schemaname = $1
      ORDER BY "totalChanges" DESC, relname
      LIMIT $2`,
    [schema, limit],
  );
  return rows;
}
