/**
 * migrate() re-asserts the limits of the roles tenant isolation relies on, on every run: a database
 * whose logins were loosened after (or before) migrating is repaired, not trusted.
 *
 * Roles are cluster-wide and other suites run at the same time as the application login, so the
 * attributes that would let a login see every tenant (SUPERUSER, BYPASSRLS, operator membership)
 * are loosened on a login of this suite's own, made a member of application_role the way a
 * per-service login or a rotation clone is; accessweaver_app itself is loosened in ways that do not
 * change what it sees.
 */
import { randomBytes } from 'node:crypto';
import { APP_LOGIN } from '../../src/config/environments';
import { migrate } from '../../src/db/migrate';
import { createMigratedDatabase, withConnection, type MigratedDatabase } from './fixtures';

let database: MigratedDatabase;
const clone = `aw_test_clone_${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  database = await createMigratedDatabase();
  await admin(`CREATE ROLE ${clone} LOGIN`);
  await admin(`GRANT application_role TO ${clone}`);
});
afterAll(async () => {
  await admin(`DROP ROLE IF EXISTS ${clone}`);
  await database.drop();
});

function admin(text: string) {
  return withConnection(database.url, (client) => client.query(text));
}

interface Limits {
  super: boolean;
  bypassrls: boolean;
  createrole: boolean;
  createdb: boolean;
  replication: boolean;
  memberOf: string[];
}

async function limitsOf(role: string): Promise<Limits> {
  return withConnection(database.url, async (client) => {
    const { rows } = await client.query<Limits>(
      `SELECT r.rolsuper AS super, r.rolbypassrls AS bypassrls, r.rolcreaterole AS createrole,
              r.rolcreatedb AS createdb, r.rolreplication AS replication,
              ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                     WHERE m.member = r.oid ORDER BY 1) AS "memberOf"
         FROM pg_roles r WHERE r.rolname = $1`,
      [role],
    );
    return rows[0];
  });
}

const TIGHT = { super: false, bypassrls: false, createrole: false, createdb: false, replication: false };

test('a member of application_role made superuser, BYPASSRLS, operator and more is repaired by migrate()', async () => {
  await admin(`ALTER ROLE ${clone} SUPERUSER BYPASSRLS CREATEROLE CREATEDB REPLICATION`);
  await admin(`GRANT accessweaver_operator, pg_read_all_data TO ${clone}`);
  expect(await limitsOf(clone)).toEqual({
    super: true,
    bypassrls: true,
    createrole: true,
    createdb: true,
    replication: true,
    memberOf: ['accessweaver_operator', 'application_role', 'pg_read_all_data'],
  });

  const lines: string[] = [];
  const result = await migrate(database.url, { log: (line) => lines.push(line) });

  expect(result.applied).toEqual([]);
  expect(lines).toContain('re-asserted repeatable/role_limits.sql');
  expect(await limitsOf(clone)).toEqual({ ...TIGHT, memberOf: ['application_role'] });
});

test('accessweaver_app given CREATEDB, CREATEROLE and the wrong group role is repaired by migrate()', async () => {
  let after: Limits;
  try {
    await admin(`ALTER ROLE ${APP_LOGIN} CREATEDB CREATEROLE`);
    await admin(`GRANT readonly_role TO ${APP_LOGIN}`);
    await admin(`REVOKE application_role FROM ${APP_LOGIN}`);
    await migrate(database.url);
    after = await limitsOf(APP_LOGIN);
  } finally {
    // Whatever happened, leave the cluster-wide login as every other suite expects it.
    await admin(`ALTER ROLE ${APP_LOGIN} NOCREATEDB NOCREATEROLE`);
    await admin(`REVOKE readonly_role FROM ${APP_LOGIN}`);
    await admin(`GRANT application_role TO ${APP_LOGIN}`);
  }
  expect(after).toEqual({ ...TIGHT, memberOf: ['application_role'] });
});

test('a group role handing application_role the operator rights is revoked from it by migrate()', async () => {
  const middle = `${clone}_via`;
  await admin(`CREATE ROLE ${middle} NOLOGIN`);
  try {
    await admin(`GRANT accessweaver_operator TO ${middle}`);
    await admin(`GRANT ${middle} TO application_role`);
    // application_role may be a member of nothing: every login of it would inherit the operator.
    await migrate(database.url);
    expect((await limitsOf('application_role')).memberOf).toEqual([]);
  } finally {
    await admin(`DROP ROLE ${middle}`);
  }
});
