/**
 * Is a restored database usable? Checks a connected database (normally a restored copy, as its master user)
 * for what the application relies on: every migration of `sql/` applied and unchanged, row-level security enabled
 * and forced on every table of the schema with tenant policies for both application roles, a tenant context that
 * works and isolates, and the row count of each table.
 *
 * The isolation probe writes two probe tenants inside a transaction that is always rolled back, so a restored
 * database with no tenants is still proven, and nothing it does outlives the check.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { loadMigrationFiles } from 'postgres-migrations';
import { MIGRATIONS_DIRECTORY } from './migrate';

export const SCHEMA = 'accessweaver';
/** The roles tenant-facing logins act through; each must be confined to one tenant. */
export const TENANT_ROLES = ['application_role', 'readonly_role'] as const;

export interface VerificationCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface TableRows {
  readonly table: string;
  readonly rows: number;
}

export interface RestoreVerification {
  /** True when every check passed. */
  readonly ok: boolean;
  readonly checks: readonly VerificationCheck[];
  /** Rows per table of the schema, counted as the connected (operator) login. */
  readonly tables: readonly TableRows[];
}

export interface VerifyOptions {
  /** Folder of the migrations the database should be at; default: the repository's `sql/`. */
  readonly migrationsDirectory?: string;
}

// postgres-migrations numbers its own ledger table as migration 0 and records it like a file.
interface LedgerRow {
  readonly id: number;
  readonly name: string;
  readonly hash: string;
}

/** Compares the database's migration ledger with the files: the same ids, names and hashes, none missing. */
export async function checkMigrations(client: Client, directory = MIGRATIONS_DIRECTORY): Promise<VerificationCheck> {
  const files = await loadMigrationFiles(directory);
  const expected = files[files.length - 1];
  const ledger = await client.query<{ present: boolean }>(
    "SELECT to_regclass('public.migrations') IS NOT NULL AS present",
  );
  if (!ledger.rows[0].present) {
    return { name: 'migrations', ok: false, detail: `no migration ledger; expected ${expected.fileName}` };
  }
  const { rows } = await client.query<LedgerRow>('SELECT id, name, hash FROM public.migrations ORDER BY id');
  const applied = new Map(rows.map((row) => [Number(row.id), row]));
  const missing = files.filter((file) => !applied.has(file.id)).map((file) => file.fileName);
  const changed = files
    .filter((file) => applied.has(file.id) && applied.get(file.id)?.hash !== file.hash)
    .map((file) => file.fileName);
  const known = new Set(files.map((file) => file.id));
  const unknown = rows.filter((row) => !known.has(Number(row.id))).map((row) => `${row.id} ${row.name}`);
  const latest = rows.length === 0 ? 'none' : `${rows[rows.length - 1].id} ${rows[rows.length - 1].name}`;
  const problems = [
    missing.length > 0 ? `behind: ${missing.join(', ')} not applied` : '',
    changed.length > 0 ? `${changed.join(', ')} applied with other contents` : '',
    unknown.length > 0 ? `ahead: ${unknown.join(', ')} not in ${directory}` : '',
  ].filter((text) => text !== '');
  return problems.length === 0
    ? { name: 'migrations', ok: true, detail: `at ${expected.fileName}` }
    : {
        name: 'migrations',
        ok: false,
        detail: `latest applied ${latest}; expected ${expected.fileName}; ${problems.join('; ')}`,
      };
}

async function schemaTables(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    [SCHEMA],
  );
  return rows.map((row) => row.name);
}

