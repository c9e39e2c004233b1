/**
 * A tenant-facing login cannot hold other tenants hostage: a lock it holds that others wait on, or a transaction it
 * leaves idle, ends within the parameter group's bounds although the login lifted its own timeouts; it cannot keep
 * the migration lock; and the limits it could raise for itself are taken back or refused.
 *
 * The database carries the parameter group's session limits (ALTER DATABASE stands in for the group), and the
 * watchdog is called directly, as pg_cron calls it, once the holder is past the bound: no verdict depends on timing.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { MIGRATION_LOCK_KEY, migrate } from '../../src/db/migrate';
import { DATABASE_PARAMETERS, SESSION_LIMIT_PARAMETERS } from '../../src/rds/parameters';
import {
  pgauditServerUnavailableReason,
  serverSettings,
  startPgauditServer,
  type PgauditServer,
} from '../support/pgaudit-server';
import { urlFor } from '../support/database';
import {
  contextFor,
  createMigratedDatabase,
  seedTenants,
  withConnection,
  withCredentials,
  type MigratedDatabase,
  type TenantFixture,
} from './fixtures';

const LIMITS = serverSettings(SESSION_LIMIT_PARAMETERS);
const LOCK_BOUND_MS = Number(LIMITS.lock_timeout);

let database: MigratedDatabase;
let tenants: TenantFixture[];
const opened: Client[] = [];

beforeAll(async () => {
  database = await createMigratedDatabase();
  tenants = await seedTenants(database.url, 2);
  for (const name of ['lock_timeout', 'idle_in_transaction_session_timeout']) {
    await admin(`ALTER DATABASE ${database.name} SET ${name} = '${LIMITS[name]}'`);
  }
});
afterAll(async () => {
  await Promise.all(opened.map((client) => client.end().catch(() => undefined)));
  await database.drop();
});

function admin(text: string, values: unknown[] = []) {
  return withConnection(database.url, (client) => client.query(text, values));
}

interface Session {
  readonly client: Client;
  readonly pid: number;
  /** Resolves when the server ends the session. */
  readonly ended: Promise<void>;
}

/** A session of `url` that has lifted every timeout a login may lift for itself. */
async function unboundedSession(url: string): Promise<Session> {
  const client = new Client({ connectionString: url });
  opened.push(client);
  const ended = new Promise<void>((resolve) => client.on('error', () => resolve()));
  await client.connect();
  for (const name of ['lock_timeout', 'statement_timeout', 'idle_in_transaction_session_timeout']) {
    await client.query(`SET ${name} = 0`);
  }
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return { client, pid: rows[0].pid, ended };
}

/** Polls until `condition` (SQL, $1 = pid) holds for the backend. */
async function until(condition: string, pid: number): Promise<void> {
  for (;;) {
    const { rows } = await admin(`SELECT (${condition}) AS ok FROM pg_stat_activity WHERE pid = $1`, [pid]);
    if (rows[0]?.ok === true) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const olderThan = (ms: number) => `now() - xact_start > make_interval(secs => ${ms / 1000})`;
const waiting = "wait_event_type = 'Lock'";

async function enforce(): Promise<{ pid: number | null; login: string; finding: string }[]> {
  return (await admin('SELECT pid, login, finding FROM accessweaver.enforce_login_limits()')).rows;
}

test("an app-login table lock others wait on ends past lock_timeout; another tenant's query then runs", async () => {
  const holder = await unboundedSession(database.appUrl);
  await holder.client.query('BEGIN');
  await holder.client.query(
    'LOCK TABLE accessweaver.users, accessweaver.roles, accessweaver.user_roles IN ACCESS EXCLUSIVE MODE',
  );
  // Another tenant's query, waiting without giving up as a steady stream of tenant queries would.
  const tenant = await unboundedSession(database.appUrl);
  await tenant.client.query('BEGIN');
  await tenant.client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(tenants[1].id)]);
  const query = tenant.client.query<{ count: string }>('SELECT count(*) FROM accessweaver.users');
  await until(waiting, tenant.pid);
  await until(olderThan(LOCK_BOUND_MS), holder.pid);

  expect(await enforce()).toContainEqual({ pid: holder.pid, login: 'accessweaver_app', finding: 'blocks others' });
  await holder.ended;
  expect((await query).rows[0].count).toBe(String(tenants[1].userIds.length));
  await tenant.client.query('COMMIT');
});

test('a read-only-login shared lock that blocks partition creation ends past lock_timeout', async () => {
  const holder = await unboundedSession(database.readonlyUrl);
  await holder.client.query('BEGIN');
  await holder.client.query('LOCK TABLE accessweaver.audit_events IN ACCESS SHARE MODE');
  const maintenance = await unboundedSession(database.url);
  const created = maintenance.client.query<{ name: string }>(
    "SELECT accessweaver.create_audit_partitions(0, '2100-01-15') AS name",
  );
  await until(waiting, maintenance.pid);
  await until(olderThan(LOCK_BOUND_MS), holder.pid);

  expect(await enforce()).toContainEqual({
    pid: holder.pid,
    login: 'accessweaver_readonly',
    finding: 'blocks others',
  });
  await holder.ended;
  expect((await created).rows).toEqual([{ name: 'audit_events_2100_01' }]);
});

