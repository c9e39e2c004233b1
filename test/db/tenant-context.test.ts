/**
 * withTenant() and the signed context on pooled connections (a session-level setting leaks to the
 * next request), and current_tenant_id() when there is no context or a bad one.
 */
import { DatabaseError, type Pool, type PoolClient } from 'pg';
import { InvalidTenantContextError, withTenant } from '../../src/db/tenant-context';
import {
  contextFor,
  createMigratedDatabase,
  poolFor,
  seedTenants,
  withConnection,
  type MigratedDatabase,
  type TenantFixture,
} from './fixtures';

let database: MigratedDatabase;
let tenants: TenantFixture[];
let pool: Pool;

beforeAll(async () => {
  database = await createMigratedDatabase();
  tenants = await seedTenants(database.url, 2);
});
afterAll(async () => {
  await database.drop();
});
beforeEach(() => {
  // One connection, so consecutive requests are guaranteed to share it, as in a busy pool.
  pool = poolFor(database.appUrl, 1);
});
afterEach(async () => {
  await pool.end();
});

interface ConnectionView {
  readonly backendPid: number;
  readonly tenant: string | null;
  readonly visibleUsers: number;
}

/** What a request that sets no tenant sees on the pooled connection. */
async function nextRequestView(): Promise<ConnectionView> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ pid: number; tenant: string | null; users: number }>(
      `SELECT pg_backend_pid() AS pid, accessweaver.current_tenant_id() AS tenant,
              (SELECT count(*)::int FROM accessweaver.users) AS users`,
    );
    return { backendPid: rows[0].pid, tenant: rows[0].tenant, visibleUsers: rows[0].users };
  } finally {
    client.release();
  }
}

async function backendPidOf(client: PoolClient): Promise<number> {
  return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
}

describe('withTenant()', () => {
  test('runs the work with the tenant set', async () => {
    const tenant = await withTenant(
      pool,
      contextFor(tenants[0].id),
      async (client) =>
        (await client.query<{ id: string }>('SELECT accessweaver.current_tenant_id() AS id')).rows[0].id,
    );
    expect(tenant).toBe(tenants[0].id);
  });

  test('leaves no tenant on the pooled connection for the next request', async () => {
    const pid = await withTenant(pool, contextFor(tenants[0].id), backendPidOf);
    const next = await nextRequestView();
    expect(next).toEqual({ backendPid: pid, tenant: null, visibleUsers: 0 });
  });

  test('leaves no tenant on the pooled connection when the work fails', async () => {
    const failure = withTenant(pool, contextFor(tenants[0].id), async () => {
      throw new Error('request failed');
    });
    await expect(failure).rejects.toThrow('request failed');
    expect(await nextRequestView()).toMatchObject({ tenant: null, visibleUsers: 0 });
  });

  test('commits the work', async () => {
    await withTenant(pool, contextFor(tenants[0].id), (client) =>
      client.query("INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'committed')", [tenants[0].id]),
    );
    const names = await withConnection(
      database.url,
      async (client) =>
        (await client.query<{ name: string }>("SELECT name FROM accessweaver.roles WHERE name = 'committed'")).rows,
    );
    expect(names).toEqual([{ name: 'committed' }]);
  });

  test('rolls back the work when it throws', async () => {
    const attempt = withTenant(pool, contextFor(tenants[0].id), async (client) => {
      await client.query("INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'rolled-back')", [
        tenants[0].id,
      ]);
      throw new Error('request failed');
    });
    await expect(attempt).rejects.toThrow('request failed');
    const count = await withConnection(
      database.url,
      async (client) =>
        (
          await client.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM accessweaver.roles WHERE name = 'rolled-back'",
          )
        ).rows[0].n,
    );
    expect(count).toBe(0);
  });

  test('reports a transaction whose failed statement the work swallowed', async () => {
    const attempt = withTenant(pool, contextFor(tenants[0].id), async (client) => {
      await client.query('SELECT 1 / 0').catch(() => undefined);
    });
    await expect(attempt).rejects.toThrow(/rolled back/);
  });

  test('refuses a malformed context before using a connection', async () => {
    const work = jest.fn(async () => undefined);
    const connect = jest.spyOn(pool, 'connect');
    await expect(withTenant(pool, "' OR true --", work)).rejects.toBeInstanceOf(InvalidTenantContextError);
    await expect(withTenant(pool, tenants[0].id, work)).rejects.toBeInstanceOf(InvalidTenantContextError);
    expect(work).not.toHaveBeenCalled();
    expect(connect).not.toHaveBeenCalled();
  });

  test('a context the database refuses fails with SQLSTATE 28000 naming the reason, before the work', async () => {
    const work = jest.fn(async () => undefined);
    const expired = contextFor(tenants[0].id, { ttlSeconds: 0.001 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const failure = await withTenant(pool, expired, work).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseError);
    expect(failure).toMatchObject({ code: '28000', message: 'tenant context refused: expired' });
    expect(work).not.toHaveBeenCalled();
    expect(await nextRequestView()).toMatchObject({ tenant: null, visibleUsers: 0 });
  });

  test('readOnly refuses writes', async () => {
    const attempt = withTenant(
      pool,
      contextFor(tenants[0].id),
      (client) => client.query("INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'nope')", [tenants[0].id]),
      { readOnly: true },
    );
    await expect(attempt).rejects.toThrow(/read-only transaction/);
  });
});

