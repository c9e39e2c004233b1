/**
 * Tenant isolation for both logins, table by table and statement by statement, with three tenants.
 * Each check runs in a transaction that is rolled back, so every test sees the same data.
 */
import { Client, DatabaseError } from 'pg';
import {
  contextFor,
  createMigratedDatabase,
  LOGINS,
  seedTenants,
  withConnection,
  type Login,
  type MigratedDatabase,
  type TenantFixture,
} from './fixtures';

const TENANT_TABLES = ['users', 'roles', 'user_roles'] as const;
type TenantTable = (typeof TENANT_TABLES)[number];

let database: MigratedDatabase;
let tenants: TenantFixture[];
/** A role of each tenant that nobody holds yet, so a grant of it is not a duplicate. */
const ungrantedRoles = new Map<string, string>();

beforeAll(async () => {
  database = await createMigratedDatabase();
  tenants = await seedTenants(database.url, 3);
  await withConnection(database.url, async (client) => {
    for (const tenant of tenants) {
      const { rows } = await client.query<{ id: string }>(
        "INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'ungranted') RETURNING id",
        [tenant.id],
      );
      ungrantedRoles.set(tenant.id, rows[0].id);
    }
  });
});
afterAll(async () => {
  await database.drop();
});

const own = () => tenants[0];
const other = () => tenants[1];

/** Runs `work` as `login` in a READ WRITE transaction scoped to `tenantId`, then rolls it back. */
async function asTenant<T>(login: Login, tenantId: string, work: (client: Client) => Promise<T>): Promise<T> {
  const url = database.urlOf(login);
  return withConnection(url, async (client) => {
    // READ WRITE overrides the read-only login's default, so privileges are what refuse its writes.
    await client.query('BEGIN READ WRITE');
    try {
      await client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(tenantId)]);
      return await work(client);
    } finally {
      await client.query('ROLLBACK');
    }
  });
}

async function sqlState(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
  } catch (error) {
    if (error instanceof DatabaseError && error.code) return error.code;
    throw error;
  }
  throw new Error('the statement succeeded');
}

const INSUFFICIENT_PRIVILEGE = '42501'; // also raised for a row that fails a policy's WITH CHECK
const FOREIGN_KEY_VIOLATION = '23503';

