/**
 * The shipped PgBouncer configuration (config/pgbouncer/pgbouncer.ini) in front of a migrated database, with one
 * server connection so consecutive clients share it: a pool made as documented runs tenant transactions through
 * it, and what one client leaves on the server connection is gone for the next.
 */
import type { Pool } from 'pg';
import { APP_LOGIN, READONLY_LOGIN } from '../../src/config/environments';
import { withTenant } from '../../src/db/tenant-context';
import { describeWithTool } from '../support/skip';
import { pgbouncerUnavailableReason, startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import {
  contextFor,
  createMigratedDatabase,
  LOGIN_NAMES,
  LOGINS,
  poolFor,
  seedTenants,
  TEST_PASSWORDS,
  withConnection,
  type Login,
  type MigratedDatabase,
  type TenantFixture,
} from './fixtures';

let database: MigratedDatabase;
let tenants: TenantFixture[];

async function startBouncer(settings: Record<string, string> = {}): Promise<PgBouncer> {
  return startPgBouncer({
    serverUrl: database.url,
    logins: { [APP_LOGIN]: TEST_PASSWORDS.app, [READONLY_LOGIN]: TEST_PASSWORDS.readonly },
    poolSize: 1,
    settings,
  });
}

function bouncerUrl(bouncer: PgBouncer, login: Login): string {
  return bouncer.url(LOGIN_NAMES[login], TEST_PASSWORDS[login]);
}

describeWithTool('through PgBouncer with the shipped configuration', pgbouncerUnavailableReason(), () => {
  let bouncer: PgBouncer;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    tenants = await seedTenants(database.url, 2);
    bouncer = await startBouncer();
  });
  afterAll(async () => {
    await bouncer?.stop();
    await database?.drop();
  });

  describe.each(LOGINS)('as the %s login', (login) => {
    test('a pool made as documented runs a tenant transaction and sees its tenant only', async () => {
      const pool: Pool = poolFor(bouncerUrl(bouncer, login), 2);
      try {
        const tenantIds = await withTenant(pool, contextFor(tenants[1].id), async (client) =>
          (await client.query<{ tenant_id: string }>('SELECT tenant_id FROM accessweaver.users')).rows.map(
            (row) => row.tenant_id,
          ),
        );
        expect(tenantIds).toEqual(tenants[1].userIds.map(() => tenants[1].id));
      } finally {
        await pool.end();
      }
    });

    test('session state one client leaves on the server connection is gone for the next client', async () => {
      const url = bouncerUrl(bouncer, login);
      const left = await withConnection(url, async (client) => {
        await client.query("SELECT set_config('accessweaver.tenant_context', $1, false)", [contextFor(tenants[0].id)]);
        await client.query('SET row_security = off');
        await client.query('PREPARE "list-users" AS SELECT \'replaced\'');
        return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      });
      const next = await withConnection(url, async (client) => {
        const { rows } = await client.query<{ pid: number; context: string | null; rls: string; prepared: number }>(
          `SELECT pg_backend_pid() AS pid, current_setting('accessweaver.tenant_context', true) AS context,
                  current_setting('row_security') AS rls,
                  (SELECT count(*)::int FROM pg_prepared_statements) AS prepared`,
        );
        return rows[0];
      });
      expect(next.pid).toBe(left); // one server connection: the next client got the same one
      expect({ context: next.context || null, rls: next.rls, prepared: next.prepared }).toEqual({
        context: null,
        rls: 'on',
        prepared: 0,
      });
    });

    test('a context one client left at session level selects nothing in the next transaction', async () => {
      const url = bouncerUrl(bouncer, login);
      await withConnection(url, (client) =>
        client.query("SELECT set_config('accessweaver.tenant_context', $1, false)", [contextFor(tenants[0].id)]),
      );
      const visible = await withConnection(url, async (client) => {
        await client.query('BEGIN');
        const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM accessweaver.users');
        await client.query('COMMIT');
        return rows[0].n;
      });
      expect(visible).toBe(0);
    });
  });

  test('with row_security stored off for the login, a tenant transaction fails instead of returning rows', async () => {
    const scoped = `ALTER ROLE ${APP_LOGIN} IN DATABASE ${database.name}`;
    await withConnection(database.url, (client) => client.query(`${scoped} SET row_security = off`));
    // A PgBouncer of its own, so its server connection starts after the setting was stored.
    const own = await startBouncer();
    const pool = poolFor(bouncerUrl(own, 'app'));
    try {
      const seen: number[] = [];
      const attempt = withTenant(pool, contextFor(tenants[0].id), async (client) => {
        seen.push((await client.query('SELECT tenant_id FROM accessweaver.users')).rows.length);
      });
      await expect(attempt).rejects.toMatchObject({ code: expect.any(String) });
      expect(seen).toEqual([]);
    } finally {
      await pool.end();
      await own.stop();
      await withConnection(database.url, (client) => client.query(`${scoped} RESET row_security`));
    }
  });
});