// A login may store row_security = off for itself, and a pool for tenant work sends no startup options that
// would override it (PgBouncer refuses them): with row-level security off, the NOBYPASSRLS login's query fails
// rather than returning rows (the database may also refuse the context itself on such a session).
test('with row_security stored off for the login, a tenant transaction fails instead of returning rows', async () => {
  const scoped = `ALTER ROLE accessweaver_app IN DATABASE ${database.name}`;
  await withConnection(database.url, (client) => client.query(`${scoped} SET row_security = off`));
  try {
    const seen: number[] = [];
    const attempt = withTenant(pool, contextFor(tenants[0].id), async (client) => {
      const { rows } = await client.query<{ tenant_id: string }>('SELECT tenant_id FROM accessweaver.users');
      seen.push(rows.length);
    });
    await expect(attempt).rejects.toMatchObject({ code: expect.any(String) });
    expect(seen).toEqual([]);
  } finally {
    await withConnection(database.url, (client) => client.query(`${scoped} RESET row_security`));
  }
});

describe('current_tenant_id() and the policies without a valid context', () => {
  /** Users seen with `context` written into the setting, after set_tenant_context applied tenant 1's when `applied`. */
  async function visibleUsers(context: string | undefined, { applied = false } = {}): Promise<number> {
    return withConnection(database.appUrl, async (client) => {
      await client.query('BEGIN');
      try {
        if (applied) await client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(tenants[1].id)]);
        if (context !== undefined) {
          await client.query("SELECT set_config('accessweaver.tenant_context', $1, true)", [context]);
        }
        return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM accessweaver.users')).rows[0].n;
      } finally {
        await client.query('ROLLBACK');
      }
    });
  }

  test('no context ever set on the session means zero rows', async () => {
    expect(await visibleUsers(undefined)).toBe(0);
  });

  test('a valid context stored in the setting, in a transaction that applied none, selects nothing', async () => {
    expect(await visibleUsers(contextFor(tenants[0].id))).toBe(0);
  });

  test('a valid context stored directly after set_tenant_context applied another selects its tenant', async () => {
    expect(await visibleUsers(contextFor(tenants[0].id), { applied: true })).toBe(tenants[0].userIds.length);
  });

  test.each([
    ['empty', ''],
    ['a bare tenant id', '00000000-0000-0000-0000-000000000000'],
    ['SQL text', "' OR true --"],
    ['a context with upper-case hex', () => contextFor(tenants[0].id).toUpperCase()],
    ['a context with a trailing newline', () => `${contextFor(tenants[0].id)}\n`],
  ])('a context that is %s means zero rows, without an error', async (_label, value) => {
    expect(await visibleUsers(typeof value === 'function' ? value() : value, { applied: true })).toBe(0);
  });

  // After a transaction-local setting ends, PostgreSQL reports the placeholder as '' on that
  // session; a ''::uuid cast would then fail every later query on the connection.
  test('after a transaction-local context has ended, queries see zero rows rather than fail', async () => {
    const count = await withConnection(database.appUrl, async (client) => {
      await client.query('BEGIN');
      await client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(tenants[0].id)]);
      await client.query('COMMIT');
      return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM accessweaver.users')).rows[0].n;
    });
    expect(count).toBe(0);
  });
});
