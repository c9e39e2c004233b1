/**
 * Properties of the migrated schema that keep isolation true for tables, roles and plans to come:
 * forced row-level security and tenant policies on every table, privileges of future tables, the
 * shape of current_tenant_id(), and a policy the planner serves from an index alone.
 */
import { APP_LOGIN, READONLY_LOGIN } from '../../src/config/environments';
import { contextFor, createMigratedDatabase, seedTenants, withConnection, type MigratedDatabase } from './fixtures';

let database: MigratedDatabase;

beforeAll(async () => {
  database = await createMigratedDatabase();
});
afterAll(async () => {
  await database.drop();
});

async function query<T extends object>(text: string, values: unknown[] = [], url = database.url): Promise<T[]> {
  return withConnection(url, async (client) => (await client.query<T>(text, values)).rows);
}

async function schemaTables(): Promise<string[]> {
  const rows = await query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'accessweaver' ORDER BY tablename",
  );
  return rows.map((row) => row.name);
}

test('the schema holds the tables the application uses', async () => {
  expect(await schemaTables()).toEqual(['audit_events', 'roles', 'tenants', 'user_roles', 'users']);
});

// Owners bypass row-level security unless it is forced, and a table without it is open to every tenant.
test('every table of the schema has row-level security enabled and forced', async () => {
  const rows = await query<{ name: string; enabled: boolean; forced: boolean }>(
    `SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'accessweaver' AND c.relkind IN ('r', 'p')`,
  );
  expect(rows.filter((row) => !row.enabled || !row.forced)).toEqual([]);
  expect(rows.length).toBeGreaterThan(0);
});

/**
 * The only policy a tenant-facing role may have on a table: its tenant column equal to the tenant read once per
 * query ("( SELECT ... )" is an initPlan, not a per-row call), for reading (USING) and for writing (WITH CHECK).
 * A table added later is held to the same rule on its tenant_id column. tenants is read-only to the application
 * (FOR SELECT, so no WITH CHECK) and is isolated on its own id; audit_events is read-only to both logins (its
 * events are written by the audit trigger only).
 */
const READ_ONLY_TABLES = ['tenants', 'audit_events'];
function expectedTenantPolicy(table: string) {
  const column = table === 'tenants' ? 'id' : 'tenant_id';
  const expression = `(${column} = ( SELECT accessweaver.current_tenant_id() AS current_tenant_id))`;
  return READ_ONLY_TABLES.includes(table)
    ? { table, permissive: 'PERMISSIVE', cmd: 'SELECT', qual: expression, with_check: null }
    : { table, permissive: 'PERMISSIVE', cmd: 'ALL', qual: expression, with_check: expression };
}

test.each(['application_role', 'readonly_role'])(
  'every table of the schema has exactly one policy for %s: the tenant policy, for USING and WITH CHECK',
  async (role) => {
    // Every policy that applies to the role, including policies for PUBLIC; permissive policies are OR-ed.
    const policies = await query<{ table: string; permissive: string; cmd: string; qual: string; with_check: string }>(
      `SELECT tablename AS table, permissive, cmd, qual, with_check FROM pg_policies
        WHERE schemaname = 'accessweaver' AND ($1 = ANY (roles) OR 'public' = ANY (roles))
        ORDER BY tablename, policyname`,
      [role],
    );
    const tables = await schemaTables();
    expect(policies).toEqual(tables.map(expectedTenantPolicy));
  },
);

// The logins call them, and they read a table or a function the logins cannot: they must run as their owner with a
// search_path the caller cannot change.
test.each(['set_tenant_context(text)', 'assert_safe_session()', 'issue_tenant_context(uuid,interval,uuid)'])(
  'accessweaver.%s runs as its owner, the master user, with a pinned search_path',
  async (signature) => {
    const [definition] = await query<{ owner: string; config: string[] | null; security_definer: boolean }>(
      `SELECT pg_get_userbyid(p.proowner) AS owner, p.proconfig AS config, p.prosecdef AS security_definer
         FROM pg_proc p WHERE p.oid = $1::regprocedure`,
      [`accessweaver.${signature}`],
    );
    const [{ user }] = await query<{ user: string }>('SELECT current_user AS user');
    expect(definition).toEqual({ owner: user, config: ['search_path=pg_catalog, pg_temp'], security_definer: true });
  },
);

