/**
 * Alternating-users rotation, as AWS's PostgreSQL multi-user rotation function performs it: the
 * secret switches between a login and its `_clone`, and each rotation sets a new password on the
 * login the secret did not name. The previous credential must keep working (tasks started before
 * the rotation still use it) and both must see exactly the same tenant-scoped rows.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import {
  APP_CLONE_LOGIN,
  APP_LOGIN,
  READONLY_CLONE_LOGIN,
  READONLY_LOGIN,
  ROTATION_CLONE_SUFFIX,
} from '../../src/config/environments';
import { withTenant } from '../../src/db/tenant-context';
import {
  contextFor,
  createMigratedDatabase,
  poolFor,
  seedTenants,
  TEST_PASSWORDS,
  withConnection,
  type MigratedDatabase,
  type TenantFixture,
} from './fixtures';

let database: MigratedDatabase;
let tenants: TenantFixture[];

beforeAll(async () => {
  database = await createMigratedDatabase();
  tenants = await seedTenants(database.url, 2);
});
afterAll(async () => {
  await database.drop();
});

interface Credential {
  readonly username: string;
  readonly password: string;
}

/** The function's get_alt_username: append `_clone`, or strip it. */
function alternateLogin(username: string): string {
  return username.endsWith(ROTATION_CLONE_SUFFIX)
    ? username.slice(0, -ROTATION_CLONE_SUFFIX.length)
    : `${username}${ROTATION_CLONE_SUFFIX}`;
}

/** False only when PostgreSQL refuses the password (SQLSTATE 28P01); any other failure fails the test. */
async function canLogIn(credential: Credential): Promise<boolean> {
  try {
    await withConnection(database.loginUrl(credential.username, credential.password), (c) => c.query('SELECT 1'));
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '28P01') return false;
    throw error;
  }
}

/**
 * The function's setSecret and testSecret steps, with the master connection: the current credential
 * must log in, the pending login must be the alternate one, and an existing login only gets a new
 * password (the function would otherwise create it as a member of the current login).
 */
async function rotate(current: Credential, pending: Credential): Promise<void> {
  expect(await canLogIn(pending)).toBe(false);
  expect(pending.username).toBe(alternateLogin(current.username));
  expect(await canLogIn(current)).toBe(true);
  await withConnection(database.url, async (master) => {
    const exists = await master.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [pending.username]);
    if (exists.rowCount === 0) throw new Error(`${pending.username} is missing: the migrations must create it`);
    await master.query(
      `ALTER USER ${master.escapeIdentifier(pending.username)} WITH PASSWORD ${master.escapeLiteral(pending.password)}`,
    );
  });
  await withConnection(database.loginUrl(pending.username, pending.password), (c) => c.query('SELECT now()'));
}

