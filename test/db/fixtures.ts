/** Shared set-up of the database-layer suites: a migrated database, the two logins, tenant data. */
import { Client, Pool } from 'pg';
import { APP_LOGIN, READONLY_LOGIN } from '../../src/config/environments';
import { setLoginPasswords } from '../../src/db/logins';
import { migrate } from '../../src/db/migrate';
import { signTenantContext, tenantPoolConfig } from '../../src/db/tenant-context';
import { installTenantContextKey, type TenantContextKey } from '../../src/db/tenant-context-keys';
import { createTestDatabase, type TestDatabase } from '../support/database';

// Logins are cluster-wide and every suite sets these same test-only passwords, so suites never
// depend on each other's order.
export const TEST_PASSWORDS = { app: 'aw-test-app-login', readonly: 'aw-test-readonly-login' } as const;

/** The two tenant-facing logins every isolation property is attacked as. */
export type Login = keyof typeof TEST_PASSWORDS;
export const LOGINS: readonly Login[] = ['app', 'readonly'];
/** The role name of each login. */
export const LOGIN_NAMES: Record<Login, string> = { app: APP_LOGIN, readonly: READONLY_LOGIN };

/** The tenant-context key every test database has installed (version 1): fixed, so failures reproduce. */
export const TEST_CONTEXT_KEY: TenantContextKey = {
  version: 1,
  key: Buffer.from('accessweaver-test-context-key-32', 'utf8'),
};

/** A context for `tenantId` signed with the test key, valid for five minutes unless told otherwise. */
export function contextFor(
  tenantId: string,
  options: { userId?: string; ttlSeconds?: number; expiresAt?: Date } = {},
): string {
  return signTenantContext({
    tenantId,
    userId: options.userId,
    ...(options.expiresAt === undefined ? { ttlSeconds: options.ttlSeconds ?? 300 } : { expiresAt: options.expiresAt }),
    keyVersion: TEST_CONTEXT_KEY.version,
    key: TEST_CONTEXT_KEY.key,
  });
}

export interface MigratedDatabase extends TestDatabase {
  /** Connection URL of a login of this database. */
  loginUrl(login: string, password: string): string;
  readonly appUrl: string;
  readonly readonlyUrl: string;
  /** Connection URL of one of the two tenant-facing logins, with its test password. */
  urlOf(login: Login): string;
}

export function withCredentials(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(user);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

export async function createMigratedDatabase(): Promise<MigratedDatabase> {
  const database = await createTestDatabase('aw_db');
  await migrate(database.url);
  await setLoginPasswords(database.url, TEST_PASSWORDS);
  await withConnection(database.url, (client) =>
    installTenantContextKey(client, TEST_CONTEXT_KEY, { overlapSeconds: 0 }),
  );
  return {
    ...database,
    loginUrl: (login, password) => withCredentials(database.url, login, password),
    appUrl: withCredentials(database.url, APP_LOGIN, TEST_PASSWORDS.app),
    readonlyUrl: withCredentials(database.url, READONLY_LOGIN, TEST_PASSWORDS.readonly),
    urlOf: (login) => withCredentials(database.url, LOGIN_NAMES[login], TEST_PASSWORDS[login]),
  };
}

/** Runs `work` on a fresh connection, closed afterwards. */
export async function withConnection<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TenantFixture {
  readonly id: string;
  readonly subdomain: string;
  readonly userIds: readonly string[];
  readonly roleIds: readonly string[];
}

/**
 * Tenants with USERS users and ROLES roles each, every user granted every role (granted by the
 * tenant's first user), inserted by the superuser, which bypasses row-level security.
 */
export async function seedTenants(adminUrl: string, count: number): Promise<TenantFixture[]> {
  return withConnection(adminUrl, async (client) => {
    const tenants: TenantFixture[] = [];
    for (let index = 0; index < count; index += 1) {
      const subdomain = `tenant-${index}`;
      const { rows: tenantRows } = await client.query<{ id: string }>(
        'INSERT INTO accessweaver.tenants (name, subdomain) VALUES ($1, $2) RETURNING id',
        [`Tenant ${index}`, subdomain],
      );
      const tenantId = tenantRows[0].id;
      const { rows: users } = await client.query<{ id: string }>(
        `INSERT INTO accessweaver.users (tenant_id, email, external_id)
         SELECT $1, 'user' || n || '@' || $2 || '.example', 'ext-' || n FROM generate_series(1, 3) n
         RETURNING id`,
        [tenantId, subdomain],
      );
      const { rows: roles } = await client.query<{ id: string }>(
        `INSERT INTO accessweaver.roles (tenant_id, name, permissions)
         SELECT $1, 'role-' || n, ARRAY['documents:read', 'documents:write'] FROM generate_series(1, 2) n
         RETURNING id`,
        [tenantId],
      );
      await client.query(
        `INSERT INTO accessweaver.user_roles (tenant_id, user_id, role_id, granted_by)
         SELECT $1, u.id, r.id, $2 FROM unnest($3::uuid[]) u (id) CROSS JOIN unnest($4::uuid[]) r (id)`,
        [tenantId, users[0].id, users.map((user) => user.id), roles.map((role) => role.id)],
      );
      tenants.push({ id: tenantId, subdomain, userIds: users.map((u) => u.id), roleIds: roles.map((r) => r.id) });
    }
    return tenants;
  });
}

/** A pool configured as the project documents for tenant work (tenantPoolConfig: direct or through PgBouncer). */
export function poolFor(url: string, max = 1): Pool {
  return new Pool(tenantPoolConfig(url, { max }));
}
