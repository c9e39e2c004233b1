/**
 * The tenant context on pooled connections (a session-level SET leaks to the next
 * request) and current_tenant_id() on missing, empty or malformed tenants.
 */
import type { Pool, PoolClient } from 'pg';
import { InvalidTenantIdError, withTenant } from '../../src/db/tenant-context';
import {
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
      tenants[0].id,
      async (client) =>
        (await client.query<{ id: string }>('SELECT accessweaver.current_tenant_id() AS id')).rows[0].id,
    );
    expect(tenant).toBe(tenants[0].id);
  });

  test('leaves no tenant on the pooled connection for the next request', async () => {
    const pid = await withTenant(pool, tenants[0].id, backendPidOf);
    const next = await nextRequestView();
    expect(next).toEqual({ backendPid: pid, tenant: null, visibleUsers: 0 });
  });

  test('leaves no tenant on the pooled connection when the work fails', async () => {
    const failure = withTenant(pool, tenants[0].id, async () => {
      throw new Error('request failed');
    });
    await expect(failure).rejects.toThrow('request failed');
    expect(await nextRequestView()).toMatchObject({ tenant: null, visibleUsers: 0 });
  });

  test('commits the work', async () => {
    await withTenant(pool, tenants[0].id, (client) =>
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
    const attempt = withTenant(pool, tenants[0].id, async (client) => {
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
    const attempt = withTenant(pool, tenants[0].id, async (client) => {
      await client.query('SELECT 1 / 0').catch(() => undefined);
    });
    await expect(attempt).rejects.toThrow(/rolled back/);
  });

  test('refuses a malformed tenant id before using a connection', async () => {
    const work = jest.fn(async () => undefined);
    await expect(withTenant(pool, "' OR true --", work)).rejects.toBeInstanceOf(InvalidTenantIdError);
    expect(work).not.toHaveBeenCalled();
  });

  test('readOnly refuses writes', async () => {
    const attempt = withTenant(
      pool,
      tenants[0].id,
      (client) => client.query("INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'nope')", [tenants[0].id]),
      { readOnly: true },
    );
    await expect(attempt).rejects.toThrow(/read-only transaction/);
  });
});

// Why withTenant exists: a filter running `SET app.current_tenant_id = ?` (session level) leaves
// the tenant on the connection after it goes back to the pool.
test('a session-level SET leaks to the next request on the connection', async () => {
  const client = await pool.connect();
  const pid = await backendPidOf(client);
  await client.query(`SET app.current_tenant_id = '${tenants[0].id}'`);
  client.release();

  const next = await nextRequestView();
  expect(next.backendPid).toBe(pid);
  expect(next.tenant).toBe(tenants[0].id);
});

describe('current_tenant_id() and the policies on a bad or missing tenant', () => {
  async function visibleUsers(tenantSetting: string | undefined): Promise<number> {
    return withConnection(database.appUrl, async (client) => {
      await client.query('BEGIN');
      try {
        if (tenantSetting !== undefined) {
          await client.query("SELECT set_config('app.current_tenant_id', $1, true)", [tenantSetting]);
        }
        return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM accessweaver.users')).rows[0].n;
      } finally {
        await client.query('ROLLBACK');
      }
    });
  }

  test('no tenant ever set on the session means zero rows', async () => {
    expect(await visibleUsers(undefined)).toBe(0);
  });

  test.each([
    ['empty', ''],
    ['malformed', 'not-a-uuid'],
    ['SQL text', "' OR true --"],
    ['braced UUID', `{${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}}`],
    ['UUID without dashes', 'a0eebc999c0b4ef8bb6d6bb9bd380a11'],
    ['unknown tenant', '00000000-0000-0000-0000-000000000000'],
  ])('a tenant setting that is %s means zero rows, without an error', async (_label, value) => {
    expect(await visibleUsers(value)).toBe(0);
  });

  test('an upper-case tenant id is the same tenant', async () => {
    expect(await visibleUsers(tenants[0].id.toUpperCase())).toBe(tenants[0].userIds.length);
  });

  // After a transaction-local setting ends, PostgreSQL reports the placeholder as '' on that
  // session; a ''::uuid cast would then fail every later query on the connection.
  test('after a transaction-local tenant has ended, queries see zero rows rather than fail', async () => {
    const count = await withConnection(database.appUrl, async (client) => {
      await client.query('BEGIN');
      await client.query("SELECT set_config('app.current_tenant_id', $1, true)", [tenants[0].id]);
      await client.query('COMMIT');
      return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM accessweaver.users')).rows[0].n;
    });
    expect(count).toBe(0);
  });
});