async function rowCount(table: TenantTable, tenantId: string): Promise<number> {
  return withConnection(database.url, async (client) => {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM accessweaver.${table} WHERE tenant_id = $1`,
      [tenantId],
    );
    return rows[0].n;
  });
}

/** An INSERT of a fresh row belonging to `tenant`. */
function insertFor(table: TenantTable, tenant: TenantFixture): { text: string; values: unknown[] } {
  switch (table) {
    case 'users':
      return {
        text: 'INSERT INTO accessweaver.users (tenant_id, email) VALUES ($1, $2)',
        values: [tenant.id, 'new@example.com'],
      };
    case 'roles':
      return { text: "INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'new-role')", values: [tenant.id] };
    case 'user_roles':
      return {
        text: 'INSERT INTO accessweaver.user_roles (tenant_id, user_id, role_id) VALUES ($1, $2, $3)',
        values: [tenant.id, tenant.userIds[0], ungrantedRoles.get(tenant.id)],
      };
  }
}

describe.each(LOGINS)('%s login', (login) => {
  describe.each(TENANT_TABLES)('%s', (table) => {
    test('SELECT returns exactly the rows of the current tenant', async () => {
      const expected = await rowCount(table, own().id);
      const seen = await asTenant(login, own().id, async (client) => {
        const { rows } = await client.query<{ tenant_id: string }>(`SELECT tenant_id FROM accessweaver.${table}`);
        return rows.map((row) => row.tenant_id);
      });
      expect(seen.length).toBe(expected);
      expect(new Set(seen)).toEqual(new Set([own().id]));
    });

    test('INSERT of a row of another tenant is refused', async () => {
      const insert = insertFor(table, other());
      const state = await asTenant(login, own().id, (client) => sqlState(client.query(insert.text, insert.values)));
      expect(state).toBe(INSUFFICIENT_PRIVILEGE);
    });

    test("UPDATE cannot reach another tenant's rows", async () => {
      const outcome = await asTenant(login, own().id, async (client) => {
        try {
          const result = await client.query(
            `UPDATE accessweaver.${table} SET metadata = '{"touched": true}' WHERE tenant_id = $1`,
            [other().id],
          );
          return result.rowCount;
        } catch (error) {
          if (error instanceof DatabaseError) return error.code;
          throw error;
        }
      });
      // The application updates nothing there; the read-only login may not update at all.
      expect(outcome).toBe(login === 'app' ? 0 : INSUFFICIENT_PRIVILEGE);
    });

    test("DELETE cannot reach another tenant's rows", async () => {
      const outcome = await asTenant(login, own().id, async (client) => {
        try {
          return (await client.query(`DELETE FROM accessweaver.${table} WHERE tenant_id = $1`, [other().id])).rowCount;
        } catch (error) {
          if (error instanceof DatabaseError) return error.code;
          throw error;
        }
      });
      expect(outcome).toBe(login === 'app' ? 0 : INSUFFICIENT_PRIVILEGE);
    });
  });

  test('the tenants table shows only the current tenant', async () => {
    const seen = await asTenant(login, own().id, async (client) => {
      const { rows } = await client.query<{ id: string }>('SELECT id FROM accessweaver.tenants');
      return rows.map((row) => row.id);
    });
    expect(seen).toEqual([own().id]);
  });

  test.each([
    ['INSERT', "INSERT INTO accessweaver.tenants (name, subdomain) VALUES ('Intruder', 'intruder')", []],
    ['UPDATE', "UPDATE accessweaver.tenants SET name = 'Renamed' WHERE id = $1", ['other']],
    ['DELETE', 'DELETE FROM accessweaver.tenants WHERE id = $1', ['other']],
    ['UPDATE of its own tenant', "UPDATE accessweaver.tenants SET plan = 'enterprise' WHERE id = $1", ['own']],
  ])('%s on tenants is refused', async (_label, text, parameters) => {
    const values = parameters.map((which) => (which === 'own' ? own().id : other().id));
    const state = await asTenant(login, own().id, (client) => sqlState(client.query(text, values)));
    expect(state).toBe(INSUFFICIENT_PRIVILEGE);
  });
});

describe('app login writes', () => {
  test.each(TENANT_TABLES)('INSERT into %s within its own tenant succeeds', async (table) => {
    const insert = insertFor(table, own());
    const inserted = await asTenant(
      'app',
      own().id,
      async (client) => (await client.query(insert.text, insert.values)).rowCount,
    );
    expect(inserted).toBe(1);
  });

  test.each(TENANT_TABLES)('an unfiltered UPDATE of %s touches only its own tenant', async (table) => {
    const expected = await rowCount(table, own().id);
    const updated = await asTenant(
      'app',
      own().id,
      async (client) =>
        (await client.query(`UPDATE accessweaver.${table} SET metadata = '{"touched": true}'`)).rowCount,
    );
    expect(updated).toBe(expected);
  });

  test.each(TENANT_TABLES)('an unfiltered DELETE of %s touches only its own tenant', async (table) => {
    const expected = await rowCount(table, own().id);
    const deleted = await asTenant(
      'app',
      own().id,
      async (client) => (await client.query(`DELETE FROM accessweaver.${table}`)).rowCount,
    );
    expect(deleted).toBe(expected);
  });

  test.each(TENANT_TABLES)('moving a row of %s to another tenant is refused', async (table) => {
    const state = await asTenant('app', own().id, (client) =>
      sqlState(client.query(`UPDATE accessweaver.${table} SET tenant_id = $1`, [other().id])),
    );
    expect(state).toBe(INSUFFICIENT_PRIVILEGE);
  });
});

describe("grants cannot point at another tenant's rows", () => {
  // Without a tenant of its own, user_roles would let a tenant grant its user another tenant's role.
  test("a grant of another tenant's role is refused", async () => {
    const state = await asTenant('app', own().id, (client) =>
      sqlState(
        client.query('INSERT INTO accessweaver.user_roles (tenant_id, user_id, role_id) VALUES ($1, $2, $3)', [
          own().id,
          own().userIds[0],
          ungrantedRoles.get(other().id),
        ]),
      ),
    );
    expect(state).toBe(FOREIGN_KEY_VIOLATION);
  });

  test("a grant to another tenant's user is refused", async () => {
    const state = await asTenant('app', own().id, (client) =>
      sqlState(
        client.query('INSERT INTO accessweaver.user_roles (tenant_id, user_id, role_id) VALUES ($1, $2, $3)', [
          own().id,
          other().userIds[0],
          ungrantedRoles.get(own().id),
        ]),
      ),
    );
    expect(state).toBe(FOREIGN_KEY_VIOLATION);
  });

  test("a grant recorded as given by another tenant's user is refused", async () => {
    const state = await asTenant('app', own().id, (client) =>
      sqlState(
        client.query(
          'INSERT INTO accessweaver.user_roles (tenant_id, user_id, role_id, granted_by) VALUES ($1, $2, $3, $4)',
          [own().id, own().userIds[0], ungrantedRoles.get(own().id), other().userIds[0]],
        ),
      ),
    );
    expect(state).toBe(FOREIGN_KEY_VIOLATION);
  });

  test("repointing an existing grant at another tenant's role is refused", async () => {
    const state = await asTenant('app', own().id, (client) =>
      sqlState(
        client.query('UPDATE accessweaver.user_roles SET role_id = $1 WHERE user_id = $2 AND role_id = $3', [
          ungrantedRoles.get(other().id),
          own().userIds[0],
          own().roleIds[0],
        ]),
      ),
    );
    expect(state).toBe(FOREIGN_KEY_VIOLATION);
  });
});

test('the read-only login runs read-only transactions by default', async () => {
  const state = await withConnection(database.readonlyUrl, async (client) => {
    await client.query('BEGIN');
    await client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(own().id)]);
    try {
      return await sqlState(client.query("UPDATE accessweaver.users SET metadata = '{}'"));
    } finally {
      await client.query('ROLLBACK');
    }
  });
  expect(state).toBe('25006'); // read_only_sql_transaction
});
