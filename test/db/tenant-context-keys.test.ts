/**
 * The tenant-context key stays out of the logins' reach, by every path PostgreSQL offers them, and
 * neither login can mint a context or reach the roles and functions that could.
 */
import { DatabaseError } from 'pg';
import { installTenantContextKey, parseTenantContextKey } from '../../src/db/tenant-context-keys';
import {
  contextFor,
  createMigratedDatabase,
  TEST_CONTEXT_KEY,
  withConnection,
  type MigratedDatabase,
} from './fixtures';

let database: MigratedDatabase;

beforeAll(async () => {
  database = await createMigratedDatabase();
  // Statistics exist for the key table, so the pg_stats test shows they are hidden, not absent.
  await withConnection(database.url, (client) => client.query('ANALYZE accessweaver_private.tenant_context_keys'));
});
afterAll(async () => {
  await database.drop();
});

const LOGINS = [
  ['accessweaver_app', () => database.appUrl],
  ['accessweaver_readonly', () => database.readonlyUrl],
] as const;

const A_TENANT = '3f2c1a4e-8b7d-4c6e-9a1f-2b3c4d5e6f70';

/** The key's HMAC blocks (RFC 2104): either one lets its holder sign, so they are key material too. */
const hmacBlock = (pad: number) => {
  const block = Buffer.alloc(64);
  TEST_CONTEXT_KEY.key.copy(block);
  return block.map((byte) => byte ^ pad);
};
const KEY_SPELLINGS = () =>
  [TEST_CONTEXT_KEY.key, Buffer.from(hmacBlock(0x36)), Buffer.from(hmacBlock(0x5c))].flatMap((material) => [
    material.toString('hex'),
    material.toString('base64'),
  ]);

async function sqlState(url: string, text: string, values: unknown[] = []): Promise<string> {
  return withConnection(url, async (client) => {
    // READ WRITE overrides the read-only login's default, so privileges are what refuse it.
    await client.query('BEGIN READ WRITE');
    try {
      await client.query(text, values);
    } catch (error) {
      if (error instanceof DatabaseError && error.code) return error.code;
      throw error;
    } finally {
      await client.query('ROLLBACK');
    }
    return 'succeeded';
  });
}

describe.each(LOGINS)('%s', (login, url) => {
  test.each([
    ['read the key table', 'SELECT * FROM accessweaver_private.tenant_context_keys'],
    ['mint a context', "SELECT accessweaver.issue_tenant_context(gen_random_uuid(), '1 hour')"],
    ['mint a context with an actor', "SELECT accessweaver.issue_tenant_context(gen_random_uuid(), '1 hour', NULL)"],
    ['call the verifier', "SELECT accessweaver_private.verify_tenant_context('x')"],
    ['derive the key blocks', "SELECT accessweaver_private.hmac_key_block('\\x00', 54)"],
    ['install a key', "SELECT accessweaver_private.install_tenant_context_key(9, '\\x00', '0')"],
    ['become the operator', 'SET ROLE accessweaver_operator'],
    ['become the master user', 'SET ROLE postgres'],
    [
      'replace current_tenant_id()',
      'CREATE OR REPLACE FUNCTION accessweaver.current_tenant_id() RETURNS uuid LANGUAGE sql AS $$ SELECT ' +
        'NULL::uuid $$',
    ],
  ])('cannot %s', async (_label, text) => {
    expect(await sqlState(url(), text)).toBe('42501');
  });

  test('has no privilege on the key table, its schema or the minting function', async () => {
    const privileges = await withConnection(url(), async (client) => {
      // By OID: resolving the table's name would already need USAGE on its schema.
      const { rows } = await client.query(
        `SELECT has_schema_privilege('accessweaver_private', 'USAGE') AS schema_usage,
                has_table_privilege(c.oid, 'SELECT') AS table_select,
                has_column_privilege(c.oid, 'key', 'SELECT') AS key_select,
                has_function_privilege('accessweaver.issue_tenant_context(uuid, interval, uuid)', 'EXECUTE') AS mint
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'accessweaver_private' AND c.relname = 'tenant_context_keys'`,
      );
      return rows[0];
    });
    expect(privileges).toEqual({ schema_usage: false, table_select: false, key_select: false, mint: false });
  });

  // pg_stats shows only columns the reader may SELECT; the master (who may) sees the key column's row.
  test('sees no statistics of the key table in pg_stats', async () => {
    const statsQuery = "SELECT attname FROM pg_stats WHERE schemaname = 'accessweaver_private' ORDER BY attname";
    const asMaster = await withConnection(database.url, async (client) => (await client.query(statsQuery)).rows);
    const asLogin = await withConnection(url(), async (client) => (await client.query(statsQuery)).rows);
    expect(asMaster).toContainEqual({ attname: 'key' });
    expect(asLogin).toEqual([]);
  });

  test('finds the key in no setting, role setting or function source it can read', async () => {
    const texts = await withConnection(url(), async (client) => {
      const { rows } = await client.query<{ text: string }>(
        `SELECT setting AS text FROM pg_settings
         UNION ALL SELECT array_to_string(setconfig, ' ') FROM pg_db_role_setting
         UNION ALL SELECT prosrc FROM pg_proc
         UNION ALL SELECT coalesce(current_setting('accessweaver.tenant_context', true), '')`,
      );
      return rows.map((row) => row.text ?? '').join('\n');
    });
    for (const spelling of KEY_SPELLINGS()) expect(texts).not.toContain(spelling);
  });

  // The view reads the key table with its owner's rights. A condition of the login's own making, a function that
  // prints whatever it is given, may run inside the view's scan of that table; it can only be given what the view
  // shows. The planner's own output (EXPLAIN VERBOSE, debug_print_plan sent to the client) shows expressions, never
  // the key row's values.
  // The logins may not create temporary objects (sql/repeatable/session_limits.sql), so no function of theirs exists
  // anywhere; this suite's database grants one back to show what such a function would be given.
  test('finds no key material through the view, its own function as a condition, or the plans', async () => {
    await withConnection(database.url, (client) =>
      client.query(`GRANT TEMPORARY ON DATABASE ${database.name} TO ${login}`),
    );
    const printed = await withConnection(url(), async (client) => {
      const messages: string[] = [];
      client.on('notice', (notice) => messages.push(`${notice.message} ${notice.detail ?? ''}`));
      await client.query('BEGIN READ WRITE'); // the read-only login's default would refuse the temporary function
      try {
        await client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(A_TENANT)]);
        await client.query(
          `CREATE FUNCTION pg_temp.leak(value anyelement) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
           BEGIN RAISE NOTICE 'leak: %', value; RETURN true; END $$`,
        );
        await client.query("SET LOCAL client_min_messages = 'log'");
        await client.query('SET LOCAL debug_print_plan = on');
        await client.query('DISCARD PLANS');
        const shown = [
          'SELECT * FROM accessweaver.tenant_context t WHERE pg_temp.leak(t) AND pg_temp.leak(t.tenant_id::text)',
          'EXPLAIN (VERBOSE, ANALYZE) SELECT * FROM accessweaver.tenant_context t WHERE pg_temp.leak(t)',
          'SELECT count(*) FROM accessweaver.user_roles WHERE pg_temp.leak(tenant_id)',
        ];
        for (const text of shown) messages.push(JSON.stringify((await client.query(text)).rows));
      } finally {
        await client.query('ROLLBACK');
      }
      return messages;
    }).finally(() =>
      withConnection(database.url, (client) =>
        client.query(`REVOKE TEMPORARY ON DATABASE ${database.name} FROM ${login}`),
      ),
    );
    expect(printed.some((message) => message.startsWith('leak: ('))).toBe(true);
    expect(printed.some((message) => message.includes('PLANNEDSTMT'))).toBe(true);
    const everything = printed.join('\n');
    for (const spelling of KEY_SPELLINGS()) expect(everything).not.toContain(spelling);
  });
});