// The view reads the key table with its owner's rights, so its owner must be the master user; the two functions
// read the view with their caller's rights and hold no privilege of their own.
test("accessweaver.tenant_context is the master user's and shows a tenant and an actor, nothing else", async () => {
  const [view] = await query<{ owner: string; columns: string[] }>(
    `SELECT pg_get_userbyid(c.relowner) AS owner,
            array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
      WHERE c.oid = 'accessweaver.tenant_context'::regclass GROUP BY c.relowner`,
  );
  const [{ user }] = await query<{ user: string }>('SELECT current_user AS user');
  expect(view).toEqual({ owner: user, columns: ['tenant_id', 'actor_id'] });
});

test.each(['current_tenant_id()', 'current_actor_id()'])(
  "accessweaver.%s runs with its caller's rights and reads the view",
  async (signature) => {
    const [definition] = await query<{ security_definer: boolean; config: string[] | null; reads_view: boolean }>(
      `SELECT p.prosecdef AS security_definer, p.proconfig AS config,
              p.prosrc LIKE '%FROM accessweaver.tenant_context t)%' AS reads_view
         FROM pg_proc p WHERE p.oid = $1::regprocedure`,
      [`accessweaver.${signature}`],
    );
    expect(definition).toEqual({ security_definer: false, config: null, reads_view: true });
  },
);

// A user_roles policy with an EXISTS against users would run it for every row of every tenant. The primary key
// leads with tenant_id and INCLUDEs expires_at, so one tenant's live grants are one range of the index, read
// without the heap.
test("one tenant's live grants: an index-only scan of the primary key, the tenant a one-call initPlan", async () => {
  const tenants = await seedTenants(database.url, 2);
  // As autovacuum leaves a live table: statistics gathered and the visibility map set (index-only scans need it).
  await query('VACUUM (ANALYZE) accessweaver.user_roles');
  const plan = await withConnection(database.appUrl, async (client) => {
    await client.query('BEGIN');
    try {
      await client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(tenants[0].id)]);
      await client.query('SET LOCAL enable_seqscan = off'); // a few rows would otherwise be scanned whole
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        'EXPLAIN (COSTS OFF) SELECT user_id, role_id FROM accessweaver.user_roles WHERE expires_at IS NULL ' +
          'OR expires_at > now()',
      );
      return rows.map((row) => row['QUERY PLAN']);
    } finally {
      await client.query('ROLLBACK');
    }
  });
  // The initPlan is one call of current_tenant_id(): the view is planned inside it once a session, not here.
  expect(plan).toEqual([
    'Index Only Scan using user_roles_pkey on user_roles',
    '  Index Cond: (tenant_id = $0)',
    '  Filter: ((expires_at IS NULL) OR (expires_at > now()))',
    '  InitPlan 1 (returns $0)',
    '    ->  Result',
  ]);
});

test.each([APP_LOGIN, READONLY_LOGIN])(
  'login %s can neither bypass row-level security nor administer roles',
  async (login) => {
    const [attributes] = await query<{
      rolsuper: boolean;
      rolbypassrls: boolean;
      rolcreaterole: boolean;
      rolcreatedb: boolean;
    }>('SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1', [login]);
    expect(attributes).toEqual({ rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false });
  },
);

test.each([APP_LOGIN, READONLY_LOGIN])('login %s owns no object of the schema', async (login) => {
  const owned = await query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'accessweaver' AND pg_get_userbyid(c.relowner) = $1`,
    [login],
  );
  expect(owned).toEqual([]);
});

// GRANT ... ON ALL TABLES covers only the tables that exist when it runs.
test('a table added by a later migration gets the logins’ privileges without a new GRANT', async () => {
  await query('CREATE TABLE accessweaver.added_later (tenant_id uuid NOT NULL)');
  try {
    const [privileges] = await query<{ app_write: boolean; readonly_read: boolean; readonly_write: boolean }>(
      `SELECT has_table_privilege($1, 'accessweaver.added_later', 'INSERT') AS app_write,
              has_table_privilege($2, 'accessweaver.added_later', 'SELECT') AS readonly_read,
              has_table_privilege($2, 'accessweaver.added_later', 'INSERT') AS readonly_write`,
      [APP_LOGIN, READONLY_LOGIN],
    );
    expect(privileges).toEqual({ app_write: true, readonly_read: true, readonly_write: false });
  } finally {
    await query('DROP TABLE accessweaver.added_later');
  }
});
