/**
 * One injected request must not reach the tenants that later share its connection. As both logins, and through
 * both paths a server connection is shared on: a node-pg pool of one connection (the attacker's statements and the
 * victim's withTenant() run on the same server session, as on a busy pool), and the shipped PgBouncer configuration
 * in transaction mode with one server connection (attacker and victim are two unrelated clients served by it one
 * transaction after the other). Each attack is written once and run through both: temporary objects, a replaced
 * prepared statement, a context left at session level, a context kept alive in a DO block, plan and parameter
 * logging switched on for the session or stored for the login. Each is refused, or leaves the next tenant with its
 * own rows and nothing else.
 */
import { randomBytes } from 'node:crypto';
import { DatabaseError, type Notification, type Pool, type PoolClient } from 'pg';
import { APP_LOGIN, READONLY_LOGIN } from '../../src/config/environments';
import { migrate } from '../../src/db/migrate';
import {
  NamedStatementInTenantWorkError,
  signTenantContext,
  UNSAFE_SESSION_SQLSTATE,
  withTenant,
} from '../../src/db/tenant-context';
import { describeWithTool } from '../support/skip';
import { pgbouncerUnavailableReason, startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import {
  contextFor,
  createMigratedDatabase,
  LOGIN_NAMES,
  LOGINS,
  poolFor,
  seedTenants,
  TEST_CONTEXT_KEY,
  TEST_PASSWORDS,
  withConnection,
  type Login,
  type MigratedDatabase,
  type TenantFixture,
} from './fixtures';

let database: MigratedDatabase;
let tenants: TenantFixture[];
const attacker = () => tenants[0];
const victim = () => tenants[1];

beforeAll(async () => {
  database = await createMigratedDatabase();
  tenants = await seedTenants(database.url, 2);
});
afterAll(async () => {
  await database.drop();
});

const urlOf = (login: Login) => database.urlOf(login);
const loginName = (login: Login) => LOGIN_NAMES[login];

function admin(text: string) {
  return withConnection(database.url, (client) => client.query(text));
}

async function pidOf(client: PoolClient): Promise<number> {
  return (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
}

/** The server process the last injection ran on: the victim's requests that follow are served by it. */
let attackerPid: number | undefined;

/**
 * The injected statements, run in one READ WRITE transaction on the pool's connection (the read-only login may
 * switch its default off): the SQLSTATE of the first one refused, or undefined when all ran.
 */
async function inject(pool: Pool, statements: readonly string[]): Promise<string | undefined> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ WRITE');
    attackerPid = await pidOf(client);
    for (const text of statements) await client.query(text);
    await client.query('COMMIT');
    return undefined;
  } catch (error) {
    await client.query('ROLLBACK');
    if (error instanceof DatabaseError) return error.code;
    throw error;
  } finally {
    client.release();
  }
}

interface VictimView {
  readonly pid: number;
  /** Tenants of the users the victim's query returned. */
  readonly tenants: string[];
}

/** The victim's request: its users, looked up with bound uuids (a `$1::uuid`, the trap's trigger in the attack). */
function victimRequest(pool: Pool): Promise<VictimView> {
  return withTenant(pool, contextFor(victim().id), async (client) => {
    const { rows } = await client.query<{ tenant_id: string }>(
      'SELECT tenant_id FROM accessweaver.users WHERE id = ANY ($1::uuid[]) OR tenant_id = $2::uuid',
      [victim().userIds, victim().id],
    );
    return { pid: await pidOf(client), tenants: rows.map((row) => row.tenant_id) };
  });
}

const victimRows = () => victim().userIds.map(() => victim().id);

/** What a request that applies no context sees on the pooled connection. */
async function contextlessRequest(pool: Pool): Promise<{ pid: number; tenant: string | null; users: number }> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ pid: number; tenant: string | null; users: number }>(
      `SELECT pg_backend_pid() AS pid, accessweaver.current_tenant_id() AS tenant,
              (SELECT count(*)::int FROM accessweaver.users) AS users`,
    );
    return rows[0];
  } finally {
    client.release();
  }
}

