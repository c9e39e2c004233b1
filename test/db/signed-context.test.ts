/**
 * The signed tenant context against a login that runs attacker SQL, as both logins: the two attacks
 * that chose another tenant before (an injected set_config; tenant ids read from planner estimates),
 * forged and altered contexts, and every way to reach the key or mint a context.
 */
import { Client, DatabaseError } from 'pg';
import { signTenantContext } from '../../src/db/tenant-context';
import { installTenantContextKey } from '../../src/db/tenant-context-keys';
import {
  contextFor,
  createMigratedDatabase,
  LOGINS,
  seedTenants,
  TEST_CONTEXT_KEY,
  withConnection,
  type Login,
  type MigratedDatabase,
  type TenantFixture,
} from './fixtures';

let database: MigratedDatabase;
let tenants: TenantFixture[];
const own = () => tenants[0];
const other = () => tenants[1];

beforeAll(async () => {
  database = await createMigratedDatabase();
  tenants = await seedTenants(database.url, 3);
});
afterAll(async () => {
  await database.drop();
});

const urlOf = (login: Login) => database.urlOf(login);

/** Runs `work` as `login` in a READ WRITE transaction (rolled back), with `context` applied when given. */
async function inTransaction<T>(login: Login, context: string | undefined, work: (c: Client) => Promise<T>) {
  return withConnection(urlOf(login), async (client) => {
    await client.query('BEGIN READ WRITE');
    try {
      if (context !== undefined) await client.query('SELECT accessweaver.set_tenant_context($1)', [context]);
      return await work(client);
    } finally {
      await client.query('ROLLBACK');
    }
  });
}

async function failure(statement: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await statement;
  } catch (error) {
    if (error instanceof DatabaseError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('the statement succeeded');
}

/** The failure of one statement in a savepoint, so the transaction goes on afterwards. */
async function failureWithin(client: Client, text: string, values: unknown[]) {
  await client.query('SAVEPOINT attempt');
  const outcome = await failure(client.query(text, values));
  await client.query('ROLLBACK TO SAVEPOINT attempt');
  return outcome;
}

/** Tenant ids of the users the client can see, and how many of them belong to `tenantId`. */
async function usersOf(client: Client, tenantId: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM accessweaver.users WHERE tenant_id = $1',
    [tenantId],
  );
  return rows[0].n;
}

async function visibleTenants(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ tenant_id: string }>(
    'SELECT DISTINCT tenant_id FROM accessweaver.users ORDER BY 1',
  );
  return rows.map((row) => row.tenant_id);
}

const INJECTED = (tenantId: string) =>
  `SELECT (SELECT count(*)::int FROM accessweaver.users WHERE tenant_id = '${tenantId}') AS n
     FROM (SELECT set_config('app.current_tenant_id', '${tenantId}', true)) s`;

describe.each(LOGINS)('attack 1, the injected set_config, as the %s login', (login) => {
  test('without a context, it selects nothing', async () => {
    const { rows } = await inTransaction(login, undefined, (c) => c.query<{ n: number }>(INJECTED(other().id)));
    expect(rows[0].n).toBe(0);
  });

  test("inside a transaction holding tenant A's context, it reads nothing of B and the rest stays A", async () => {
    const outcome = await inTransaction(login, contextFor(own().id), async (client) => {
      const injected = (await client.query<{ n: number }>(INJECTED(other().id))).rows[0].n;
      return { injected, after: await visibleTenants(client), ownUsers: await usersOf(client, own().id) };
    });
    expect(outcome).toEqual({ injected: 0, after: [own().id], ownUsers: own().userIds.length });
  });

  test.each(['app.current_tenant_id', 'app.tenant_id', 'app.tenant', 'app.user_id'])(
    'setting %s to another tenant selects nothing',
    async (setting) => {
      const seen = await inTransaction(login, undefined, async (client) => {
        await client.query('SELECT set_config($1, $2, true)', [setting, other().id]);
        return visibleTenants(client);
      });
      expect(seen).toEqual([]);
    },
  );
});

test('the injected set_config cannot make the app login write as another tenant', async () => {
  const outcome = await inTransaction('app', contextFor(own().id), async (client) => {
    await client.query(INJECTED(other().id));
    return failure(
      client.query("INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'planted')", [other().id]),
    );
  });
  expect(outcome.code).toBe('42501');
});

