import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { runCli } from './support/harness';
import { applyMigrations, execute, queryRows } from './support/schema';

// Every SQL operation runs against PostgreSQL 15 with the project's migrations applied.
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('aw_cli_maint');
  await applyMigrations(db.url);
});

afterAll(async () => {
  await db.drop();
});

// The audit trail's partitioned parent is one of them; its partitions live in accessweaver_audit.
const TABLES = [
  'accessweaver.audit_events',
  'accessweaver.roles',
  'accessweaver.tenants',
  'accessweaver.user_roles',
  'accessweaver.users',
];

/** The audit partitions with their last manual vacuum. */
async function auditPartitions(): Promise<{ name: string; lastVacuum: Date | null }[]> {
  return queryRows(
    db.url,
    `SELECT relname AS name, last_vacuum AS "lastVacuum" FROM pg_stat_user_tables
      WHERE schemaname = 'accessweaver_audit' ORDER BY relname`,
  );
}

async function vacuumTimes(): Promise<Record<string, { lastVacuum: Date | null; lastAnalyze: Date | null }>> {
  const rows = await queryRows<{ name: string; last_vacuum: Date | null; last_analyze: Date | null }>(
    db.url,
    `SELECT relname AS name, last_vacuum, last_analyze FROM pg_stat_user_tables WHERE schemaname = 'accessweaver'`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, { lastVacuum: r.last_vacuum, lastAnalyze: r.last_analyze }]));
}

/** A login that owns nothing in the schema, as accessweaver_app is. */
async function nonOwnerUrl(): Promise<string> {
  const name = `aw_cli_nonowner_${randomBytes(3).toString('hex')}`;
  await execute(
    db.url,
    `CREATE ROLE ${name} LOGIN PASSWORD 'not-the-owner'`,
    `GRANT USAGE ON SCHEMA accessweaver TO ${name}`,
  );
  const url = new URL(db.url);
  url.username = name;
  url.password = 'not-the-owner';
  return url.toString();
}