async function refusal(request: Promise<unknown>): Promise<{ code?: string; message: string }> {
  const error = await request.then(
    () => new Error('the request succeeded'),
    (caught: unknown) => caught,
  );
  if (!(error instanceof DatabaseError)) throw error;
  return { code: error.code, message: error.message };
}

/**
 * Where the attacker's requests and the victim's meet: the pools each runs on, and a URL for single connections
 * (DO blocks) along the same path.
 */
interface Connections {
  readonly attacker: Pool;
  readonly victim: Pool;
  readonly url: string;
  /** Server connections made from now on start afresh (after a setting was stored for the login). */
  renew(): Promise<void>;
  close(): Promise<void>;
}

interface Transport {
  readonly name: string;
  /**
   * Whether session state one request leaves on the server connection is still there for the next (a node-pg pool
   * keeps the session; the shipped PgBouncer configuration resets it after every transaction).
   */
  readonly sessionSurvives: boolean;
  open(login: Login): Promise<Connections>;
}

/** One node-pg pool of one connection: attacker and victim take turns on the same session. */
const directPool: Transport = {
  name: 'a node-pg pool of one connection',
  sessionSurvives: true,
  open(login) {
    let pool = poolFor(urlOf(login), 1);
    return Promise.resolve({
      get attacker() {
        return pool;
      },
      get victim() {
        return pool;
      },
      url: urlOf(login),
      async renew() {
        await pool.end();
        pool = poolFor(urlOf(login), 1);
      },
      close: () => pool.end(),
    });
  },
};

/**
 * A PgBouncer of its own per test (the shipped configuration, both logins, one server connection per login), so
 * what one test leaves on its server connection never reaches the next; attacker and victim are separate clients.
 */
const throughPgBouncer: Transport = {
  name: 'PgBouncer in transaction mode with one server connection',
  sessionSurvives: false,
  async open(login) {
    const start = () =>
      startPgBouncer({
        serverUrl: database.url,
        logins: { [APP_LOGIN]: TEST_PASSWORDS.app, [READONLY_LOGIN]: TEST_PASSWORDS.readonly },
        poolSize: 1,
      });
    let bouncer: PgBouncer = await start();
    const url = () => bouncer.url(loginName(login), TEST_PASSWORDS[login]);
    let pools = { attacker: poolFor(url(), 1), victim: poolFor(url(), 1) };
    const close = async () => {
      await Promise.all([pools.attacker.end(), pools.victim.end()]);
      await bouncer.stop();
    };
    return {
      get attacker() {
        return pools.attacker;
      },
      get victim() {
        return pools.victim;
      },
      get url() {
        return url();
      },
      async renew() {
        await close();
        bouncer = await start();
        pools = { attacker: poolFor(url(), 1), victim: poolFor(url(), 1) };
      },
      close,
    };
  },
};

