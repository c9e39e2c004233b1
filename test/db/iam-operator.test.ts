/**
 * The IAM operator login (sql/0007). IAM authentication itself only exists on RDS; here a stand-in
 * rds_iam NOLOGIN role is created inside a transaction that is rolled back, so no other suite sees
 * it, and the migration file runs in that transaction.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import { IAM_OPERATOR_LOGIN } from '../../src/config/environments';
import { MIGRATIONS_DIRECTORY } from '../../src/db/migrate';
import { createMigratedDatabase, seedTenants, withConnection, type MigratedDatabase } from './fixtures';

const MIGRATION = readFileSync(path.join(MIGRATIONS_DIRECTORY, '0007_iam_operator_login.sql'), 'utf8');

let database: MigratedDatabase;

beforeAll(async () => {
  database = await createMigratedDatabase();
  await seedTenants(database.url, 3);
});
afterAll(async () => {
  await database.drop();
});

/** Runs `work` in a transaction that is always rolled back, with the notices PostgreSQL sent. */
async function rolledBack<T>(work: (client: Client, notices: string[]) => Promise<T>): Promise<T> {
  return withConnection(database.url, async (client) => {
    const notices: string[] = [];
    client.on('notice', (notice) => notices.push(notice.message ?? ''));
    await client.query('BEGIN');
    try {
      return await work(client, notices);
    } finally {
      await client.query('ROLLBACK');
    }
  });
}

const rows = async (client: Client, text: string, values: unknown[] = []) => (await client.query(text, values)).rows;

test('the test server has no rds_iam of its own', async () => {
  expect(
    await withConnection(database.url, (c) => rows(c, "SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'")),
  ).toEqual([]);
});

describe('where rds_iam exists (Amazon RDS)', () => {
  const withStandIn = <T>(work: (client: Client) => Promise<T>) =>
    rolledBack(async (client) => {
      await client.query('CREATE ROLE rds_iam NOLOGIN');
      await client.query(MIGRATION);
      return work(client);
    });

  test('creates a login that authenticates through rds_iam, without a stored secret', async () => {
    const login = await withStandIn((client) =>
      rows(
        client,
        `SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolpassword IS NULL AS no_secret
           FROM pg_authid WHERE rolname = $1`,
        [IAM_OPERATOR_LOGIN],
      ),
    );
    expect(login).toEqual([
      {
        rolcanlogin: true,
        rolsuper: false,
        rolbypassrls: false,
        rolcreaterole: false,
        rolcreatedb: false,
        no_secret: true,
      },
    ]);
  });

  test('is a member of rds_iam, accessweaver_operator and pg_monitor, and of nothing else', async () => {
    const memberships = await withStandIn((client) =>
      rows(
        client,
        `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
          WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY 1`,
        [IAM_OPERATOR_LOGIN],
      ),
    );
    expect(memberships.map((row) => row.rolname)).toEqual(['accessweaver_operator', 'pg_monitor', 'rds_iam']);
  });

  test('acts as accessweaver_operator: sees and manages every tenant', async () => {
    const seen = await withStandIn(async (client) => {
      await client.query(`SET ROLE ${IAM_OPERATOR_LOGIN}`);
      const tenants = await rows(client, 'SELECT count(*)::int AS n FROM accessweaver.tenants');
      await client.query("UPDATE accessweaver.tenants SET status = 'suspended' WHERE subdomain = 'tenant-2'");
      return tenants[0].n;
    });
    expect(seen).toBe(3);
  });

  test('is not a member of any tenant-facing role', async () => {
    const tenantFacing = await withStandIn((client) =>
      rows(
        client,
        `SELECT r FROM unnest(ARRAY['application_role', 'readonly_role', 'accessweaver_app', 'accessweaver_readonly']) r
          WHERE pg_has_role($1, r, 'MEMBER')`,
        [IAM_OPERATOR_LOGIN],
      ),
    );
    expect(tenantFacing).toEqual([]);
  });
});

test('where rds_iam does not exist, creates nothing and says so', async () => {
  const [notices, created] = await rolledBack(async (client, notices) => {
    await client.query(MIGRATION);
    return [notices, await rows(client, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [IAM_OPERATOR_LOGIN])];
  });
  expect(notices).toEqual(['role rds_iam does not exist (not Amazon RDS): accessweaver_iam_operator not created']);
  expect(created).toEqual([]);
});