/**
 * Tenant ids are not secret: with SELECT on a table a login reads the planner's statistics, so the
 * row estimate of `tenant_id <= probe` steps at every tenant id in them (the same values pg_stats
 * lists). Recovering them by binary search still works; what it no longer buys is access.
 */
describe('attack 2, tenant ids from planner estimates', () => {
  let recovered: string[];

  beforeAll(async () => {
    await withConnection(database.url, async (client) => {
      await client.query(
        `INSERT INTO accessweaver.users (tenant_id, email)
         SELECT t.id, 'bulk' || n || '@example.com' FROM unnest($1::uuid[]) t (id), generate_series(1, 500) n`,
        [tenants.map((tenant) => tenant.id)],
      );
      await client.query('ANALYZE accessweaver.users');
    });
    recovered = await withConnection(database.readonlyUrl, probeTenantIds);
  });

  test.each(LOGINS)('still recovers every tenant id, as the %s login with no context', async (login) => {
    const found = login === 'readonly' ? recovered : await withConnection(urlOf(login), probeTenantIds);
    expect([...found].sort()).toEqual(tenants.map((tenant) => tenant.id).sort());
  });

  test.each(LOGINS)('knowing the ids gives the %s login nothing', async (login) => {
    for (const tenantId of recovered.filter((id) => id !== own().id)) {
      const seen = await inTransaction(login, contextFor(own().id), async (client) => {
        await client.query("SELECT set_config('app.current_tenant_id', $1, true)", [tenantId]);
        // A context naming the recovered tenant, signed with a guess of the key.
        const guessed = signTenantContext({ tenantId, ttlSeconds: 60, keyVersion: 1, key: Buffer.alloc(32, 7) });
        const refused = await failureWithin(client, 'SELECT accessweaver.set_tenant_context($1)', [guessed]);
        return { refused: refused.message, rows: await usersOf(client, tenantId) };
      });
      expect(seen).toEqual({ refused: 'tenant context refused: bad signature', rows: 0 });
    }
  });
});

async function estimatedRows(client: Client, probe: bigint): Promise<number> {
  const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
    `EXPLAIN (FORMAT JSON) SELECT * FROM accessweaver.users WHERE tenant_id <= '${uuidOf(probe)}'`,
  );
  return rows[0]['QUERY PLAN'][0].Plan['Plan Rows'];
}