/** Row-level security enabled and forced (owners are subject to it too) on every table of the schema. */
export async function checkRowLevelSecurity(client: Client): Promise<VerificationCheck> {
  const { rows } = await client.query<{ name: string; enabled: boolean; forced: boolean }>(
    `SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    [SCHEMA],
  );
  if (rows.length === 0) return { name: 'row-level security', ok: false, detail: `no tables in schema ${SCHEMA}` };
  const bad = rows
    .filter((row) => !row.enabled || !row.forced)
    .map((row) => `${row.name} (${row.enabled ? 'not forced' : 'disabled'})`);
  return bad.length === 0
    ? { name: 'row-level security', ok: true, detail: `enabled and forced on ${rows.length} tables` }
    : { name: 'row-level security', ok: false, detail: `not enforced on ${bad.join(', ')}` };
}

/** Every table has a policy for each tenant role that compares with the verified tenant. */
export async function checkPolicies(client: Client): Promise<VerificationCheck> {
  const { rows } = await client.query<{ table: string; role: string; tenant_policy: boolean }>(
    `SELECT t.relname AS table, r.role,
            EXISTS (SELECT FROM pg_policies p
                     WHERE p.schemaname = $1 AND p.tablename = t.relname AND r.role = ANY (p.roles)
                       AND p.qual LIKE '%SELECT %current_tenant_id() AS current_tenant_id)%') AS tenant_policy
       FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
      CROSS JOIN unnest($2::text[]) AS r (role)
      WHERE n.nspname = $1 AND t.relkind IN ('r', 'p') ORDER BY 1, 2`,
    [SCHEMA, TENANT_ROLES],
  );
  const missing = rows.filter((row) => !row.tenant_policy).map((row) => `${row.table} for ${row.role}`);
  const tables = new Set(rows.map((row) => row.table)).size;
  return missing.length === 0
    ? { name: 'tenant policies', ok: true, detail: `${tables} tables, each with a tenant policy per role` }
    : { name: 'tenant policies', ok: false, detail: `no tenant policy on ${missing.join(', ')}` };
}

/** Exact row counts per table of the schema (the master user reads every tenant through its operator role). */
export async function countRows(client: Client): Promise<TableRows[]> {
  const counts: TableRows[] = [];
  for (const table of await schemaTables(client)) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.${quote(table)}`);
    counts.push({ table, rows: Number(rows[0].n) });
  }
  return counts;
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/** Runs every check; a check that throws fails with the database's message instead of stopping the others. */
export async function verifyRestoredDatabase(
  client: Client,
  options: VerifyOptions = {},
): Promise<RestoreVerification> {
  const checks: VerificationCheck[] = [];
  const attempt = async (name: string, check: () => Promise<VerificationCheck | VerificationCheck[]>) => {
    try {
      const result = await check();
      checks.push(...(Array.isArray(result) ? result : [result]));
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      checks.push({ name, ok: false, detail: (error as Error).message });
    }
  };
  await attempt('migrations', () => checkMigrations(client, options.migrationsDirectory));
  await attempt('row-level security', () => checkRowLevelSecurity(client));
  await attempt('tenant policies', () => checkPolicies(client));
  await attempt('tenant isolation', () => probeIsolation(client));
  let tables: TableRows[] = [];
  await attempt('row counts', async () => {
    tables = await countRows(client);
    return {
      name: 'row counts',
      ok: true,
      detail: `${tables.reduce((sum, t) => sum + t.rows, 0)} rows in ${tables.length} tables`,
    };
  });
  return { ok: checks.every((check) => check.ok), checks, tables };
}

// ---------------------------------------------------------------------------------------------------------------
// Isolation probe

interface ProbeTenant {
  readonly id: string;
  /** How the probe enters this tenant's context once it has switched to a tenant role. */
  readonly enter: { readonly sql: string; readonly values: unknown[] };
}

/**
 * Inside one transaction, always rolled back: two probe tenants with a user, a role and a grant each; then, as each
 * tenant role, no context must show no row, tenant A's context must show A's rows and no other tenant's in every
 * table, and a write into B under A's context must be refused.
 */
export async function probeIsolation(client: Client): Promise<VerificationCheck[]> {
  await client.query('BEGIN');
  try {
    await actAsTenantRoles(client);
    const [a, b] = [await probeTenant(client), await probeTenant(client)];
    const tables = await tenantColumns(client);
    const checks: VerificationCheck[] = [];
    for (const role of TENANT_ROLES) checks.push(await isolationAs(client, role, a, b, tables));
    return checks;
  } finally {
    await client.query('ROLLBACK');
  }
}

/**
 * The master user of RDS is no superuser and no member of the tenant roles; membership granted here lets it
 * SET ROLE to them, and disappears with the rollback. (A superuser needs none.)
 */
async function actAsTenantRoles(client: Client): Promise<void> {
  const { rows } = await client.query<{ superuser: boolean; user: string }>(
    'SELECT rolsuper AS superuser, current_user AS user FROM pg_roles WHERE rolname = current_user',
  );
  if (rows[0].superuser) return;
  await client.query(`GRANT ${TENANT_ROLES.join(', ')} TO ${quote(rows[0].user)}`);
}