/** What one tenant's request sees through a pool of `credential`. */
async function tenantView(credential: Credential, tenantId: string, readOnly: boolean) {
  const pool = poolFor(database.loginUrl(credential.username, credential.password));
  try {
    return await withTenant(
      pool,
      contextFor(tenantId),
      async (client) => ({
        user: (await client.query<{ user: string }>('SELECT current_user AS user')).rows[0].user,
        tenants: (await client.query('SELECT id FROM accessweaver.tenants')).rows,
        users: (await client.query('SELECT tenant_id, email FROM accessweaver.users ORDER BY email')).rows,
        grants: (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM accessweaver.user_roles')).rows[0].n,
        readOnly: (await client.query<{ ro: string }>('SHOW transaction_read_only')).rows[0].ro,
      }),
      { readOnly },
    );
  } finally {
    await pool.end();
  }
}

const PAIRS = [
  [APP_LOGIN, APP_CLONE_LOGIN, TEST_PASSWORDS.app, false],
  [READONLY_LOGIN, READONLY_CLONE_LOGIN, TEST_PASSWORDS.readonly, true],
] as const;

describe('rotation of a login to its clone', () => {
  test.each(PAIRS)(
    'after rotating %s to %s, the previous and the new credential both work and see the same rows',
    async (login, clone, password, readOnly) => {
      const previous = { username: login, password };
      const next = { username: clone, password: `rotated-${randomBytes(12).toString('hex')}` };
      await rotate(previous, next);

      const [before, after] = [
        await tenantView(previous, tenants[1].id, readOnly),
        await tenantView(next, tenants[1].id, readOnly),
      ];
      expect([before.user, after.user]).toEqual([login, clone]);
      expect(after.tenants).toEqual([{ id: tenants[1].id }]);
      expect(after.users.map((user: { tenant_id: string }) => user.tenant_id)).toEqual(
        tenants[1].userIds.map(() => tenants[1].id),
      );
      expect({ ...after, user: login }).toEqual(before);
    },
  );

  test('the read-only clone cannot write, like the read-only login', async () => {
    const clone = { username: READONLY_CLONE_LOGIN, password: `rotated-${randomBytes(12).toString('hex')}` };
    await rotate({ username: READONLY_LOGIN, password: TEST_PASSWORDS.readonly }, clone);
    const pool = poolFor(database.loginUrl(clone.username, clone.password));
    const attempt = withTenant(pool, contextFor(tenants[0].id), (c) =>
      c.query("UPDATE accessweaver.users SET email = 'x@example.com'"),
    );
    await expect(attempt).rejects.toThrow('cannot execute UPDATE in a read-only transaction');
    await pool.end();
  });
});

/** Everything that decides what a login may do, in comparable form. */
async function privilegeProfile(client: Client, role: string) {
  const rows = async (text: string) => (await client.query(text, [role])).rows;
  return {
    attributes: await rows(
      `SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit
         FROM pg_roles WHERE rolname = $1`,
    ),
    memberships: await rows(
      `SELECT g.rolname, m.admin_option FROM pg_auth_members m
         JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
        WHERE r.rolname = $1 ORDER BY 1`,
    ),
    settings: await rows(
      `SELECT s.setdatabase = 0 AS every_database, s.setconfig FROM pg_db_role_setting s
        WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = $1)
          AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
        ORDER BY 1`,
    ),
    schema: await rows(
      `SELECT has_schema_privilege($1, 'accessweaver', 'USAGE') AS usage,
              has_schema_privilege($1, 'accessweaver', 'CREATE') AS create`,
    ),
    tables: await rows(
      `SELECT c.relname, p.privilege, has_table_privilege($1, c.oid, p.privilege) AS granted
         FROM pg_class c CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                                 'REFERENCES', 'TRIGGER']) AS p (privilege)
        WHERE c.relnamespace = 'accessweaver'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
        ORDER BY 1, 2`,
    ),
    functions: await rows(
      `SELECT p.oid::regprocedure::text AS function, has_function_privilege($1, p.oid, 'EXECUTE') AS granted
         FROM pg_proc p WHERE p.pronamespace = 'accessweaver'::regnamespace ORDER BY 1`,
    ),
    policies: await rows(
      `SELECT tablename, policyname FROM pg_policies p
        WHERE schemaname = 'accessweaver'
          AND EXISTS (SELECT FROM unnest(p.roles) AS r (name)
                       WHERE r.name = 'public' OR pg_has_role($1, r.name, 'USAGE'))
        ORDER BY 1, 2`,
    ),
  };
}

describe('clone logins from the migrations', () => {
  test.each(PAIRS)(
    '%s and %s have identical attributes, memberships, settings, privileges and policies',
    async (login, clone) => {
      const [original, copy] = await withConnection(database.url, async (client) => [
        await privilegeProfile(client, login),
        await privilegeProfile(client, clone),
      ]);
      expect(original.memberships.length).toBeGreaterThan(0);
      expect(original.policies.length).toBeGreaterThan(0);
      expect(copy).toEqual(original);
    },
  );

  test(
    'the read-only clone keeps the read-only default and ' + 'the search path (per-role settings are not inherited)',
    async () => {
      const settings = await withConnection(
        database.loginUrl(READONLY_CLONE_LOGIN, await setClonePassword(READONLY_CLONE_LOGIN)),
        async (client) =>
          (await client.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only +
          ' ' +
          (await client.query('SHOW search_path')).rows[0].search_path,
      );
      expect(settings).toBe('on accessweaver, public');
    },
  );

  test('a clone has no password until its first rotation', async () => {
    const passwords = await withConnection(database.url, async (client) =>
      (
        await client.query<{ rolname: string; rolpassword: string | null }>(
          `SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY ($1) AND rolvaliduntil IS NULL ORDER BY 1`,
          [[APP_CLONE_LOGIN, READONLY_CLONE_LOGIN]],
        )
      ).rows.map((row) => row.rolname),
    );
    expect(passwords).toEqual([APP_CLONE_LOGIN, READONLY_CLONE_LOGIN]);
  });
});

async function setClonePassword(login: string): Promise<string> {
  const password = `rotated-${randomBytes(12).toString('hex')}`;
  await withConnection(database.url, (client) =>
    client.query(`ALTER ROLE ${client.escapeIdentifier(login)} PASSWORD ${client.escapeLiteral(password)}`),
  );
  return password;
}
