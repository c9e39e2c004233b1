/**
 * A command whose database backend is terminated mid-run (what a failover or a restart does to it):
 * one line saying what it was doing and whether running it again is safe, exit code 4, no stack.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { setLoginPasswords } from '../../src/db/logins';
import { MIGRATIONS_DIRECTORY, migrate } from '../../src/db/migrate';
import { tenantContextKeySecretString } from '../../src/db/tenant-context-keys';
import { TEST_CONTEXT_KEY, TEST_PASSWORDS } from '../db/fixtures';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { resetAwsMocks, secretsMock } from './support/aws';
import { runCli, type RunResult } from './support/harness';
import { applyMigrations } from './support/schema';

let db: TestDatabase;

beforeEach(async () => {
  db = await createTestDatabase('aw_cli_lost');
});
afterEach(async () => {
  await db.drop();
});

/** Terminates the first backend of the test database that `condition` (SQL on pg_stat_activity) selects. */
async function terminateWhen(condition: string): Promise<void> {
  const admin = new Client({ connectionString: db.url });
  await admin.connect();
  try {
    for (let tries = 0; tries < 400; tries += 1) {
      const { rows } = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM (SELECT pid FROM pg_stat_activity ` +
          `WHERE datname = $1 AND pid <> pg_backend_pid() AND ${condition} OFFSET 0) found`,
        [db.name],
      );
      if (rows.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no backend matched ${condition}`);
  } finally {
    await admin.end();
  }
}

/** The failure the operator reads: the last stderr line, and whether anything looks like a stack trace. */
function failureOf(result: RunResult) {
  const lines = result.stderr.trimEnd().split('\n');
  return {
    code: result.code,
    stdout: result.stdout,
    errorLines: lines.filter((line) => line.startsWith('error:')).length,
    stack: lines.some((line) => /^\s+at /.test(line)),
    last: lines[lines.length - 1],
  };
}

test('maintenance vacuum: one line naming the command and that running it again is safe, exit 4', async () => {
  await applyMigrations(db.url);
  const holder = new Client({ connectionString: db.url });
  await holder.connect();
  try {
    // VACUUM waits for the lock, so its backend is terminated in the middle of the command.
    await holder.query('BEGIN');
    await holder.query(
      'LOCK TABLE accessweaver.roles, accessweaver.tenants, accessweaver.user_roles, accessweaver.users',
    );
    const running = runCli(['maintenance', 'vacuum', '--database-url', db.url]);
    await terminateWhen("application_name = 'accessweaver-rds' AND wait_event_type = 'Lock'");
    const result = await running;
    expect(failureOf(result)).toEqual({
      code: 4,
      stdout: '',
      errorLines: 1,
      stack: false,
      last: expect.stringMatching(
        new RegExp(
          '^error: maintenance vacuum: the connection to .* was lost: .*terminating connection due to administrator ' +
            'command.*\\. Each table is vacuumed in its own statement .* running it again is safe\\.$',
        ),
      ),
    });
  } finally {
    await holder.query('ROLLBACK');
    await holder.end();
  }
});

test('setup-database cut during a migration: one line naming the file and that a rerun is safe, exit 4', async () => {
  resetAwsMocks();
  const login = (username: string, password: string) => ({
    SecretString: JSON.stringify({ username, password, host: 'db.internal', port: 5432, dbname: 'accessweaver' }),
  });
  secretsMock
    .on(GetSecretValueCommand, { SecretId: 'accessweaver-dev-app-db-credentials' })
    .resolves(login('accessweaver_app', TEST_PASSWORDS.app));
  secretsMock
    .on(GetSecretValueCommand, { SecretId: 'accessweaver-dev-readonly-db-credentials' })
    .resolves(login('accessweaver_readonly', TEST_PASSWORDS.readonly));
  secretsMock
    .on(GetSecretValueCommand, { SecretId: 'accessweaver-dev-tenant-context-key' })
    .resolves({ SecretString: tenantContextKeySecretString(TEST_CONTEXT_KEY), VersionId: 'v1' });
  const directory = mkdtempSync(path.join(os.tmpdir(), 'aw-migrations-'));
  try {
    const files = readdirSync(MIGRATIONS_DIRECTORY).filter((name) => name.endsWith('.sql'));
    for (const name of files) copyFileSync(path.join(MIGRATIONS_DIRECTORY, name), path.join(directory, name));
    const slow = `${String(files.length + 1).padStart(4, '0')}_slow.sql`;
    writeFileSync(path.join(directory, slow), 'SELECT pg_sleep(30);\n');

    const running = runCli(
      ['setup-database', '--env', 'dev', '--database-url', db.url, '--migrations-dir', directory],
      { database: { migrate, setLoginPasswords } },
    );
    await terminateWhen("query LIKE 'SELECT pg_sleep(30)%'");
    const setupResult = await running;
    expect(failureOf(setupResult)).toEqual({
      code: 4,
      stdout: '',
      errorLines: 1,
      stack: false,
      last: expect.stringMatching(
        new RegExp(
          `^error: setup-database: .*The database connection was lost while applying ${slow} .*` +
            'Each migration is applied and recorded in one transaction.* running it again is safe\\.$',
        ),
      ),
    });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