function attackSuite(transport: Transport): void {
  describe.each(LOGINS)('as the %s login', (login) => {
    let c: Connections;
    beforeEach(async () => {
      attackerPid = undefined;
      c = await transport.open(login);
    });
    afterEach(async () => {
      await c.close();
    });

    /** The victim's next request, on the server connection the attacker's injection ran on, sees its rows only. */
    const expectVictimServedAfterAttacker = async () =>
      expect(await victimRequest(c.victim)).toEqual({ pid: attackerPid, tenants: victimRows() });

    /**
     * The victim's requests after the attacker left `reason` on its session. Where the session survives (a node-pg
     * pool), the first is refused naming it and the pool replaces that connection; behind PgBouncer the reset between
     * clients has dropped it, and the request runs clean on the same server connection.
     */
    async function expectNextTenantServed(reason: string): Promise<void> {
      if (!transport.sessionSurvives) {
        await expectVictimServedAfterAttacker();
        return;
      }
      expect(await refusal(victimRequest(c.victim))).toEqual({
        code: UNSAFE_SESSION_SQLSTATE,
        message: `tenant context refused: unsafe session: ${reason}`,
      });
      const next = await victimRequest(c.victim);
      expect(next.pid).not.toBe(attackerPid);
      expect(next.tenants).toEqual(victimRows());
    }

    describe('attack 1: temporary objects that trap the next tenant', () => {
      test.each([
        [
          'a pg_temp function',
          ['CREATE FUNCTION pg_temp.trap(text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$'],
        ],
        ['a pg_temp.uuid domain', ['CREATE DOMAIN pg_temp.uuid AS pg_catalog.uuid CHECK (VALUE IS NOT NULL)']],
        ['a pg_temp.text domain', ['CREATE DOMAIN pg_temp.text AS pg_catalog.text']],
        ['a temporary view named users', ['CREATE TEMPORARY VIEW users AS SELECT * FROM accessweaver.users']],
        ['a temporary table', ['CREATE TEMPORARY TABLE users (id uuid)']],
        ['a temporary sequence', ['CREATE TEMPORARY SEQUENCE trap']],
      ])('%s is refused, and the next tenant gets its own rows on that connection', async (_label, statements) => {
        expect(await inject(c.attacker, statements)).toBe('42501');
        await expectVictimServedAfterAttacker();
      });

      // Statements stacked in one simple query outside any BEGIN (one implicit transaction): the read-only login
      // switches that transaction, and its later ones, to read-write first.
      test('a pg_temp.uuid domain stacked in one simple query is refused, for the read-only login too', async () => {
        const client = await c.attacker.connect();
        try {
          attackerPid = await pidOf(client);
          const stacked = client.query(
            `SET transaction_read_only = off; SET default_transaction_read_only = off;
             CREATE DOMAIN pg_temp.uuid AS pg_catalog.uuid CHECK (VALUE IS NOT NULL)`,
          );
          expect(await refusal(stacked)).toMatchObject({ code: '42501' });
        } finally {
          client.release();
        }
        await expectVictimServedAfterAttacker();
      });

      test('no role the login reaches may create temporary objects or objects in any schema', async () => {
        const { rows } = await withConnection(c.url, (client) =>
          client.query<{ temporary: boolean; schemas: string[] }>(
            `SELECT bool_or(has_database_privilege(r.oid, current_database(), 'TEMPORARY')) AS temporary,
                  ARRAY(SELECT DISTINCT n.nspname::text FROM pg_namespace n, pg_roles g
                         WHERE pg_has_role(current_user, g.oid, 'MEMBER')
                           AND has_schema_privilege(g.oid, n.oid, 'CREATE')) AS schemas
             FROM pg_roles r WHERE pg_has_role(current_user, r.oid, 'MEMBER')`,
          ),
        );
        expect(rows[0]).toEqual({ temporary: false, schemas: [] });
      });
    });

    describe('attack 2: a replaced prepared statement', () => {
      test('a named query in tenant work is refused, so a statement prepared under its name never runs', async () => {
        expect(
          await inject(c.attacker, [
            'DEALLOCATE ALL',
            `PREPARE "list-users" AS SELECT email FROM accessweaver.users
            WHERE pg_notify('stolen', current_setting('accessweaver.tenant_context', true)) IS NULL`,
          ]),
        ).toBeUndefined();
        const named = withTenant(c.victim, contextFor(victim().id), (client) =>
          client.query({ name: 'list-users', text: 'SELECT email FROM accessweaver.users' }),
        );
        await expect(named).rejects.toBeInstanceOf(NamedStatementInTenantWorkError);
        await expectVictimServedAfterAttacker();
      });
    });

    describe('attack 3: a context left at session level', () => {
      test('it selects nothing for the next request that applies none', async () => {
        await inject(c.attacker, [
          `SELECT set_config('accessweaver.tenant_context', '${contextFor(attacker().id)}', false)`,
        ]);
        expect(await contextlessRequest(c.victim)).toEqual({ pid: attackerPid, tenant: null, users: 0 });
      });

      test('with the marker of its own transaction beside it, it selects nothing in the next transaction', async () => {
        await inject(c.attacker, [
          `SELECT accessweaver.set_tenant_context('${contextFor(attacker().id)}')`,
          "SELECT set_config('accessweaver.tenant_context', current_setting('accessweaver.tenant_context'), false)",
          "SELECT set_config('accessweaver.tenant_context_transaction', " +
            "current_setting('accessweaver.tenant_context_transaction'), false)",
        ]);
        expect(await contextlessRequest(c.victim)).toEqual({ pid: attackerPid, tenant: null, users: 0 });
      });

      test('the next withTenant() is refused on a session that kept it, or runs on one reset', async () => {
        await inject(c.attacker, [
          `SELECT set_config('accessweaver.tenant_context', '${contextFor(attacker().id)}', false)`,
        ]);
        await expectNextTenantServed(
          'accessweaver.tenant_context was set outside set_tenant_context in this transaction',
        );
      });
    });

    describe('attack 4: a context kept alive inside one long statement', () => {
      /** Runs a DO block as the login and returns the notices it raised. */
      async function doBlock(body: string): Promise<string[]> {
        return withConnection(c.url, async (client) => {
          const notices: string[] = [];
          client.on('notice', (notice) => notices.push(notice.message ?? ''));
          await client.query(`DO $$ DECLARE seen int; BEGIN ${body} END $$`);
          return notices;
        });
      }
      const count = "SELECT count(*) INTO seen FROM accessweaver.users; RAISE NOTICE 'seen %', seen;";
      // Expires 0.5 to 1.5 s from now (whole seconds): valid for the first statement, expired after 2.1 s of sleep.
      const shortLived = () =>
        signTenantContext({
          tenantId: victim().id,
          expiresAt: new Date(Date.now() + 1500),
          keyVersion: TEST_CONTEXT_KEY.version,
          key: TEST_CONTEXT_KEY.key,
        });

      test('an expired context stops selecting rows inside a DO block', async () => {
        const context = shortLived();
        const notices = await doBlock(
          `PERFORM accessweaver.set_tenant_context('${context}'); ${count} PERFORM pg_sleep(2.1); ${count}`,
        );
        expect(notices).toEqual([`seen ${victim().userIds.length}`, 'seen 0']);
      });

      test('after a COMMIT inside a DO block, an expired context is refused again', async () => {
        const context = shortLived();
        const attempt = doBlock(
          `PERFORM accessweaver.set_tenant_context('${context}'); COMMIT; PERFORM pg_sleep(2.1);
         PERFORM accessweaver.set_tenant_context('${context}'); ${count}`,
        );
        expect(await refusal(attempt)).toMatchObject({ code: '28000', message: 'tenant context refused: expired' });
      });

      test('a key past its overlap stops verifying inside a DO block', async () => {
        const retire = `UPDATE accessweaver_private.tenant_context_keys SET valid_until = clock_timestamp()
                       + interval '1.5 seconds' WHERE version = ${TEST_CONTEXT_KEY.version}`;
        const notices = await withConnection(database.url, async (master) => {
          await master.query(retire);
          try {
            return await doBlock(
              `PERFORM accessweaver.set_tenant_context('${contextFor(victim().id)}'); ${count}
             PERFORM pg_sleep(2.1); ${count}`,
            );
          } finally {
            await master.query('UPDATE accessweaver_private.tenant_context_keys SET valid_until = NULL');
          }
        });
        expect(notices).toEqual([`seen ${victim().userIds.length}`, 'seen 0']);
      });
    });

    describe('attack 5: a session that would write the request to the server log, or turn it against itself', () => {
      test.each([
        ['debug_print_plan', 'on', 'debug_print_plan is on'],
        ['debug_print_parse', 'on', 'debug_print_parse is on'],
        ['debug_print_rewritten', 'on', 'debug_print_rewritten is on'],
        ['log_parameter_max_length_on_error', '-1', 'log_parameter_max_length_on_error is not 0'],
        ['row_security', 'off', 'row_security is off'],
        ['client_encoding', "'LATIN1'", 'client_encoding is not UTF8'],
        ['standard_conforming_strings', 'off', 'standard_conforming_strings is off'],
        ['DateStyle', "'SQL, DMY'", 'DateStyle is not ISO'],
      ])(
        '%s = %s left on the session: refused while it holds, gone or refused for the next',
        async (name, value, reason) => {
          // A stolen context applied in the same transaction is refused rather than written to the log.
          expect(
            await inject(c.attacker, [
              `SET ${name} = ${value}`,
              `SELECT accessweaver.set_tenant_context('${contextFor(victim().id)}')`,
            ]),
          ).toBe(UNSAFE_SESSION_SQLSTATE);
          expect(await inject(c.attacker, [`SET ${name} = ${value}`])).toBeUndefined();
          await expectNextTenantServed(reason);
        },
      );

      test.each([
        'log_statement',
        'log_min_duration_statement',
        'log_min_duration_sample',
        'log_transaction_sample_rate',
      ])('the login cannot set %s itself', async (name) => {
        const value = name === 'log_statement' ? "'all'" : '0';
        expect(await inject(c.attacker, [`SET ${name} = ${value}`])).toBe('42501');
      });

      // Superuser-only settings an operator could have set: refused all the same.
      test.each([
        ['log_statement', "'all'", 'log_statement is not none'],
        ['log_min_duration_statement', '0', 'log_min_duration_statement is not -1'],
        ['log_min_duration_sample', '0', 'log_min_duration_sample is not -1'],
        ['log_transaction_sample_rate', '0.5', 'log_transaction_sample_rate is not 0'],
      ])('%s = %s stored for the login by an operator: withTenant() is refused', async (name, value, reason) => {
        const scoped = `ALTER ROLE ${loginName(login)} IN DATABASE ${database.name}`;
        await admin(`${scoped} SET ${name} = ${value}`);
        try {
          expect(await refusal(victimRequest(c.victim))).toMatchObject({
            code: UNSAFE_SESSION_SQLSTATE,
            message: `tenant context refused: unsafe session: ${reason}`,
          });
        } finally {
          await admin(`${scoped} RESET ${name}`);
        }
      });

      test('a session with a temporary schema is refused', async () => {
        await admin(`GRANT TEMPORARY ON DATABASE ${database.name} TO ${loginName(login)}`);
        try {
          expect(
            await inject(c.attacker, ['CREATE TEMPORARY TABLE scratch (id int)', 'DROP TABLE scratch']),
          ).toBeUndefined();
        } finally {
          await admin(`REVOKE TEMPORARY ON DATABASE ${database.name} FROM ${loginName(login)}`);
        }
        expect(await refusal(victimRequest(c.victim))).toEqual({
          code: UNSAFE_SESSION_SQLSTATE,
          message: 'tenant context refused: unsafe session: the session has a temporary schema',
        });
      });

      test('a setting the login stores for itself is refused until the next migration run resets it', async () => {
        const scoped = `ALTER ROLE ${loginName(login)} IN DATABASE ${database.name}`;
        try {
          expect(await inject(c.attacker, [`${scoped} SET debug_print_plan = on`])).toBeUndefined();
          await c.renew();
          expect(await refusal(victimRequest(c.victim))).toMatchObject({ code: UNSAFE_SESSION_SQLSTATE });
          await migrate(database.url);
          // withTenant destroyed the refused connection inside its failed transaction: a node-pg pool opens a new
          // session, and PgBouncer closes a server connection its client left inside a transaction (a client that
          // rolls back instead keeps it, refusing, until server_lifetime). The next session starts without it.
          expect((await victimRequest(c.victim)).tenants).toEqual(victimRows());
        } finally {
          await admin(`${scoped} RESET debug_print_plan`);
        }
      });
    });

    // What a session-level LISTEN hears of another tenant's transaction: nothing, once the trap cannot be set. The
    // listener is the attacker's own direct connection (LISTEN does not outlive a transaction through PgBouncer).
    test('nothing of the victim reaches a listener when its request follows a refused trap', async () => {
      const heard: Notification[] = [];
      await withConnection(urlOf(login), async (listener) => {
        listener.on('notification', (notification) => heard.push(notification));
        await listener.query('LISTEN stolen');
        const trap = [
          `CREATE FUNCTION pg_temp.trap(value text) RETURNS boolean LANGUAGE sql
           AS $$ SELECT pg_notify('stolen', current_setting('accessweaver.tenant_context', true)) IS NOT NULL $$`,
          'CREATE DOMAIN pg_temp.uuid AS pg_catalog.uuid CHECK (pg_temp.trap(VALUE::text))',
        ];
        expect(await inject(c.attacker, trap)).toBe('42501');
        await expectVictimServedAfterAttacker();
        // A round trip after the victim's commit: a notification sent at that commit arrives before its answer.
        await listener.query('SELECT 1');
      });
      expect(heard).toEqual([]);
    });
  });
}