describe('maintenance vacuum', () => {
  test('prints each table time in seconds with a tenth (a vacuum takes well under a minute here)', async () => {
    const result = await runCli(['maintenance', 'vacuum', '--database-url', db.url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^TABLE\s+DURATION$/m);
    expect(result.stdout).toMatch(/^accessweaver\.tenants\s+\d+\.\d s$/m);
    expect(result.stderr).toMatch(/^ {2}vacuumed accessweaver\.users in \d+\.\d s$/m);
  });

  test('vacuums and analyzes every table of the schema, one statement per table', async () => {
    const result = await runCli(['maintenance', 'vacuum', '--database-url', db.url, '--json']);
    expect(result.code).toBe(0);
    expect(
      JSON.parse(result.stdout)
        .tables.map((t: { table: string }) => t.table)
        .sort(),
    ).toEqual(TABLES);
    const times = await vacuumTimes();
    for (const table of ['tenants', 'users', 'roles', 'user_roles']) {
      expect(times[table].lastVacuum).toBeInstanceOf(Date);
      expect(times[table].lastAnalyze).toBeInstanceOf(Date);
    }
  });

  test('vacuums every audit partition and analyzes the partitioned parent (autovacuum never does)', async () => {
    const result = await runCli(['maintenance', 'vacuum', '--database-url', db.url]);
    expect(result.code).toBe(0);
    expect((await vacuumTimes()).audit_events.lastAnalyze).toBeInstanceOf(Date);
    const partitions = await auditPartitions();
    expect(partitions.length).toBeGreaterThan(0);
    expect(partitions.filter((p) => p.lastVacuum === null)).toEqual([]);
  });

  test('quotes table names, so a mixed-case name with a space is vacuumed too', async () => {
    await execute(db.url, 'CREATE TABLE accessweaver."Audit Log" (id int)');
    try {
      const result = await runCli(['maintenance', 'vacuum', '--database-url', db.url]);
      expect(result.code).toBe(0);
      expect((await vacuumTimes())['Audit Log'].lastVacuum).toBeInstanceOf(Date);
    } finally {
      await execute(db.url, 'DROP TABLE accessweaver."Audit Log"');
    }
  });

  test('fails when the login does not own the tables (PostgreSQL only warns and skips them)', async () => {
    const result = await runCli(['maintenance', 'vacuum', '--database-url', await nonOwnerUrl()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/only table or database owner can vacuum it/);
    expect(result.stderr).toMatch(/master login/);
  });

  test('refuses the read-only login before connecting anywhere', async () => {
    const result = await runCli(['maintenance', 'vacuum', '--env', 'dev', '--login', 'readonly']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/needs the tables' owner/);
  });
});

describe('maintenance reindex', () => {
  const filenode = async (index: string) =>
    (await queryRows<{ node: string }>(db.url, `SELECT pg_relation_filenode($1::regclass)::text AS node`, [index]))[0]
      .node;

  test('rebuilds every index of the schema concurrently', async () => {
    const before = await filenode('accessweaver.tenants_pkey');
    const result = await runCli(['maintenance', 'reindex', '--database-url', db.url, '--json']);
    expect(result.code).toBe(0);
    expect(
      JSON.parse(result.stdout)
        .tables.map((t: { table: string }) => t.table)
        .sort(),
    ).toEqual(TABLES);
    expect(await filenode('accessweaver.tenants_pkey')).not.toBe(before);
  });

  test("rebuilds the audit partitions' indexes through their parent", async () => {
    const [index] = await queryRows<{ name: string }>(
      db.url,
      `SELECT format('%I.%I', schemaname, indexname) AS name FROM pg_indexes
        WHERE schemaname = 'accessweaver_audit' ORDER BY indexname LIMIT 1`,
    );
    const before = await filenode(index.name);
    const result = await runCli(['maintenance', 'reindex', '--database-url', db.url]);
    expect(result.code).toBe(0);
    expect(await filenode(index.name)).not.toBe(before);
  });

  test('fails and names an invalid index left in the schema', async () => {
    await execute(
      db.url,
      'CREATE TABLE accessweaver.scratch (id int)',
      'CREATE INDEX scratch_id ON accessweaver.scratch (id)',
      `UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'accessweaver.scratch_id'::regclass`,
    );
    try {
      const result = await runCli(['maintenance', 'reindex', '--database-url', db.url]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/accessweaver\.scratch_id on scratch/);
    } finally {
      await execute(db.url, 'DROP TABLE accessweaver.scratch');
    }
  });
});

describe('maintenance stats', () => {
  test('reports each table by its pg_stat_user_tables relname with live rows', async () => {
    await execute(
      db.url,
      `INSERT INTO accessweaver.tenants (name, subdomain) VALUES ('A', 'stats-a'), ('B', 'stats-b'), ('C', 'stats-c')`,
      // Flush the insert counters now, so they cannot land after ANALYZE's count and double it.
      'SELECT pg_stat_force_next_flush()',
      'ANALYZE accessweaver.tenants',
    );
    const result = await runCli(['maintenance', 'stats', '--database-url', db.url, '--json']);
    expect(result.code).toBe(0);
    const tables: { schema: string; table: string; liveRows: number }[] = JSON.parse(result.stdout).tables;
    expect(tables.map((t) => `${t.schema}.${t.table}`).sort()).toEqual(TABLES);
    expect(tables.find((t) => t.table === 'tenants')?.liveRows).toBe(3);
  });

  test('renders a table for a person', async () => {
    const result = await runCli(['maintenance', 'stats', '--database-url', db.url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^TABLE\s+INSERTS\s+UPDATES\s+DELETES\s+LIVE\s+DEAD/m);
    expect(result.stdout).toMatch(/^accessweaver\.users\s/m);
  });

  test('on a database without the schema: fails saying so, exit 1 (not an empty report)', async () => {
    const bare = await createTestDatabase('aw_cli_bare');
    try {
      const result = await runCli(['maintenance', 'stats', '--database-url', bare.url]);
      expect({ code: result.code, stderr: result.stderr.split('\n').slice(-2) }).toEqual({
        code: 1,
        stderr: [
          'error: Schema accessweaver has no tables in this database: nothing to report (are the migrations ' +
            'applied? accessweaver-rds setup-database applies them).',
          '',
        ],
      });
    } finally {
      await bare.drop();
    }
  });
});

describe('maintenance connections', () => {
  test('lists the other sessions on the database, with their application name', async () => {
    const other = new Client({ connectionString: db.url, application_name: 'aw-cli-witness' });
    await other.connect();
    try {
      const result = await runCli(['maintenance', 'connections', '--database-url', db.url, '--json']);
      expect(result.code).toBe(0);
      const sessions: { applicationName: string }[] = JSON.parse(result.stdout).connections;
      expect(sessions.map((s) => s.applicationName)).toContain('aw-cli-witness');
      expect(sessions.map((s) => s.applicationName)).not.toContain('accessweaver-rds');
    } finally {
      await other.end();
    }
  });
});

describe('maintenance slow-queries', () => {
  test('ranks statements by total_exec_time from pg_stat_statements', async () => {
    // Only this database's statements count, and only from here on: a migration that ran slowly on a busy
    // machine must not decide the verdict. The ranking is checked as an order, not as which statement wins.
    await execute(
      db.url,
      'SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)',
      // pg_stat_statements replaces constants with $n, so the witness is named by an identifier.
      'SELECT pg_sleep(0.3) AS slow_query_witness',
    );
    const result = await runCli(['maintenance', 'slow-queries', '--database-url', db.url, '--json']);
    expect(result.code).toBe(0);
    const queries = JSON.parse(result.stdout).queries as {
      query: string;
      calls: number;
      totalExecTimeMs: number;
      meanExecTimeMs: number;
    }[];
    const totals = queries.map((q) => q.totalExecTimeMs);
    expect(totals).toEqual([...totals].sort((a, b) => b - a));
    const witness = queries.find((q) => q.query.includes('slow_query_witness'));
    expect(witness).toMatchObject({ calls: 1 });
    expect(witness?.totalExecTimeMs).toBeGreaterThanOrEqual(300);
    expect(witness?.meanExecTimeMs).toBeGreaterThanOrEqual(300);
  });

  test('honours --limit', async () => {
    const result = await runCli(['maintenance', 'slow-queries', '--database-url', db.url, '--limit', '1', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).queries).toHaveLength(1);
  });

  test('says how to install pg_stat_statements when the extension is missing', async () => {
    const bare = await createTestDatabase('aw_cli_nostat');
    try {
      const result = await runCli(['maintenance', 'slow-queries', '--database-url', bare.url]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/pg_stat_statements is not installed.*CREATE EXTENSION pg_stat_statements/);
    } finally {
      await bare.drop();
    }
  });

  test('rejects a non-numeric --limit as a usage error', async () => {
    const result = await runCli(['maintenance', 'slow-queries', '--database-url', db.url, '--limit', 'ten']);
    expect(result.code).toBe(2);
  });
});

describe('maintenance connection handling', () => {
  test('uses DATABASE_URL when no --database-url is given', async () => {
    const result = await runCli(['maintenance', 'stats', '--json'], { env: { DATABASE_URL: db.url } });
    expect(result.code).toBe(0);
  });

  test('exits 4 with the reason when the database is unreachable', async () => {
    const result = await runCli([
      'maintenance',
      'stats',
      '--database-url',
      'postgres://nobody:x@127.0.0.1:1/accessweaver',
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/Cannot connect to nobody@127\.0\.0\.1:1\/accessweaver/);
    expect(result.stderr).not.toMatch(/:x@/);
  });
});
