/**
 * The tenant-context key: its secret's JSON shape, and installing a version in the database.
 *
 * Secret value (Secrets Manager, `<project>-<env>-tenant-context-key`):
 *   {"version": 1, "key": "<base64 of 32 random bytes>"}
 * The issuing service signs with it; the database keeps every version that may still verify in
 * accessweaver_private.tenant_context_keys, which no login can read.
 */
import { randomBytes } from 'node:crypto';
import type { ClientBase } from 'pg';
import { MAX_KEY_VERSION, TENANT_CONTEXT_KEY_BYTES } from './tenant-context';

export interface TenantContextKey {
  readonly version: number;
  readonly key: Buffer;
}

/** What the database holds about a key version; never its bytes. */
export interface InstalledKeyVersion {
  readonly version: number;
  readonly createdAt: Date;
  /** null for the current version (it signs); otherwise the end of its overlap window. */
  readonly validUntil: Date | null;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses a secret value; `source` names it in errors (the key itself never appears in one). */
export function parseTenantContextKey(secretString: string, source: string): TenantContextKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new Error(`${source} is not JSON.`);
  }
  const { version, key } = (parsed ?? {}) as { version?: unknown; key?: unknown };
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > MAX_KEY_VERSION) {
    throw new Error(`${source} has no 'version' integer from 1 to ${MAX_KEY_VERSION}.`);
  }
  const bytes = typeof key === 'string' && BASE64.test(key) ? Buffer.from(key, 'base64') : undefined;
  if (bytes === undefined || bytes.length !== TENANT_CONTEXT_KEY_BYTES) {
    throw new Error(`${source} has no 'key' holding ${TENANT_CONTEXT_KEY_BYTES} base64-encoded bytes.`);
  }
  return { version, key: bytes };
}

/** The variable that holds the key locally, in the secret's JSON shape (`npm start`, db:migrate, setup-database). */
export const TENANT_CONTEXT_KEY_VARIABLE = 'ACCESSWEAVER_TENANT_CONTEXT_KEY';

/** The key from {@link TENANT_CONTEXT_KEY_VARIABLE}, undefined when it is unset or empty. */
export function tenantContextKeyFromEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): TenantContextKey | undefined {
  const value = env[TENANT_CONTEXT_KEY_VARIABLE];
  if (value === undefined || value === '') return undefined;
  return parseTenantContextKey(value, TENANT_CONTEXT_KEY_VARIABLE);
}

export function tenantContextKeySecretString(key: TenantContextKey): string {
  return JSON.stringify({ version: key.version, key: key.key.toString('base64') });
}

export function generateTenantContextKey(version: number): TenantContextKey {
  return { version, key: randomBytes(TENANT_CONTEXT_KEY_BYTES) };
}

export interface InstallOptions {
  /** Seconds the previously current version keeps verifying after a newer one is installed. */
  readonly overlapSeconds: number;
}

/**
 * Installs `key` as the current version (as the master user): 'already installed' when it is the
 * current version already; otherwise the previous current version keeps verifying for the overlap.
 * The key travels as a bind parameter of a SELECT, so neither log_statement = 'mod' nor
 * pg_stat_statements records it; where the session may, parameter logging is switched off too.
 */
export async function installTenantContextKey(
  client: ClientBase,
  key: TenantContextKey,
  options: InstallOptions,
): Promise<'installed' | 'already installed'> {
  if (!Number.isFinite(options.overlapSeconds) || options.overlapSeconds < 0) {
    throw new Error(`Overlap ${options.overlapSeconds} s is not a non-negative number of seconds.`);
  }
  await client.query('BEGIN');
  try {
    await quietParameters(client);
    const { rows } = await client.query<{ outcome: 'installed' | 'already installed' }>(
      'SELECT accessweaver_private.install_tenant_context_key($1, $2, make_interval(secs => $3)) AS outcome',
      [key.version, key.key, options.overlapSeconds],
    );
    await client.query('COMMIT');
    return rows[0].outcome;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Duration-based statement logging (log_min_duration_statement) prints bind parameters. Changing
 * log_parameter_max_length takes a superuser (RDS's master is not one), so it is tried in a
 * savepoint; the parameter group is what keeps the key out of the logs there.
 */
async function quietParameters(client: ClientBase): Promise<void> {
  await client.query('SAVEPOINT quiet_parameters');
  try {
    await client.query("SELECT set_config('log_parameter_max_length', '0', true)");
    await client.query('RELEASE SAVEPOINT quiet_parameters');
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT quiet_parameters');
  }
}

export async function installedKeyVersions(client: ClientBase): Promise<InstalledKeyVersion[]> {
  const { rows } = await client.query<{ version: number; created_at: Date; valid_until: Date | null }>(
    'SELECT version, created_at, valid_until FROM accessweaver_private.tenant_context_keys ORDER BY version',
  );
  return rows.map((row) => ({ version: row.version, createdAt: row.created_at, validUntil: row.valid_until }));
}