describe(`through ${directPool.name}`, () => attackSuite(directPool));
describeWithTool(`through ${throughPgBouncer.name}`, pgbouncerUnavailableReason(), () => attackSuite(throughPgBouncer));

describe('privileges re-asserted by every migration run', () => {
  const canCreate = async (login: string) =>
    (
      await admin(
        `SELECT has_database_privilege('${login}', current_database(), 'TEMPORARY') AS temporary,
                has_schema_privilege('${login}', 'public', 'CREATE') AS public`,
      )
    ).rows[0];

  test('TEMPORARY and CREATE on a schema granted back to PUBLIC or a group role are revoked again', async () => {
    await admin(`GRANT TEMPORARY ON DATABASE ${database.name} TO PUBLIC`);
    await admin(`GRANT TEMPORARY ON DATABASE ${database.name} TO readonly_role`);
    await admin('GRANT CREATE ON SCHEMA public TO PUBLIC, application_role');
    expect(await canCreate('accessweaver_app')).toEqual({ temporary: true, public: true });
    await migrate(database.url);
    expect(await canCreate('accessweaver_app')).toEqual({ temporary: false, public: false });
    expect(await canCreate('accessweaver_readonly')).toEqual({ temporary: false, public: false });
  });

  test('a schema a login owns (it may grant itself CREATE again) stops the run', async () => {
    await admin('CREATE SCHEMA owned_by_login AUTHORIZATION accessweaver_app');
    try {
      await expect(migrate(database.url)).rejects.toThrow(
        /tenant-facing roles can still create objects \(accessweaver_app: owner of schema owned_by_login\)/,
      );
    } finally {
      await admin('DROP SCHEMA owned_by_login');
    }
  });
});

