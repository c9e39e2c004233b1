import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { cloudwatchMock } from './support/aws';
import { runCli } from './support/harness';
import { applyMigrations } from './support/schema';

// The seed runbook's SQL, verbatim, next to the subcommand that replaces it: each seed statement
// fails on PostgreSQL 15 and the subcommand runs clean on the same database.
let db: TestDatabase;
let client: Client;

beforeAll(async () => {
  db = await createTestDatabase('aw_cli_seed');
  await applyMigrations(db.url);
  client = new Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client.end();
  await db.drop();
});

const SEED_VACUUM = `
        DO $$
        DECLARE
            r RECORD;
        BEGIN
            FOR r IN SELECT schemaname, tablename FROM pg_tables
                     WHERE schemaname = 'accessweaver'
            LOOP
                EXECUTE 'VACUUM ANALYZE ' || quote_ident(r.schemaname) || '.' || quote_ident(r.tablename);
                RAISE INFO 'Vacuumed table %.%', r.schemaname, r.tablename;
            END LOOP;
        END
        $$;`;

const SEED_STATS =
  `
        SELECT schemaname, tablename, n_tup_ins as inserts, n_tup_upd as updates, n_tup_del as deletes,
            n_live_tup as live_rows, n_dead_tup as dead_rows, last_vacuum, last_autovacuum, last_analyze, ` +
  `last_autoanalyze
        FROM pg_stat_user_tables
        WHERE schemaname = 'accessweaver'
        ORDER BY n_live_tup DESC;`;

const SEED_SLOW_QUERIES = `
        SELECT query, calls, total_time, mean_time, rows,
            100.0 * shared_blks_hit / nullif(shared_blks_hit + shared_blks_read, 0) AS hit_percent
        FROM pg_stat_statements
        ORDER BY total_time DESC
        LIMIT 10;`;

const SEED_TOP_TABLES = `
        SELECT schemaname || '.' || tablename as table_name, n_tup_ins + n_tup_upd + n_tup_del as total_changes,
            n_live_tup as live_rows, pg_size_pretty(pg_total_relation_size(schemaname||'.'||tablename)) as size
        FROM pg_stat_user_tables
        WHERE schemaname = 'accessweaver'
        ORDER BY total_changes DESC
        LIMIT 5;`;

describe('seed runbook SQL on PostgreSQL 15', () => {
  test('the seed vacuum fails: VACUUM cannot run inside the DO block', async () => {
    await expect(client.query(SEED_VACUUM)).rejects.toThrow(/VACUUM cannot be executed from a function/);
  });

  test('maintenance vacuum runs clean on the same database', async () => {
    expect((await runCli(['maintenance', 'vacuum', '--database-url', db.url])).code).toBe(0);
  });

  test('the seed stats query fails: pg_stat_user_tables has no tablename', async () => {
    await expect(client.query(SEED_STATS)).rejects.toThrow(/column "tablename" does not exist/);
  });

  test('maintenance stats runs clean on the same database', async () => {
    expect((await runCli(['maintenance', 'stats', '--database-url', db.url])).code).toBe(0);
  });

  test('the seed slow-queries report fails: total_time was renamed in PostgreSQL 13', async () => {
    await expect(client.query(SEED_SLOW_QUERIES)).rejects.toThrow(/column "total_time" does not exist/);
  });

  test('maintenance slow-queries runs clean on the same database', async () => {
    expect((await runCli(['maintenance', 'slow-queries', '--database-url', db.url])).code).toBe(0);
  });

  test("the seed monitoring report's top tables fail the same way (tablename)", async () => {
    await expect(client.query(SEED_TOP_TABLES)).rejects.toThrow(/column "tablename" does not exist/);
  });

  test('monitoring reports the busiest tables on the same database', async () => {
    cloudwatchMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const result = await runCli(['monitoring', '--env', 'dev', '--database-url', db.url, '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).database.busiestTables.map((t: { table: string }) => t.table)).toContain(
      'accessweaver.users',
    );
  });
});