describe('installTenantContextKey()', () => {
  test('is idempotent for the current version and refuses a different key under the same version', async () => {
    await withConnection(database.url, async (client) => {
      expect(await installTenantContextKey(client, TEST_CONTEXT_KEY, { overlapSeconds: 0 })).toBe('already installed');
      await expect(
        installTenantContextKey(client, { version: 1, key: Buffer.alloc(32, 9) }, { overlapSeconds: 0 }),
      ).rejects.toThrow('tenant context key version 1 is already installed with a different key');
    });
  });

  test('refuses a version older than the installed one', async () => {
    await withConnection(database.url, async (client) => {
      await client.query('UPDATE accessweaver_private.tenant_context_keys SET version = 5 WHERE version = 1');
      try {
        await expect(
          installTenantContextKey(client, { version: 3, key: Buffer.alloc(32, 3) }, { overlapSeconds: 0 }),
        ).rejects.toThrow('tenant context key version 3 is older than the installed version 5');
      } finally {
        await client.query('UPDATE accessweaver_private.tenant_context_keys SET version = 1 WHERE version = 5');
      }
    });
  });

  // log_statement = 'mod' (the parameter group's) logs data-modifying statements with their parameters.
  test('sends the key only as a parameter of a SELECT', async () => {
    const sent: { text: string; values?: unknown[] }[] = [];
    await withConnection(database.url, async (client) => {
      const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<unknown>;
      (client as unknown as { query: typeof query }).query = (text, values) => {
        sent.push({ text, values });
        return query(text, values);
      };
      await installTenantContextKey(client, TEST_CONTEXT_KEY, { overlapSeconds: 0 });
    });
    const withKey = sent.filter((q) => q.values?.some((v) => Buffer.isBuffer(v) && v.equals(TEST_CONTEXT_KEY.key)));
    expect(withKey.map((q) => q.text)).toEqual([expect.stringMatching(/^SELECT accessweaver_private\.install/)]);
    for (const q of sent) for (const spelling of KEY_SPELLINGS()) expect(q.text).not.toContain(spelling);
  });
});

describe('parseTenantContextKey()', () => {
  const source = 'secret accessweaver-dev-tenant-context-key';
  test('reads {"version", "key"} with a base64 key of 32 bytes', () => {
    const key = Buffer.alloc(32, 0xab);
    expect(parseTenantContextKey(JSON.stringify({ version: 3, key: key.toString('base64') }), source)).toEqual({
      version: 3,
      key,
    });
  });

  test.each([
    ['not JSON', 'nope', /is not JSON/],
    ['without a version', JSON.stringify({ key: Buffer.alloc(32).toString('base64') }), /no 'version' integer/],
    ['with version 0', JSON.stringify({ version: 0, key: Buffer.alloc(32).toString('base64') }), /no 'version'/],
    ['with a short key', JSON.stringify({ version: 1, key: Buffer.alloc(16).toString('base64') }), /32 base64/],
    ['with a hex key', JSON.stringify({ version: 1, key: Buffer.alloc(32).toString('hex') }), /32 base64/],
  ])('refuses a secret %s, naming the secret and not the value', (_label, value, message) => {
    let error: Error | undefined;
    try {
      parseTenantContextKey(value, source);
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).toContain(source);
  });
});
