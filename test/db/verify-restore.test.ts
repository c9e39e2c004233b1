/**
 * The restore drill's verification, on the real PostgreSQL 15: a migrated database stands in for the restored
 * instance, connected as an RDS-like master user (no superuser, CREATEROLE, owner of the schema). Each defect a
 * restore could bring back (RLS off, not forced, a policy gone or widened, migrations behind) must fail it.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { setLoginPasswords } from '../../src/db/logins';
import { migrate, MIGRATIONS_DIRECTORY } from '../../src/db/migrate';
import { installTenantContextKey } from '../../src/db/tenant-context-keys';
import { verifyRestoredDatabase, type RestoreVerification } from '../../src/db/verify-restore';
import { adminUrl, createTestDatabase, type TestDatabase } from '../support/database';
import { seedTenants, TEST_CONTEXT_KEY, TEST_PASSWORDS, withConnection, withCredentials } from './fixtures';

// Other migrations land after these tests were written: name the latest and the one before from the folder.
const MIGRATION_FILES = readdirSync(MIGRATIONS_DIRECTORY)
  .filter((file) => file.endsWith('.sql'))
  .sort();
const LATEST = MIGRATION_FILES[MIGRATION_FILES.length - 1];
const PREVIOUS = MIGRATION_FILES[MIGRATION_FILES.length - 2];
/** "0004_row_level_security.sql" as the ledger records it: "4 row_level_security". */
const ledgerName = (file: string) => file.replace(/^0*(\d+)_(.*)\.sql$/, '$1 $2');

const MASTER = `drill_master_${randomBytes(3).toString('hex')}`;
const MASTER_PASSWORD = 'drill-master-test';
const databases: TestDatabase[] = [];

beforeAll(async () => {
  await withConnection(adminUrl(), (client) =>
    client.query(`CREATE ROLE ${MASTER} LOGIN CREATEROLE NOSUPERUSER PASSWORD '${MASTER_PASSWORD}'`),
  );
});
afterAll(async () => {
  for (const database of databases) await database.drop();
  await withConnection(adminUrl(), (client) => client.query(`DROP ROLE IF EXISTS ${MASTER}`)).catch(() => undefined);
});

/** A database owned and migrated by the master user, like the module's instance after setup-database. */
async function restoredStandIn(migrationsDirectory = MIGRATIONS_DIRECTORY): Promise<{ superUrl: string; url: string }> {
  const database = await createTestDatabase('aw_drill');
  databases.push(database);
  await withConnection(database.url, (client) => client.query(`ALTER DATABASE ${database.name} OWNER TO ${MASTER}`));
  const url = withCredentials(database.url, MASTER, MASTER_PASSWORD);
  await migrate(url, { directory: migrationsDirectory });
  await setLoginPasswords(database.url, TEST_PASSWORDS);
  // The key arrives with the migration that creates its table; a stand-in migrated short of it has none.
  if (migrationsDirectory === MIGRATIONS_DIRECTORY) {
    await withConnection(url, (client) => installTenantContextKey(client, TEST_CONTEXT_KEY, { overlapSeconds: 0 }));
  }
  await seedTenants(database.url, 2);
  return { superUrl: database.url, url };
}

async function verify(url: string): Promise<RestoreVerification> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await verifyRestoredDatabase(client);
  } finally {
    await client.end();
  }
}

const failed = (result: RestoreVerification) =>
  result.checks.filter((check) => !check.ok).map((check) => [check.name, check.detail]);

test('a migrated database with tenants passes every check, with its row counts', async () => {
  const { url } = await restoredStandIn();
  const result = await verify(url);
  expect(failed(result)).toEqual([]);
  expect(result.ok).toBe(true);
  expect(result.checks.map((check) => check.name)).toEqual([
    'migrations',
    'row-level security',
    'tenant policies',
    'tenant isolation (application_role)',
    'tenant isolation (readonly_role)',
    'row counts',
  ]);
  expect(result.checks[0].detail).toBe(`at ${LATEST}`);
  expect(result.tables).toEqual([
    { table: 'audit_events', rows: 22 }, // one event per roles, user_roles and users row written
    { table: 'roles', rows: 4 },
    { table: 'tenants', rows: 2 },
    { table: 'user_roles', rows: 12 },
    { table: 'users', rows: 6 },
  ]);
});

