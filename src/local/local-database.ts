/**
 * The application database on a local server, set up as on RDS: `accessweaver-rds setup-database` (migrations,
 * tenant-context key, login passwords) with the passwords and key from the environment instead of AWS, then two
 * demo tenants with a user each.
 */
import { Client } from 'pg';
import { APP_LOGIN, READONLY_LOGIN } from '../config/environments';
import { defaultDeps, run } from '../cli/main';
import type { Terminal } from '../cli/context';
import { APP_PASSWORD_VARIABLE, READONLY_PASSWORD_VARIABLE, setLoginPasswords } from '../db/logins';
import { migrate } from '../db/migrate';
import { signTenantContext } from '../db/tenant-context';
import { tenantContextKeySecretString, TENANT_CONTEXT_KEY_VARIABLE } from '../db/tenant-context-keys';
import type { LocalState } from './local-state';

export const LOCAL_DATABASE = 'accessweaver';

/** The demo tenants: subdomain, name and the one user each has. */
export const DEMO_TENANTS = [
  { subdomain: 'acme', name: 'Acme Corporation', email: 'alice@acme.example' },
  { subdomain: 'globex', name: 'Globex', email: 'bob@globex.example' },
] as const;

export interface DemoTenant {
  readonly subdomain: string;
  readonly id: string;
  /** A signed context for the tenant, valid for {@link CONTEXT_HOURS} hours. */
  readonly context: string;
}

export interface LocalDatabase {
  readonly masterUrl: string;
  readonly appUrl: string;
  readonly readonlyUrl: string;
  /** The migrations this run applied (none when the kept cluster was up to date). */
  readonly applied: readonly string[];
  readonly tenants: readonly DemoTenant[];
}

export const CONTEXT_HOURS = 24;

function withLogin(url: string, database: string, user?: string, password?: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  if (user !== undefined && password !== undefined) {
    parsed.username = encodeURIComponent(user);
    parsed.password = encodeURIComponent(password);
  }
  return parsed.toString();
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** setup-database, in process, with its output captured: its JSON result, or its error message. */
async function setupDatabase(masterUrl: string, state: LocalState): Promise<{ applied: string[] }> {
  let stdout = '';
  let stderr = '';
  const terminal: Terminal = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    interactive: false,
    ask: async () => '',
  };
  const env = {
    ...process.env,
    [APP_PASSWORD_VARIABLE]: state.passwords.app,
    [READONLY_PASSWORD_VARIABLE]: state.passwords.readonly,
    [TENANT_CONTEXT_KEY_VARIABLE]: tenantContextKeySecretString(state.key),
  };
  const deps = { ...defaultDeps({ migrate, setLoginPasswords }), terminal, env };
  const code = await run(['setup-database', '--database-url', masterUrl, '--json'], deps);
  if (code !== 0) throw new Error(`setup-database failed (exit ${code}): ${stderr.trim()}`);
  return JSON.parse(stdout);
}

/** The demo tenants and their users, added once (the kept cluster has them on later runs). */
async function seedTenants(masterUrl: string, state: LocalState): Promise<DemoTenant[]> {
  return withClient(masterUrl, async (client) => {
    const tenants: DemoTenant[] = [];
    for (const demo of DEMO_TENANTS) {
      await client.query(
        'INSERT INTO accessweaver.tenants (name, subdomain) VALUES ($1, $2) ON CONFLICT (subdomain) DO NOTHING',
        [demo.name, demo.subdomain],
      );
      const { rows } = await client.query<{ id: string }>('SELECT id FROM accessweaver.tenants WHERE subdomain = $1', [
        demo.subdomain,
      ]);
      const id = rows[0].id;
      await client.query(
        'INSERT INTO accessweaver.users (tenant_id, email) VALUES ($1, $2) ON CONFLICT (tenant_id, email) DO NOTHING',
        [id, demo.email],
      );
      const context = signTenantContext({
        tenantId: id,
        ttlSeconds: CONTEXT_HOURS * 3600,
        keyVersion: state.key.version,
        key: state.key.key,
      });
      tenants.push({ subdomain: demo.subdomain, id, context });
    }
    return tenants;
  });
}

/** Creates the database if needed, sets it up and seeds it, on the server `adminUrl` names (its superuser). */
export async function setUpLocalDatabase(adminUrl: string, state: LocalState): Promise<LocalDatabase> {
  await withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [LOCAL_DATABASE]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${LOCAL_DATABASE}`);
  });
  const masterUrl = withLogin(adminUrl, LOCAL_DATABASE);
  const { applied } = await setupDatabase(masterUrl, state);
  return {
    masterUrl,
    appUrl: withLogin(adminUrl, LOCAL_DATABASE, APP_LOGIN, state.passwords.app),
    readonlyUrl: withLogin(adminUrl, LOCAL_DATABASE, READONLY_LOGIN, state.passwords.readonly),
    applied,
    tenants: await seedTenants(masterUrl, state),
  };
}
