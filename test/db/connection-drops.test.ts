/**
 * A failover, a restart or pg_terminate_backend drops every connection at once. A service with a
 * createTenantPool pool running withTenant under load (test/support/tenant-service.ts, a child
 * process) has every application backend terminated three times, with some connections busy and
 * some idle; it must stay up, and its transactions succeed again after the last drop.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { APP_LOGIN } from '../../src/config/environments';
import { contextFor, createMigratedDatabase, seedTenants, withConnection, type MigratedDatabase } from './fixtures';

const ROOT = path.resolve(__dirname, '..', '..');
const SERVICE = path.join(ROOT, 'test', 'support', 'tenant-service.ts');
const DROPS = 3;
/** Transactions the service completes between two drops: a few seconds of load at most. */
const OK_BETWEEN_DROPS = 20;
/** Upper bounds on each wait; the test is about whether the service recovers, not how fast. */
const STARTUP_LIMIT_MS = 30_000;
const RECOVERY_LIMIT_MS = 15_000;

interface ServiceRun {
  readonly lines: string[];
  /** Index in `lines` of the first line after each drop. */
  readonly dropAt: number[];
  /** Backends terminated per drop, by their state then. */
  readonly terminated: { state: string }[][];
  /** Exit code, or the signal, and whether the service exited before it was told to stop. */
  exit?: { code: number | null; signal: NodeJS.Signals | null; early: boolean };
}

let database: MigratedDatabase;
let tenantIds: string[];
let service: ChildProcessWithoutNullStreams;
const run: ServiceRun = { lines: [], dropAt: [], terminated: [] };

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const okSince = (index: number) => run.lines.slice(index).filter((line) => line === 'ok').length;

/** Polls `condition` every 50 ms until it holds, the service has exited, or `limitMs` has passed. */
async function waitFor(condition: () => boolean | Promise<boolean>, limitMs: number): Promise<boolean> {
  for (const end = Date.now() + limitMs; Date.now() < end && run.exit === undefined; await pause(50)) {
    if (await condition()) return true;
  }
  return false;
}

const BACKENDS = 'SELECT state FROM pg_stat_activity WHERE datname = $1 AND usename = $2';

async function appBackends(sql: string): Promise<{ state: string }[]> {
  return withConnection(
    database.url,
    async (client) => (await client.query<{ state: string }>(sql, [database.name, APP_LOGIN])).rows,
  );
}

/** Waits for busy and idle application connections together (bounded), then terminates them all. */
async function dropEveryConnection(): Promise<void> {
  await waitFor(async () => {
    const states = (await appBackends(BACKENDS)).map((row) => row.state);
    return states.includes('idle') && states.some((state) => state !== 'idle');
  }, RECOVERY_LIMIT_MS);
  run.dropAt.push(run.lines.length);
  // MATERIALIZED: the filter is applied before any backend is terminated, never after.
  run.terminated.push(
    await appBackends(
      `WITH app AS MATERIALIZED (${BACKENDS.replace('SELECT state', 'SELECT pid, state')}) ` +
        'SELECT state FROM app WHERE pg_terminate_backend(pid)',
    ),
  );
}

beforeAll(async () => {
  database = await createMigratedDatabase();
  tenantIds = (await seedTenants(database.url, 2)).map((tenant) => tenant.id);
  service = spawn(process.execPath, ['--import', 'tsx', SERVICE], {
    cwd: ROOT,
    env: {
      ...process.env,
      TENANT_SERVICE_URL: database.appUrl,
      TENANT_SERVICE_CONTEXTS: JSON.stringify(tenantIds.map((id) => contextFor(id, { ttlSeconds: 600 }))),
    },
  });
  let told = false;
  createInterface({ input: service.stdout }).on('line', (line) => run.lines.push(line));
  service.stderr.on('data', (chunk: Buffer) => run.lines.push(`stderr ${chunk.toString()}`));
  const exited = new Promise<void>((resolve) =>
    service.on('exit', (code, signal) => {
      run.exit = { code, signal, early: !told };
      resolve();
    }),
  );

  await waitFor(() => okSince(0) >= OK_BETWEEN_DROPS, STARTUP_LIMIT_MS);
  for (let drop = 0; drop < DROPS; drop += 1) {
    await dropEveryConnection();
    const from = run.dropAt[drop];
    await waitFor(() => okSince(from) >= (drop === DROPS - 1 ? 1 : OK_BETWEEN_DROPS), RECOVERY_LIMIT_MS);
  }
  told = true;
  service.stdin.end();
  let limit: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((resolve) => (limit = setTimeout(resolve, RECOVERY_LIMIT_MS)))]);
  clearTimeout(limit);
}, 180_000);

afterAll(async () => {
  if (run.exit === undefined) service.kill('SIGKILL');
  await database.drop();
});

test('the service stays up through every drop and stops only when told, cleanly', () => {
  expect(run.lines.filter((line) => line.startsWith('stderr'))).toEqual([]);
  expect(run.exit).toEqual({ code: 0, signal: null, early: false });
  expect(run.lines[run.lines.length - 1]).toBe('done');
});

test('each drop terminated connections, busy and idle ones among them', () => {
  expect(run.terminated).toHaveLength(DROPS);
  for (const backends of run.terminated) expect(backends.length).toBeGreaterThan(0);
  const states = run.terminated.flat().map((backend) => backend.state);
  expect(states).toContain('idle');
  expect(states.some((state) => state !== 'idle')).toBe(true);
});

test('transactions succeed again after the last drop', () => {
  expect(okSince(run.dropAt[DROPS - 1])).toBeGreaterThan(0);
});

test('a dropped idle connection is reported by the pool in one line', () => {
  const reports = run.lines.filter((line) => line.startsWith('pool '));
  expect(reports.length).toBeGreaterThan(0);
  for (const report of reports) expect(report).toMatch(/^pool database pool: an idle connection was lost .*\)$/);
});

test('a transaction whose connection dropped fails for its caller as a connection loss, nothing else', () => {
  const failures = run.lines.filter((line) => line.startsWith('failed'));
  expect(failures.length).toBeGreaterThan(0);
  expect(failures.filter((line) => line !== 'failed loss')).toEqual([]);
});

test('no transaction is half-applied and no row lands in another tenant', async () => {
  const rows = await withConnection(
    database.url,
    async (client) =>
      (
        await client.query<{ name: string; tenant_id: string }>(
          "SELECT name, tenant_id FROM accessweaver.roles WHERE name LIKE 'drop-%'",
        )
      ).rows,
  );
  expect(rows.length).toBeGreaterThan(0);
  const halves = new Map<string, string[]>();
  for (const row of rows) {
    const [, index, tag, half] = /^drop-(\d+)-(\d+\.\d+)-([ab])$/.exec(row.name) ?? [];
    expect(row.tenant_id).toBe(tenantIds[Number(index)]);
    halves.set(`${index}-${tag}`, [...(halves.get(`${index}-${tag}`) ?? []), half].sort());
  }
  const unpaired = [...halves].filter(([, found]) => found.join() !== 'a,b');
  expect(unpaired).toEqual([]);
});