test('a login transaction past lock_timeout that nobody waits on is left alone', async () => {
  const holder = await unboundedSession(database.appUrl);
  await holder.client.query('BEGIN');
  await holder.client.query('LOCK TABLE accessweaver.users IN ACCESS EXCLUSIVE MODE');
  await until(olderThan(LOCK_BOUND_MS), holder.pid);

  expect((await enforce()).map((finding) => finding.pid)).not.toContain(holder.pid);
  await holder.client.query('ROLLBACK');
});

test('a login idle in a transaction past idle_in_transaction_session_timeout ends, whatever it set', async () => {
  const holder = await unboundedSession(database.appUrl);
  await holder.client.query('BEGIN');
  await holder.client.query('SELECT 1');
  // The caller's bound, shortened here so the test need not wait the parameter group's minute.
  const found = await withConnection(database.url, async (client) => {
    await client.query("SET idle_in_transaction_session_timeout = '200ms'");
    await until("now() - state_change > interval '200 milliseconds'", holder.pid);
    return (await client.query('SELECT pid, login, finding FROM accessweaver.enforce_login_limits()')).rows;
  });

  expect(found).toContainEqual({ pid: holder.pid, login: 'accessweaver_app', finding: 'idle in transaction' });
  await holder.ended;
});

test('a login holding the migration lock does not stall migrate(): its session is ended', async () => {
  const holder = await unboundedSession(database.appUrl);
  await holder.client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
  const lines: string[] = [];

  await migrate(database.url, { log: (line) => lines.push(line) });

  await holder.ended;
  expect(lines).toContain(`ended backend ${holder.pid} of accessweaver_app: it held the migration lock`);
}, 60_000);

describe('limits a login could raise for itself', () => {
  const login = `aw_test_limits_${randomBytes(3).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  let loginUrl: string;

  // A login of this suite's own, member of application_role like a per-service login: accessweaver_app is shared
  // with suites running meanwhile.
  beforeAll(async () => {
    await admin(`CREATE ROLE ${login} LOGIN PASSWORD '${password}' IN ROLE application_role`);
    loginUrl = withCredentials(database.url, login, password);
  });
  afterAll(async () => {
    await admin(`DROP ROLE IF EXISTS ${login}`);
  });

  const workMem = () =>
    withConnection(loginUrl, async (client) => (await client.query<{ work_mem: string }>('SHOW work_mem')).rows[0]);

  test('a work_mem the login stores for itself is reset: its next session starts with the default', async () => {
    const { rows: defaults } = await admin('SHOW work_mem');
    await withConnection(loginUrl, (client) => client.query("ALTER ROLE CURRENT_USER SET work_mem = '2000GB'"));
    expect(await workMem()).toEqual({ work_mem: '2000GB' });

    expect(await enforce()).toContainEqual({ pid: null, login, finding: 'stored setting' });
    expect(await workMem()).toEqual(defaults[0]);
  });

  test('temp_file_limit cannot be raised by the login, and a spill beyond it fails', async () => {
    expect(DATABASE_PARAMETERS.map((p) => p.name)).toContain('temp_file_limit');
    // The group's value is 10% of the volume; 1 MB stands in for it here.
    await admin(`ALTER DATABASE ${database.name} SET temp_file_limit = '1MB'`);
    await withConnection(loginUrl, async (client) => {
      await expect(client.query('SET temp_file_limit = -1')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('ALTER ROLE CURRENT_USER SET temp_file_limit = -1')).rejects.toMatchObject({
        code: '42501',
      });
      await client.query("SET work_mem = '64kB'");
      await expect(
        client.query('SELECT count(*) FROM (SELECT n FROM generate_series(1, 500000) n ORDER BY n DESC) sorted'),
      ).rejects.toMatchObject({ code: '53400' });
    });
  });
});

const unavailable = pgauditServerUnavailableReason();
if (unavailable) {
  if (process.env.CI === 'true') throw new Error(`the pg_cron schedule test needs its server on CI: ${unavailable}`);
  console.warn(`SKIPPED login watchdog schedule test (PostgreSQL 15 with pg_cron): ${unavailable}`);
}
const describeWithCron = unavailable ? describe.skip : describe;

describeWithCron('with the parameter group on PostgreSQL 15 with pg_cron', () => {
  let server: PgauditServer;

  beforeAll(async () => {
    server = await startPgauditServer(serverSettings(DATABASE_PARAMETERS));
    await withConnection(server.adminUrl, (client) => client.query('CREATE DATABASE accessweaver'));
  }, 120_000);
  afterAll(() => {
    server?.stop();
  });

  test('migrating schedules the watchdog with pg_cron', async () => {
    const url = urlFor('accessweaver', server.adminUrl);
    await migrate(url);
    const { rows } = await withConnection(url, (client) =>
      client.query('SELECT active FROM accessweaver.login_watchdog_schedule()'),
    );
    expect(rows).toEqual([{ active: true }]);
  }, 60_000);
});
