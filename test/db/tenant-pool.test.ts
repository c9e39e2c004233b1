/**
 * createTenantPool() and withTenant() when the connection drops: an idle connection lost by the pool,
 * a connection lost while withTenant holds it, and a connection lost between COMMIT and its answer.
 */
import type { Pool, PoolClient } from 'pg';
import { isConnectionLoss } from '../../src/db/connection-loss';
import { CommitOutcomeUnknownError, withTenant } from '../../src/db/tenant-context';
import { createTenantPool, poolErrorListener } from '../../src/db/tenant-pool';
import { adminUrl } from '../support/database';
import { startFaultProxy, type FaultProxy } from '../support/tcp-proxy';
import { contextFor, createMigratedDatabase, seedTenants, withConnection, type MigratedDatabase } from './fixtures';

let database: MigratedDatabase;
let tenantId: string;
let pool: Pool;
let logged: string[];

beforeAll(async () => {
  database = await createMigratedDatabase();
  [{ id: tenantId }] = await seedTenants(database.url, 1);
});
afterAll(async () => {
  await database.drop();
});
beforeEach(() => {
  logged = [];
  pool = createTenantPool(database.appUrl, { max: 1, logger: (line) => logged.push(line) });
});
afterEach(async () => {
  await pool.end();
});

async function terminate(pid: number): Promise<void> {
  await withConnection(database.url, (client) => client.query('SELECT pg_terminate_backend($1)', [pid]));
}

const backendPid = async (client: PoolClient) =>
  (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;

/** Resolves once pg has seen the connection of `client` end (its 'error' event, if any, was emitted before). */
const connectionEnded = (client: PoolClient) => new Promise((resolve) => client.once('end', resolve));

async function rolesNamed(name: string): Promise<number> {
  return withConnection(
    database.url,
    async (client) =>
      (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM accessweaver.roles WHERE name = $1', [name]))
        .rows[0].n,
  );
}

describe('createTenantPool()', () => {
  test('an idle connection that drops is reported in one line and replaced on the next checkout', async () => {
    const first = await withTenant(pool, contextFor(tenantId), backendPid);
    const ended = new Promise((resolve) => pool.once('remove', resolve));
    await terminate(first);
    await ended;

    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^database pool: an idle connection was lost and will be replaced \(57P01 [^\n]+\)$/);
    expect(await withTenant(pool, contextFor(tenantId), backendPid)).not.toBe(first);
  });

  test('the listener never throws, even when its logger does', () => {
    const listener = poolErrorListener(() => {
      throw new Error('log sink closed');
    });
    expect(() => listener(new Error('Connection terminated unexpectedly'))).not.toThrow();
  });
});

describe('withTenant() on a connection that drops while it holds it', () => {
  test('between two statements: a loss, not an unknown commit; the next request gets a new connection', async () => {
    let lostPid = 0;
    const attempt = withTenant(pool, contextFor(tenantId), async (client) => {
      lostPid = await backendPid(client);
      const ended = connectionEnded(client);
      await terminate(lostPid);
      await ended;
      return 'unreachable';
    });
    const failure = await attempt.catch((error: unknown) => error);
    expect(isConnectionLoss(failure)).toBe(true);
    expect(failure).not.toBeInstanceOf(CommitOutcomeUnknownError);
    expect(await withTenant(pool, contextFor(tenantId), backendPid)).not.toBe(lostPid);
  });

  test('during a statement: the promise rejects with the loss and nothing of the transaction remains', async () => {
    const attempt = withTenant(pool, contextFor(tenantId), async (client) => {
      await client.query("INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'cut-mid-statement')", [
        tenantId,
      ]);
      const pid = await backendPid(client);
      const sleeping = client.query('SELECT pg_sleep(30)');
      await withConnection(database.url, async (admin) => {
        // Terminate once the sleep is running on the server, so the loss lands inside the statement.
        for (let tries = 0; tries < 200; tries += 1) {
          const { rows } = await admin.query(
            "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'",
            [pid],
          );
          if (rows.length > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      });
      await sleeping;
    });
    const failure = await attempt.catch((error: unknown) => error);
    expect(isConnectionLoss(failure)).toBe(true);
    expect(await rolesNamed('cut-mid-statement')).toBe(0);
  });
});

describe('withTenant() and the outcome of COMMIT', () => {
  let proxy: FaultProxy;
  let proxied: Pool;

  beforeEach(async () => {
    const server = new URL(adminUrl());
    proxy = await startFaultProxy({ host: server.hostname, port: Number(server.port) });
    const url = new URL(database.appUrl);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    proxied = createTenantPool(url.toString(), { max: 1, logger: () => undefined });
  });
  afterEach(async () => {
    await proxied.end();
    await proxy.close();
  });

  const insertRole = (name: string) => (client: PoolClient) =>
    client.query('INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, $2)', [tenantId, name]);

  test('a connection lost after COMMIT was sent is CommitOutcomeUnknownError (and here it did commit)', async () => {
    proxy.cut({ query: /^COMMIT$/, at: 'after-answer' });
    const failure = await withTenant(proxied, contextFor(tenantId), insertRole('committed-unheard')).catch(
      (error: unknown) => error,
    );
    expect(proxy.cuts).toBe(1);
    expect(failure).toBeInstanceOf(CommitOutcomeUnknownError);
    expect(await rolesNamed('committed-unheard')).toBe(1);
  });

  test('a connection lost before COMMIT was sent is a plain loss (and nothing was committed)', async () => {
    proxy.cut({ query: /^INSERT INTO accessweaver\.roles/, at: 'after-answer' });
    const failure = await withTenant(proxied, contextFor(tenantId), insertRole('never-committed')).catch(
      (error: unknown) => error,
    );
    expect(proxy.cuts).toBe(1);
    expect(isConnectionLoss(failure)).toBe(true);
    expect(failure).not.toBeInstanceOf(CommitOutcomeUnknownError);
    expect(await rolesNamed('never-committed')).toBe(0);
  });

  test('a COMMIT the server refuses (a deferred unique constraint) is its error, not an unknown outcome', async () => {
    await withConnection(database.url, (client) =>
      client.query(
        'CREATE TABLE public.commit_check (n int UNIQUE DEFERRABLE INITIALLY DEFERRED); ' +
          'GRANT INSERT ON public.commit_check TO accessweaver_app',
      ),
    );
    const failure = await withTenant(proxied, contextFor(tenantId), (client) =>
      client.query('INSERT INTO public.commit_check VALUES (1), (1)'),
    ).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: '23505' });
    expect(failure).not.toBeInstanceOf(CommitOutcomeUnknownError);
  });
});