function uuidOf(value: bigint): string {
  const hex = value.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Every value at which the estimate steps up: the smallest probe whose estimate exceeds the last level. */
async function probeTenantIds(client: Client): Promise<string[]> {
  const top = (1n << 128n) - 1n;
  const found: string[] = [];
  let from = 0n;
  while (from < top) {
    const level = await estimatedRows(client, from);
    if ((await estimatedRows(client, top)) <= level) break;
    let [low, high] = [from, top];
    while (low < high) {
      const middle = (low + high) / 2n;
      if ((await estimatedRows(client, middle)) > level) high = middle;
      else low = middle + 1n;
    }
    found.push(uuidOf(low));
    from = low;
  }
  return found;
}

/** Replaces the tenant field of a context, keeping its signature. */
function withTenantField(context: string, tenantId: string): string {
  const fields = context.split('.');
  fields[2] = tenantId;
  return fields.join('.');
}

const HOUR = 3600;
const badContexts: ReadonlyArray<readonly [string, () => string, string]> = [
  ['forged with another key', () => signTenantContext({ ...claims(), key: Buffer.alloc(32, 1) }), 'bad signature'],
  ['re-pointed at another tenant', () => withTenantField(contextFor(own().id), other().id), 'bad signature'],
  [
    'given a later expiry',
    () => contextFor(own().id).replace(/\.(\d+)\.([0-9a-f]{64})$/, (_m, exp, sig) => `.${Number(exp) + HOUR}.${sig}`),
    'bad signature',
  ],
  ['given an acting user', () => contextFor(own().id).replace('..', `.${own().userIds[0]}.`), 'bad signature'],
  [
    'with one signature digit changed',
    () => contextFor(own().id).replace(/.$/, (c) => (c === '0' ? '1' : '0')),
    'bad signature',
  ],
  // Same claims and signature: a verifier that took the last 64 characters as the signature would accept it, and
  // then fail casting "<expiry>x<signature>" (an error instead of no rows).
  [
    'with the dot before its signature replaced',
    () => contextFor(own().id).replace(/\.([0-9a-f]{64})$/, 'x$1'),
    'malformed',
  ],
  ['truncated by one character', () => contextFor(own().id).slice(0, -1), 'malformed'],
  ['truncated to its claims', () => contextFor(own().id).slice(0, -65), 'malformed'],
  ['a bare tenant id', () => own().id, 'malformed'],
  [
    'expired',
    () => signTenantContext({ ...claims(), ttlSeconds: undefined, expiresAt: new Date(Date.now() - 1000) }),
    'expired',
  ],
  [
    'signed with an unknown key version',
    () => signTenantContext({ ...claims(), keyVersion: 7 }),
    'unknown key version',
  ],
];

function claims() {
  return { tenantId: own().id, ttlSeconds: 300, keyVersion: TEST_CONTEXT_KEY.version, key: TEST_CONTEXT_KEY.key };
}

describe.each(LOGINS)('a bad context, as the %s login', (login) => {
  test.each(badContexts)('%s: set_tenant_context refuses it, naming the reason', async (_label, make, reason) => {
    const outcome = await inTransaction(login, undefined, (client) =>
      failure(client.query('SELECT accessweaver.set_tenant_context($1)', [make()])),
    );
    expect(outcome).toEqual({ code: '28000', message: `tenant context refused: ${reason}` });
  });

  // Over a genuine context applied in the same transaction: the setting is verified again by every query.
  test.each(badContexts)('%s: stored in the setting directly, it selects and writes nothing', async (_label, make) => {
    const outcome = await inTransaction(login, contextFor(other().id), async (client) => {
      await client.query("SELECT set_config('accessweaver.tenant_context', $1, true)", [make()]);
      const tenant = (await client.query('SELECT accessweaver.current_tenant_id() AS t')).rows[0].t;
      const write = await failureWithin(client, "INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'x')", [
        own().id,
      ]);
      return { tenant, seen: await visibleTenants(client), write: write.code };
    });
    expect(outcome).toEqual({ tenant: null, seen: [], write: '42501' });
  });
});

test('a context replayed under another tenant selects only the tenant it was signed for', async () => {
  const outcome = await inTransaction('app', contextFor(own().id), async (client) => ({
    other: await usersOf(client, other().id),
    insert: (
      await failureWithin(client, "INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'replayed')", [
        other().id,
      ])
    ).code,
  }));
  expect(outcome).toEqual({ other: 0, insert: '42501' });
});

test('a context that expires during a transaction stops selecting rows in that transaction', async () => {
  // Expiry is kept in whole seconds: a whole second three seconds away, not a ttl that rounding may shorten to
  // milliseconds; the wait lasts until that second has passed, however long the first query took.
  const expiresAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3000);
  const outcome = await inTransaction('readonly', contextFor(own().id, { expiresAt }), async (client) => {
    const before = await visibleTenants(client);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt.getTime() - Date.now()) + 200));
    return { before, after: await visibleTenants(client) };
  });
  expect(outcome).toEqual({ before: [own().id], after: [] });
});