async function probeTenant(client: Client): Promise<ProbeTenant> {
  const id = randomUUID();
  const tag = `restore-drill-${id.slice(0, 8)}`;
  await client.query(`INSERT INTO ${SCHEMA}.tenants (id, name, subdomain) VALUES ($1, $2, $2)`, [id, tag]);
  const user = await client.query<{ id: string }>(
    `INSERT INTO ${SCHEMA}.users (tenant_id, email) VALUES ($1, $2) RETURNING id`,
    [id, `${tag}@drill.invalid`],
  );
  const role = await client.query<{ id: string }>(
    `INSERT INTO ${SCHEMA}.roles (tenant_id, name) VALUES ($1, $2) RETURNING id`,
    [id, tag],
  );
  await client.query(`INSERT INTO ${SCHEMA}.user_roles (tenant_id, user_id, role_id) VALUES ($1, $2, $3)`, [
    id,
    user.rows[0].id,
    role.rows[0].id,
  ]);
  return { id, enter: await tenantEntry(client, id) };
}

/** A signed context for the probe tenant, issued here as operator before switching to a tenant role. */
async function tenantEntry(client: Client, tenantId: string): Promise<ProbeTenant['enter']> {
  const issued = await client.query<{ context: string }>(
    `SELECT ${SCHEMA}.issue_tenant_context($1::uuid, interval '10 minutes') AS context`,
    [tenantId],
  );
  return { sql: `SELECT ${SCHEMA}.set_tenant_context($1)`, values: [issued.rows[0].context] };
}

/** The column that names a row's tenant: tenant_id, or the key of the tenants table itself. */
async function tenantColumns(client: Client): Promise<ReadonlyMap<string, string | null>> {
  const { rows } = await client.query<{ table: string; column: string | null }>(
    `SELECT c.relname AS table,
            CASE WHEN EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                                AND NOT a.attisdropped) THEN 'tenant_id'
                 WHEN c.relname = 'tenants' THEN 'id' END AS column
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1`,
    [SCHEMA],
  );
  return new Map(rows.map((row) => [row.table, row.column]));
}

async function isolationAs(
  client: Client,
  role: string,
  a: ProbeTenant,
  b: ProbeTenant,
  tables: ReadonlyMap<string, string | null>,
): Promise<VerificationCheck> {
  const name = `tenant isolation (${role})`;
  const failures: string[] = [];
  await client.query('SAVEPOINT probe');
  try {
    await client.query(`SET LOCAL ROLE ${quote(role)}`);
    for (const [table, column] of tables) {
      if (column === null) {
        failures.push(`${table} has no tenant column`);
        continue;
      }
      const unscoped = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.${quote(table)}`);
      if (Number(unscoped.rows[0].n) !== 0) failures.push(`${table}: ${unscoped.rows[0].n} rows without a context`);
    }
    await client.query(a.enter.sql, a.enter.values);
    for (const [table, column] of tables) {
      if (column === null) continue;
      const { rows } = await client.query<{ own: string; other: string }>(
        `SELECT count(*) FILTER (WHERE ${quote(column)} = $1) AS own,
                count(*) FILTER (WHERE ${quote(column)} IS DISTINCT FROM $1) AS other
           FROM ${SCHEMA}.${quote(table)}`,
        [a.id],
      );
      if (Number(rows[0].other) > 0) failures.push(`${table}: ${rows[0].other} rows of other tenants visible`);
      if (Number(rows[0].own) === 0) failures.push(`${table}: the tenant's own rows are not visible`);
    }
    if (role === 'application_role') failures.push(...(await crossTenantWrite(client, b)));
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT probe');
  }
  return failures.length === 0
    ? { name, ok: true, detail: `sees only its tenant in ${tables.size} tables, nothing without a context` }
    : { name, ok: false, detail: failures.join('; ') };
}

/** Under tenant A's context, a row for tenant B must be refused by the policy's WITH CHECK. */
async function crossTenantWrite(client: Client, b: ProbeTenant): Promise<string[]> {
  await client.query('SAVEPOINT cross_tenant_write');
  try {
    await client.query(`INSERT INTO ${SCHEMA}.users (tenant_id, email) VALUES ($1, 'cross@drill.invalid')`, [b.id]);
    return ["users: a row for another tenant was written under this tenant's context"];
  } catch (error) {
    if ((error as { code?: string }).code === '42501') return [];
    throw error;
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT cross_tenant_write');
  }
}
