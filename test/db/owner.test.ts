/**
 * Migrations run as an RDS-like master user: a login with CREATEROLE that owns the database but is
 * not a superuser. It owns the tables, so only FORCE ROW LEVEL SECURITY subjects it to the policies.
 */
import { Client } from 'pg';
import { APP_LOGIN } from '../../src/config/environments';
import { setLoginPasswords } from '../../src/db/logins';
import { migrate } from '../../src/db/migrate';
import { adminUrl, createTestDatabase, type TestDatabase } from '../support/database';
import { TEST_PASSWORDS, withConnection, withCredentials } from './fixtures';

const MASTER = 'aw_test_master';
const MASTER_PASSWORD = 'aw-test-master-login';

let database: TestDatabase;
let masterUrl: string;

async function asAdmin(text: string): Promise<void> {
  await withConnection(adminUrl(), async (client) => {
    await client.query(text);
  });
}

beforeAll(async () => {
  // Created here, if missing, with the attributes an RDS master user has that matter to migrations.
  await withConnection(adminUrl(), async (client: Client) => {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [MASTER]);
    const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
    await client.query(
      `${verb} ROLE ${MASTER} LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS PASSWORD ` +
        `${client.escapeLiteral(MASTER_PASSWORD)}`,
    );
  });
  database = await createTestDatabase('aw_owner');
  await asAdmin(`ALTER DATABASE ${database.name} OWNER TO ${MASTER}`);
  masterUrl = withCredentials(database.url, MASTER, MASTER_PASSWORD);
});
afterAll(async () => {
  await database.drop();
});

test('migrations apply as a master user that is not a superuser', async () => {
  const result = await migrate(masterUrl);
  expect(result.applied.length).toBeGreaterThan(0);
  expect(result.alreadyApplied).toEqual([]);
});

describe('once migrated', () => {
  beforeAll(async () => {
    await migrate(masterUrl);
    await withConnection(masterUrl, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        "INSERT INTO accessweaver.tenants (name, subdomain) VALUES ('Owner test', 'owner-test') RETURNING id",
      );
      await client.query("INSERT INTO accessweaver.users (tenant_id, email) VALUES ($1, 'a@owner.example')", [
        rows[0].id,
      ]);
    });
  });

  async function usersVisibleToMaster(): Promise<number> {
    return withConnection(
      masterUrl,
      async (client) =>
        (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM accessweaver.users')).rows[0].n,
    );
  }

  test('the master user owns the tables', async () => {
    const owners = await withConnection(
      masterUrl,
      async (client) =>
        (
          await client.query<{ owner: string }>(
            'SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = ' +
              "'accessweaver'::regnamespace AND relkind = 'r'",
          )
        ).rows,
    );
    expect(owners).toEqual([{ owner: MASTER }]);
  });

  test('the master user manages tenants through its operator membership', async () => {
    expect(await usersVisibleToMaster()).toBe(1);
  });

  test('its changes are audited under its name, and the audit trail is append-only even for it', async () => {
    const outcome = await withConnection(masterUrl, async (client) => {
      const { rows } = await client.query<{ login: string }>(
        "SELECT login FROM accessweaver.audit_events WHERE table_name = 'users'",
      );
      const refused: Record<string, string | undefined> = {};
      for (const [label, text] of [
        ['UPDATE', "UPDATE accessweaver.audit_events SET changes = '{}'"],
        ['DELETE', 'DELETE FROM accessweaver.audit_events'],
        ['TRUNCATE', 'TRUNCATE accessweaver.audit_events'],
        [
          'INSERT',
          `INSERT INTO accessweaver.audit_events (tenant_id, action, table_name, row_key, changes)
           SELECT tenant_id, 'DELETE', 'users', '{}', '{}' FROM accessweaver.users`,
        ],
      ]) {
        refused[label] = await client.query(text).then(
          () => undefined,
          (error: { code?: string }) => error.code,
        );
      }
      return { logins: rows.map((row) => row.login), refused };
    });
    expect(outcome).toEqual({
      logins: [MASTER],
      refused: { UPDATE: '42501', DELETE: '42501', TRUNCATE: '42501', INSERT: '42501' },
    });
  });

  test('without operator membership the table owner sees no row: row-level security is forced', async () => {
    await asAdmin(`REVOKE accessweaver_operator FROM ${MASTER}`);
    try {
      expect(await usersVisibleToMaster()).toBe(0);
    } finally {
      await asAdmin(`GRANT accessweaver_operator TO ${MASTER}`);
    }
  });
});

test('migrations refuse to run as an application login', async () => {
  // The logins exist once any database is migrated; this suite must not rely on another having done it.
  const scratch = await createTestDatabase('aw_owner_roles');
  const appOwned = await createTestDatabase('aw_owner_app');
  try {
    await migrate(scratch.url);
    await setLoginPasswords(scratch.url, TEST_PASSWORDS);
    // Owning the database gives the login every privilege migrations need, but it is still refused.
    await asAdmin(`ALTER DATABASE ${appOwned.name} OWNER TO ${APP_LOGIN}`);
    const appUrl = withCredentials(appOwned.url, APP_LOGIN, TEST_PASSWORDS.app);
    await expect(migrate(appUrl)).rejects.toThrow(/must run as the master user/);
  } finally {
    await appOwned.drop();
    await scratch.drop();
  }
});