describe('per-role settings of the tenant-facing logins', () => {
  // A login of this suite's own, member of application_role as a per-service login or rotation clone is: a setting
  // for every database on the shared logins would reach the other suites running at the same time.
  const own = `aw_test_pool_${randomBytes(3).toString('hex')}`;
  const password = 'aw-test-pool-login';
  beforeAll(async () => {
    await admin(`CREATE ROLE ${own} LOGIN PASSWORD '${password}'`);
    await admin(`GRANT application_role TO ${own}`);
  });
  afterAll(async () => {
    await admin(`DROP ROLE IF EXISTS ${own}`);
  });

  const settingsOf = async (role: string) =>
    (
      await admin(
        `SELECT s.setdatabase <> 0 AS scoped, c.config FROM pg_db_role_setting s, unnest(s.setconfig) c (config)
          WHERE s.setrole = '${role}'::regrole ORDER BY 1, 2`,
      )
    ).rows;

  test('those a login stores for itself, for every database or for this one, are reset by migrate()', async () => {
    await withConnection(database.loginUrl(own, password), async (client) => {
      await client.query(`ALTER ROLE ${own} SET debug_print_plan = on`);
      await client.query(`ALTER ROLE ${own} IN DATABASE ${database.name} SET row_security = off`);
      await client.query(`ALTER ROLE ${own} IN DATABASE ${database.name} SET search_path = accessweaver, public`);
    });
    await migrate(database.url);
    expect(await settingsOf(own)).toEqual([{ scoped: true, config: 'search_path=accessweaver, public' }]);
  });

  test('those the migrations make are put back when a login removed them', async () => {
    const readonly = 'accessweaver_readonly_clone';
    await admin(`ALTER ROLE ${readonly} IN DATABASE ${database.name} RESET search_path`);
    await migrate(database.url);
    expect(await settingsOf(readonly)).toEqual(
      expect.arrayContaining([
        { scoped: false, config: 'default_transaction_read_only=on' },
        { scoped: true, config: 'search_path=accessweaver, public' },
      ]),
    );
  });
});
