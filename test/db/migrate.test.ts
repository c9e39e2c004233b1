import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConnectionLostError } from '../../src/db/connection-loss';
import { MIGRATIONS_DIRECTORY, MigrationChecksumError, migrate } from '../../src/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { withConnection } from './fixtures';

const migrationFiles = readdirSync(MIGRATIONS_DIRECTORY)
  .filter((name) => name.endsWith('.sql'))
  .sort();

function copyOfMigrations(): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'aw-migrations-'));
  for (const name of migrationFiles) copyFileSync(path.join(MIGRATIONS_DIRECTORY, name), path.join(directory, name));
  return directory;
}

const withCrlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

/** What a checkout with core.autocrlf=true holds: every file with CRLF line endings. */
function crlfCopyOfMigrations(): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'aw-migrations-crlf-'));
  for (const name of migrationFiles) {
    writeFileSync(path.join(directory, name), withCrlf(readFileSync(path.join(MIGRATIONS_DIRECTORY, name), 'utf8')));
  }
  return directory;
}

async function tableExists(url: string, qualifiedName: string): Promise<boolean> {
  return withConnection(url, async (client) => {
    const { rows } = await client.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [
      qualifiedName,
    ]);
    return rows[0].found !== null;
  });
}

describe('migrate()', () => {
  let database: TestDatabase;
  const scratch: string[] = [];

  beforeEach(async () => {
    database = await createTestDatabase('aw_migrate');
  });
  afterEach(async () => {
    await database.drop();
    for (const directory of scratch.splice(0)) rmSync(directory, { recursive: true, force: true });
  });

  test("logs the migrations' notices: outside RDS, why the IAM operator login was not created", async () => {
    const lines: string[] = [];
    await migrate(database.url, { log: (line) => lines.push(line) });
    expect(lines).toContain(
      'notice: role rds_iam does not exist (not Amazon RDS): accessweaver_iam_operator not created',
    );
  });

  test('applies every file of sql/ in order on an empty database', async () => {
    const result = await migrate(database.url);
    expect(result).toEqual({ applied: migrationFiles, alreadyApplied: [] });
  });

  test('a second run applies nothing and reports every file as already applied', async () => {
    await migrate(database.url);
    const second = await migrate(database.url);
    expect(second).toEqual({ applied: [], alreadyApplied: migrationFiles });
  });

  test('refuses to run when an applied file was edited, naming the file', async () => {
    const directory = copyOfMigrations();
    scratch.push(directory);
    await migrate(database.url, { directory });
    appendFileSync(path.join(directory, migrationFiles[1]), '\n-- an innocent-looking edit\n');

    const attempt = migrate(database.url, { directory });
    await expect(attempt).rejects.toBeInstanceOf(MigrationChecksumError);
    await expect(migrate(database.url, { directory })).rejects.toThrow(
      new RegExp(`${migrationFiles[1]} was changed after being applied`),
    );
  });

  test('applies only the files added since the last run', async () => {
    const directory = copyOfMigrations();
    scratch.push(directory);
    await migrate(database.url, { directory });
    const next = `${String(migrationFiles.length + 1).padStart(4, '0')}_audit_marker.sql`;
    writeFileSync(path.join(directory, next), 'CREATE TABLE accessweaver.audit_marker (id int);\n');

    const result = await migrate(database.url, { directory });
    expect(result).toEqual({ applied: [next], alreadyApplied: migrationFiles });
  });

  test('a failing file is rolled back whole and the files before it stay applied', async () => {
    const directory = copyOfMigrations();
    scratch.push(directory);
    const broken = `${String(migrationFiles.length + 1).padStart(4, '0')}_half_done.sql`;
    writeFileSync(path.join(directory, broken), 'CREATE TABLE accessweaver.half_done (id int);\nSELECT 1 / 0;\n');

    await expect(migrate(database.url, { directory })).rejects.toThrow(/half_done.*division by zero/s);
    expect(await tableExists(database.url, 'accessweaver.half_done')).toBe(false);
    expect(await tableExists(database.url, 'accessweaver.user_roles')).toBe(true);
  });

  test('a CRLF checkout of sql/ finds a database migrated from LF files up to date', async () => {
    const directory = crlfCopyOfMigrations();
    scratch.push(directory);
    await migrate(database.url);
    expect(await migrate(database.url, { directory })).toEqual({ applied: [], alreadyApplied: migrationFiles });
  });

  test('a CRLF checkout with a real change to an applied file is still refused', async () => {
    const directory = crlfCopyOfMigrations();
    scratch.push(directory);
    await migrate(database.url);
    appendFileSync(path.join(directory, migrationFiles[1]), 'SELECT 1;\r\n');
    await expect(migrate(database.url, { directory })).rejects.toBeInstanceOf(MigrationChecksumError);
  });

  test('a database whose ledger holds the hashes of CRLF files finds the LF checkout up to date', async () => {
    await migrate(database.url);
    // What a run from a CRLF checkout recorded before line endings were normalised: the library's
    // sha1 of the file name and the contents as read.
    await withConnection(database.url, async (client) => {
      for (const [index, name] of migrationFiles.entries()) {
        const crlf = withCrlf(readFileSync(path.join(MIGRATIONS_DIRECTORY, name), 'utf8'));
        const hash = createHash('sha1')
          .update(name + crlf, 'utf8')
          .digest('hex');
        await client.query('UPDATE migrations SET hash = $1 WHERE id = $2', [hash, index + 1]);
      }
    });
    expect(await migrate(database.url)).toEqual({ applied: [], alreadyApplied: migrationFiles });
  });

  test('a connection lost while a file runs is a ConnectionLostError naming it; the rerun applies it', async () => {
    const directory = copyOfMigrations();
    scratch.push(directory);
    const slow = `${String(migrationFiles.length + 1).padStart(4, '0')}_slow.sql`;
    writeFileSync(path.join(directory, slow), 'SELECT pg_sleep(30);\n');
    const running = migrate(database.url, { directory });
    await withConnection(database.url, async (admin) => {
      for (let tries = 0; tries < 400; tries += 1) {
        const { rows } = await admin.query(
          'SELECT pg_terminate_backend(pid) FROM (SELECT pid FROM pg_stat_activity ' +
            "WHERE datname = $1 AND query LIKE 'SELECT pg_sleep(30)%' OFFSET 0) found",
          [database.name],
        );
        if (rows.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    });
    const failure = await running.catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConnectionLostError);
    expect((failure as Error).message).toMatch(new RegExp(`^The database connection was lost while applying ${slow} `));

    writeFileSync(path.join(directory, slow), 'SELECT 1;\n');
    expect(await migrate(database.url, { directory })).toEqual({ applied: [slow], alreadyApplied: migrationFiles });
  });

  test('two concurrent runs apply each file exactly once', async () => {
    const [first, second] = await Promise.all([migrate(database.url), migrate(database.url)]);
    expect([...first.applied, ...second.applied].sort()).toEqual(migrationFiles);
  });
});

describe('sql/ files', () => {
  // A setup script ending with COMMIT outside any transaction leaves, on a failure half-way,
  // a half-built schema. Each file here is wrapped in a transaction by the runner and must not end it.
  test.each(migrationFiles)('%s leaves transaction control to the runner', (name) => {
    const code = readFileSync(path.join(MIGRATIONS_DIRECTORY, name), 'utf8')
      .replace(/\$\$[\s\S]*?\$\$/g, '') // function and DO bodies: their BEGIN/END are PL/pgSQL blocks
      .replace(/--.*$/gm, '');
    expect(code).not.toMatch(/\b(BEGIN|COMMIT|ROLLBACK|END|START\s+TRANSACTION|SAVEPOINT)\s*;/i);
  });

  // No login may be created with a known password such as 'CHANGE_ME_IN_PRODUCTION'.
  test.each(migrationFiles)('%s sets no password', (name) => {
    const code = readFileSync(path.join(MIGRATIONS_DIRECTORY, name), 'utf8').replace(/--.*$/gm, '');
    expect(code).not.toMatch(/\bPASSWORD\b/i);
  });
});