describe('issuers', () => {
  async function issued(ttl: string, actorId?: string): Promise<string> {
    return withConnection(database.url, async (client) => {
      const { rows } = await client.query<{ context: string }>(
        actorId === undefined
          ? 'SELECT accessweaver.issue_tenant_context($1, $2::interval) AS context'
          : 'SELECT accessweaver.issue_tenant_context($1, $2::interval, $3) AS context',
        actorId === undefined ? [own().id, ttl] : [own().id, ttl, actorId],
      );
      return rows[0].context;
    });
  }

  test.each(LOGINS)(
    'contexts from signTenantContext and from issue_tenant_context are both accepted (%s login)',
    async (login) => {
      for (const context of [contextFor(own().id), await issued('5 minutes')]) {
        const outcome = await inTransaction(login, undefined, async (client) => ({
          set: (await client.query('SELECT accessweaver.set_tenant_context($1) AS t', [context])).rows[0].t,
          seen: await visibleTenants(client),
        }));
        expect(outcome).toEqual({ set: own().id, seen: [own().id] });
      }
    },
  );

  test('both issuers write the same string for the same claims', async () => {
    const context = await issued('5 minutes', own().userIds[0]);
    const expiry = Number(context.split('.')[4]);
    const signed = signTenantContext({
      ...claims(),
      userId: own().userIds[0],
      ttlSeconds: undefined,
      expiresAt: new Date(expiry * 1000),
    });
    expect(signed).toBe(context);
  });

  test('current_actor_id() is the acting user of the verified context, and NULL without one', async () => {
    const actors = await inTransaction('app', undefined, async (client) => {
      const read = async () => (await client.query('SELECT accessweaver.current_actor_id() AS a')).rows[0].a;
      const none = await read();
      await client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(own().id)]);
      const withoutActor = await read();
      await client.query('SELECT accessweaver.set_tenant_context($1)', [
        contextFor(own().id, { userId: own().userIds[1] }),
      ]);
      const withActor = await read();
      await client.query("SELECT set_config('accessweaver.tenant_context', $1, true)", [
        withTenantField(contextFor(own().id, { userId: own().userIds[1] }), other().id),
      ]);
      return { none, withoutActor, withActor, tampered: await read() };
    });
    expect(actors).toEqual({ none: null, withoutActor: null, withActor: own().userIds[1], tampered: null });
  });

  test.each(['0 seconds', '-1 minute', '25 hours'])('issue_tenant_context refuses a ttl of %s', async (ttl) => {
    await expect(issued(ttl)).rejects.toThrow(/ttl .* is not between 0 and 1 day/);
  });

  test('a read-only transaction (as on a replica) applies and verifies a context', async () => {
    const seen = await withConnection(database.readonlyUrl, async (client) => {
      await client.query('BEGIN READ ONLY');
      try {
        await client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(own().id)]);
        return await visibleTenants(client);
      } finally {
        await client.query('ROLLBACK');
      }
    });
    expect(seen).toEqual([own().id]);
  });
});

// Last in the file: it leaves version 2 current and version 1 retired.
describe('key rotation', () => {
  const nextKey = { version: 2, key: Buffer.alloc(32, 0x5a) };
  const contextV = (version: number, key: Buffer) =>
    signTenantContext({ tenantId: own().id, ttlSeconds: 300, keyVersion: version, key });

  async function reasonFor(context: string): Promise<string> {
    return inTransaction('app', undefined, async (client) => {
      await client.query('SAVEPOINT s');
      try {
        return (await client.query('SELECT accessweaver.set_tenant_context($1) AS t', [context])).rows[0].t;
      } catch (error) {
        await client.query('ROLLBACK TO SAVEPOINT s');
        return (error as Error).message;
      }
    });
  }

  /**
   * What the policies select for `context` written straight into the setting, without its own set_tenant_context,
   * in a transaction that applied the new key's context through it.
   */
  const seenWithSetting = (context: string) =>
    inTransaction('app', contextV(2, nextKey.key), async (client) => {
      await client.query("SELECT set_config('accessweaver.tenant_context', $1, true)", [context]);
      return visibleTenants(client);
    });

  test('the previous version verifies during the overlap and not after; the new one signs', async () => {
    const install = (overlapSeconds: number) =>
      withConnection(database.url, (client) => installTenantContextKey(client, nextKey, { overlapSeconds }));
    expect(await install(3600)).toBe('installed');
    expect(await install(3600)).toBe('already installed');
    expect(await reasonFor(contextV(1, TEST_CONTEXT_KEY.key))).toBe(own().id);
    expect(await reasonFor(contextV(2, nextKey.key))).toBe(own().id);
    expect(await seenWithSetting(contextV(1, TEST_CONTEXT_KEY.key))).toEqual([own().id]);
    const issuedVersion = await withConnection(database.url, async (client) => {
      const { rows } = await client.query("SELECT accessweaver.issue_tenant_context($1, '1 minute') AS c", [own().id]);
      return (rows[0].c as string).split('.')[1];
    });
    expect(issuedVersion).toBe('2');

    await withConnection(database.url, (client) =>
      client.query(
        "UPDATE accessweaver_private.tenant_context_keys SET valid_until = now() - interval '1 second' WHERE " +
          'version = 1',
      ),
    );
    expect(await reasonFor(contextV(1, TEST_CONTEXT_KEY.key))).toBe('tenant context refused: unknown key version');
    expect(await seenWithSetting(contextV(1, TEST_CONTEXT_KEY.key))).toEqual([]);
    expect(await reasonFor(contextV(2, nextKey.key))).toBe(own().id);
    expect(await seenWithSetting(contextV(2, nextKey.key))).toEqual([own().id]);
  });
});