test('the probe leaves nothing behind: no probe rows, no role membership for the master user', async () => {
  const { url, superUrl } = await restoredStandIn();
  await verify(url);
  const [left] = await withConnection(superUrl, async (client) => {
    const { rows } = await client.query<{ tenants: number; memberships: number }>(
      `SELECT (SELECT count(*)::int FROM accessweaver.tenants) AS tenants,
              (SELECT count(*)::int FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
                 JOIN pg_roles g ON g.oid = m.roleid
                WHERE r.rolname = $1 AND g.rolname IN ('application_role', 'readonly_role')) AS memberships`,
      [MASTER],
    );
    return rows;
  });
  expect(left).toEqual({ tenants: 2, memberships: 0 });
});

test('fails when row-level security was disabled on a table, and isolation fails with it', async () => {
  const { url, superUrl } = await restoredStandIn();
  await withConnection(superUrl, (client) => client.query('ALTER TABLE accessweaver.users DISABLE ROW LEVEL SECURITY'));
  const result = await verify(url);
  expect(result.ok).toBe(false);
  expect(failed(result)).toEqual([
    ['row-level security', 'not enforced on users (disabled)'],
    [
      'tenant isolation (application_role)',
      // 6 seeded users and 2 probe users; one of the probes is the tenant's own.
      'users: 8 rows without a context; users: 7 rows of other tenants visible; users: a row for another ' +
        "tenant was written under this tenant's context",
    ],
    ['tenant isolation (readonly_role)', 'users: 8 rows without a context; users: 7 rows of other tenants visible'],
  ]);
});

test('fails when row-level security is enabled but not forced (the owner would bypass it)', async () => {
  const { url, superUrl } = await restoredStandIn();
  await withConnection(superUrl, (client) =>
    client.query('ALTER TABLE accessweaver.roles NO FORCE ROW LEVEL SECURITY'),
  );
  expect(failed(await verify(url))).toEqual([['row-level security', 'not enforced on roles (not forced)']]);
});

test('fails when a tenant policy is missing', async () => {
  const { url, superUrl } = await restoredStandIn();
  await withConnection(superUrl, (client) => client.query('DROP POLICY tenant_isolation_roles ON accessweaver.roles'));
  const result = await verify(url);
  expect(failed(result)).toContainEqual([
    'tenant policies',
    'no tenant policy on roles for application_role, roles for readonly_role',
  ]);
  expect(result.ok).toBe(false);
});

test('fails when a policy lets one role see every tenant', async () => {
  const { url, superUrl } = await restoredStandIn();
  await withConnection(superUrl, (client) =>
    client.query('CREATE POLICY leak ON accessweaver.users FOR SELECT TO application_role USING (true)'),
  );
  expect(failed(await verify(url))).toEqual([
    ['tenant isolation (application_role)', 'users: 8 rows without a context; users: 7 rows of other tenants visible'],
  ]);
});

test('fails when a policy lets a tenant write rows of another tenant', async () => {
  const { url, superUrl } = await restoredStandIn();
  await withConnection(superUrl, (client) =>
    client.query('CREATE POLICY leak ON accessweaver.users FOR INSERT TO application_role WITH CHECK (true)'),
  );
  expect(failed(await verify(url))).toEqual([
    ['tenant isolation (application_role)', "users: a row for another tenant was written under this tenant's context"],
  ]);
});

describe('migrations', () => {
  let behind: string;
  beforeAll(() => {
    behind = mkdtempSync(path.join(os.tmpdir(), 'aw-migrations-'));
    for (const file of MIGRATION_FILES.slice(0, -1))
      copyFileSync(path.join(MIGRATIONS_DIRECTORY, file), path.join(behind, file));
  });
  afterAll(() => rmSync(behind, { recursive: true, force: true }));

  test('fails on a database whose migrations are behind, naming what is missing', async () => {
    const { url } = await restoredStandIn(behind);
    const result = await verify(url);
    expect(result.ok).toBe(false);
    // Other checks may fail too on a database that lacks what the latest migrations bring.
    expect(failed(result)).toContainEqual([
      'migrations',
      `latest applied ${ledgerName(PREVIOUS)}; expected ${LATEST}; behind: ${LATEST} not applied`,
    ]);
  });

  test('fails on a database without a migration ledger', async () => {
    const database = await createTestDatabase('aw_drill');
    databases.push(database);
    const result = await verify(database.url);
    expect(result.checks[0]).toEqual({
      name: 'migrations',
      ok: false,
      detail: `no migration ledger; expected ${LATEST}`,
    });
    expect(result.ok).toBe(false);
  });
});
