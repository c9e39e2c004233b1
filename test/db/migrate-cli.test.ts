import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { withConnection } from './fixtures';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

/** `npm run db:migrate`, without npm's own output. */
function runMigrateCli(env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(TSX, ['src/db/migrate-cli.ts'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function environmentWithout(...names: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of names) delete env[name];
  return env;
}

describe('npm run db:migrate', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('aw_migrate_cli');
  });
  afterAll(async () => {
    await database.drop();
  });

  const baseEnv = () => ({
    ...environmentWithout(
      'ACCESSWEAVER_APP_PASSWORD',
      'ACCESSWEAVER_READONLY_PASSWORD',
      'ACCESSWEAVER_TENANT_CONTEXT_KEY',
    ),
    DATABASE_URL: database.url,
  });

  test('applies the migrations to DATABASE_URL, then reports the database up to date', () => {
    const first = runMigrateCli(baseEnv());
    const second = runMigrateCli(baseEnv());
    expect([first.status, second.status]).toEqual([0, 0]);
    expect(first.stdout).toMatch(/^applied 0001_schema_and_tables\.sql$/m);
    expect(second.stdout).toMatch(/Database is up to date/);
  });

  test('fails with a message when DATABASE_URL is not set', () => {
    const run = runMigrateCli(environmentWithout('DATABASE_URL'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/DATABASE_URL is not set/);
  });

  test('fails with a message naming the expected form when DATABASE_URL is not a URL (never echoing it)', () => {
    const run = runMigrateCli({ ...baseEnv(), DATABASE_URL: 'not a url' });
    expect({ status: run.status, stderr: run.stderr }).toEqual({
      status: 1,
      stderr:
        'db:migrate failed: DATABASE_URL is not a PostgreSQL URL (expected ' +
        'postgres://USER:PASSWORD@HOST:PORT/DATABASE of the master user).\n',
    });
  });

  test('fails before migrating when only one login password is given', () => {
    const run = runMigrateCli({ ...baseEnv(), ACCESSWEAVER_APP_PASSWORD: 'only-one' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Set both ACCESSWEAVER_APP_PASSWORD and ACCESSWEAVER_READONLY_PASSWORD/);
  });

  test('installs the tenant-context key from ACCESSWEAVER_TENANT_CONTEXT_KEY, never echoing it', async () => {
    const key = Buffer.alloc(32, 0x61).toString('base64');
    const run = runMigrateCli({ ...baseEnv(), ACCESSWEAVER_TENANT_CONTEXT_KEY: JSON.stringify({ version: 3, key }) });
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Tenant-context key version 3 from ACCESSWEAVER_TENANT_CONTEXT_KEY: installed.');
    expect(run.stdout).not.toContain(key);
    const versions = await withConnection(
      database.url,
      async (client) => (await client.query('SELECT version FROM accessweaver_private.tenant_context_keys')).rows,
    );
    expect(versions).toEqual([{ version: 3 }]);
  });

  test('refuses a malformed ACCESSWEAVER_TENANT_CONTEXT_KEY before migrating', () => {
    const run = runMigrateCli({ ...baseEnv(), ACCESSWEAVER_TENANT_CONTEXT_KEY: '{"version": 1, "key": "c2hvcnQ="}' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("ACCESSWEAVER_TENANT_CONTEXT_KEY has no 'key' holding 32 base64-encoded bytes.");
  });
});

// postgres-migrations' advisory lock key (node_modules/postgres-migrations/dist/with-lock.js).
const MIGRATION_LOCK_KEY = '-8525285245963000605';

describe('npm run db:migrate when its connection is lost', () => {
  let database: TestDatabase;
  let lost: { status: number | null; stdout: string; stderr: string };

  // A run that waits for another runner's lock, and has its backend terminated meanwhile.
  beforeAll(async () => {
    database = await createTestDatabase('aw_migrate_cli_lost');
    const holder = new Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const child = spawn(TSX, ['src/db/migrate-cli.ts'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: database.url },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      for (let tries = 0; tries < 800; tries += 1) {
        const { rows } = await holder.query(
          'SELECT pg_terminate_backend(pid) FROM (SELECT pid FROM pg_stat_activity ' +
            // Between its tries at the lock, the runner's last statement is the one that ends login holders.
            "WHERE datname = $1 AND pid <> pg_backend_pid() AND (query LIKE 'SELECT pg_try_advisory_lock%' " +
            "OR query LIKE '%pg_terminate_backend(a.pid%') " +
            'OFFSET 0) found',
          [database.name],
        );
        if (rows.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      // Never wait on a runner that was not found waiting: the assertions below then say what it printed.
      const timer = setTimeout(() => child.kill(), 20_000);
      lost = { status: await exited, stdout, stderr };
      clearTimeout(timer);
    } finally {
      await holder.end();
    }
  }, 60_000);
  afterAll(async () => {
    await database.drop();
  });

  test('ends with one line naming the step and that a rerun is safe, exit 4', () => {
    expect(lost).toEqual({
      status: 4,
      stdout: '',
      stderr: expect.stringMatching(
        new RegExp(
          '^db:migrate failed: The database connection was lost while waiting for the migration lock ' +
            '\\(terminating connection due to administrator command\\)\\. Rerunning db:migrate is safe: [^\\n]*\\n$',
        ),
      ),
    });
  });

  test('a rerun then applies every migration', () => {
    const rerun = runMigrateCli({ ...process.env, DATABASE_URL: database.url });
    expect(rerun.status).toBe(0);
    expect(rerun.stdout).toMatch(/^Applied \d+ migration\(s\); 0 were already applied\.$/m);
  });
});
