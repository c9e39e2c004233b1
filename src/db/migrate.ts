/**
 * Applies the SQL migrations of `sql/` with postgres-migrations: files run in the order of their
 * numeric prefix, each in its own transaction, under a session advisory lock (concurrent runners
 * wait for each other); every applied file is recorded with a hash of its name and contents, and a
 * run refuses to start when an applied file has since changed.
 *
 * Then every file of `repeatable/` (sorted by name) runs again, on every run, each in its own
 * transaction: statements that re-assert state the numbered files cannot keep true by running once,
 * such as the limits of the login roles (roles are cluster-wide and may be changed after migrating).
 *
 * Any role may take an advisory lock, so a tenant-facing login could hold the library's and stall
 * every migration: the run takes that lock itself first, ending the sessions of logins that hold it.
 *
 * Line endings do not count as a change: a checkout with CRLF endings (Windows, core.autocrlf) runs and
 * hashes the files with LF endings, and a file applied from either kind of checkout matches the other.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { loadMigrationFiles, migrate as applyMigrations } from 'postgres-migrations';
import {
  ConnectionLostError,
  DatabaseUnreachableError,
  lostConnection,
  oneLine,
  watchConnection,
} from './connection-loss';

/** The repository's migrations. */
export const MIGRATIONS_DIRECTORY = path.resolve(__dirname, '..', '..', 'sql');

export interface MigrateOptions {
  /** Folder of `NNNN_name.sql` files; default: the repository's `sql/`. */
  directory?: string;
  log?: (line: string) => void;
}

export interface MigrateResult {
  /** File names applied by this run, in order. */
  applied: string[];
  /** File names that were already applied before this run, in order. */
  alreadyApplied: string[];
}

/** Folder of the files run on every migration, inside the migrations folder. */
export const REPEATABLE_DIRECTORY = 'repeatable';
// Serialises concurrent runners over the repeatable files (the library's own lock is released by then).
const REPEATABLE_LOCK_KEY = 4_281_937_105;
// The session advisory lock postgres-migrations takes (dist/with-lock.js of the version pinned in package.json).
export const MIGRATION_LOCK_KEY = '-8525285245963000605';
const LOCK_RETRY_MILLISECONDS = 1000;
// Backends of members of the two tenant-facing group roles holding the migration lock, ended (waiting up to 5 s
// for each to exit). Written for a database the migrations have not created the roles in yet.
const END_LOGIN_LOCK_HOLDERS = `
  WITH RECURSIVE members (oid) AS (
      SELECT m.member FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
       WHERE g.rolname IN ('application_role', 'readonly_role')
      UNION
      SELECT m.member FROM pg_catalog.pg_auth_members m JOIN members ON m.roleid = members.oid
  )
  SELECT a.pid, a.usename, pg_catalog.pg_terminate_backend(a.pid, 5000) AS ended
    FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
     AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
     AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint
     AND a.usesysid IN (SELECT oid FROM members)`;

/** An applied migration file no longer matches what was applied. */
export class MigrationChecksumError extends Error {
  constructor(readonly files: readonly string[]) {
    super(
      `Refusing to migrate: ${files.join(', ')} ${files.length === 1 ? 'was' : 'were'} changed after being applied ` +
        `to this database (checksum mismatch). Applied migrations are immutable: restore the original file ` +
        `and put the change in a new migration.`,
    );
    this.name = 'MigrationChecksumError';
  }
}

// postgres-migrations numbers its own ledger table (`migrations`) as migration 0.
const LEDGER_MIGRATION_ID = 0;
// The library's wording, pinned by the exact version in package.json and by test/db/migrate.test.ts.
const CHANGED_HASH_MESSAGE = /Hashes don't match for migrations '([^']*)'/;

type MigrationFile = Awaited<ReturnType<typeof loadMigrationFiles>>[number];

export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const directory = options.directory ?? MIGRATIONS_DIRECTORY;
  const log = options.log ?? (() => undefined);
  // Validates names and consecutive numbering before anything touches the database.
  const files = (await loadMigrationFiles(directory)).filter((file) => file.id !== LEDGER_MIGRATION_ID);

  const client = new Client({ connectionString: databaseUrl });
  // A connection dropping between two statements emits 'error'; unheard, it would end the process.
  const connection = watchConnection(client);
  // A migration that skips work it may not do here (rds_iam outside RDS, pg_stat_statements without the right)
  // says so with a NOTICE: the log shows it, instead of pg dropping it.
  client.on('notice', (notice) => log(`notice: ${notice.message}`));
  try {
    await client.connect();
  } catch (error) {
    connection.stop();
    throw new DatabaseUnreachableError(`Cannot connect to the database: ${oneLine(error)}`, { cause: error });
  }
  const progress = { step: 'waiting for the migration lock' };
  const staged = mkdtempSync(path.join(os.tmpdir(), 'accessweaver-migrations-'));
  try {
    await takeMigrationLock(client, log);
    progress.step = 'reading the applied migrations';
    await stageMigrations(client, files, staged);
    let ranIds: ReadonlySet<number>;
    try {
      const ran = await applyMigrations({ client }, staged, { logger: trackStep(files, progress) });
      ranIds = new Set(ran.map((migration) => migration.id));
    } catch (error) {
      throw explain(error);
    }
    const result: MigrateResult = {
      applied: files.filter((file) => ranIds.has(file.id)).map((file) => file.fileName),
      alreadyApplied: files.filter((file) => !ranIds.has(file.id)).map((file) => file.fileName),
    };
    for (const name of result.alreadyApplied) log(`already applied ${name}`);
    for (const name of result.applied) log(`applied ${name}`);
    await runRepeatable(client, directory, log, progress);
    return result;
  } catch (error) {
    const lost = await lostConnection(client, connection, error);
    if (lost === undefined) throw error;
    throw new ConnectionLostError(`The database connection was lost while ${progress.step} (${oneLine(lost)})`, {
      cause: error,
    });
  } finally {
    rmSync(staged, { recursive: true, force: true });
    await client.end().catch(() => undefined);
    connection.stop();
  }
}

/**
 * Takes the library's lock on this session before the library does (session advisory locks stack, so its own
 * attempt then succeeds at once), ending login sessions that hold it; another runner holding it is waited for, as
 * the library would. Held until the connection closes, over the repeatable files too.
 */
async function takeMigrationLock(client: Client, log: (line: string) => void): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
      MIGRATION_LOCK_KEY,
    ]);
    if (rows[0].locked) return;
    const ended = await client.query<{ pid: number; usename: string }>(END_LOGIN_LOCK_HOLDERS, [MIGRATION_LOCK_KEY]);
    for (const holder of ended.rows)
      log(`ended backend ${holder.pid} of ${holder.usename}: it held the migration lock`);
    if (ended.rows.length === 0) await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MILLISECONDS));
  }
}

const sha1 = (text: string) => createHash('sha1').update(text, 'utf8').digest('hex');
const withLf = (text: string) => text.replace(/\r\n/g, '\n');

/**
 * Writes each file to `staged` as postgres-migrations will hash and run it: an applied file in the
 * line endings whose hash the ledger holds (as it is when none matches, so a real change is still
 * refused), a file not yet applied with LF endings. The library's own hash is sha1(file name + contents).
 */
async function stageMigrations(client: Client, files: readonly MigrationFile[], staged: string): Promise<void> {
  const ledger = new Map<number, string>();
  const { rows } = await client.query<{ present: boolean }>("SELECT to_regclass('migrations') IS NOT NULL AS present");
  if (rows[0].present) {
    const applied = await client.query<{ id: number; hash: string }>('SELECT id, hash FROM migrations');
    for (const row of applied.rows) ledger.set(row.id, row.hash);
  }
  for (const file of files) {
    const lf = withLf(file.contents);
    const recorded = ledger.get(file.id);
    const contents =
      recorded === undefined
        ? lf
        : ([lf, lf.replace(/\n/g, '\r\n'), file.contents].find((c) => sha1(file.fileName + c) === recorded) ??
          file.contents);
    writeFileSync(path.join(staged, file.fileName), contents);
  }
}

/** Follows the library's log lines to name what it was doing (for a lost connection's message). */
function trackStep(files: readonly MigrationFile[], progress: { step: string }): (line: string) => void {
  return (line) => {
    const started = /^Starting migration: (\d+) /.exec(line);
    if (started) {
      const file = files.find((f) => f.id === Number(started[1]));
      progress.step = `applying ${file?.fileName ?? `migration ${started[1]}`}`;
    } else if (line.startsWith('Acquiring advisory lock')) {
      progress.step = 'waiting for the migration lock';
    } else if (line === 'Starting migrations') {
      progress.step = 'reading the applied migrations';
    }
  };
}

/** Names of the `repeatable/` files of `directory`, sorted; none when the folder does not exist. */
export function repeatableFiles(directory: string): string[] {
  try {
    return readdirSync(path.join(directory, REPEATABLE_DIRECTORY))
      .filter((name) => name.endsWith('.sql'))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function runRepeatable(
  client: Client,
  directory: string,
  log: (line: string) => void,
  progress: { step: string },
): Promise<void> {
  for (const name of repeatableFiles(directory)) {
    const sql = withLf(readFileSync(path.join(directory, REPEATABLE_DIRECTORY, name), 'utf8'));
    progress.step = `re-asserting ${REPEATABLE_DIRECTORY}/${name}`;
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [REPEATABLE_LOCK_KEY]);
      await client.query(sql);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new Error(`${REPEATABLE_DIRECTORY}/${name} failed: ${(error as Error).message}`, { cause: error });
    }
    log(`re-asserted ${REPEATABLE_DIRECTORY}/${name}`);
  }
}

function explain(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(`Migration failed: ${String(error)}`);
  const changed = CHANGED_HASH_MESSAGE.exec(error.message);
  if (changed) {
    const checksumError = new MigrationChecksumError(changed[1].split(','));
    checksumError.cause = error;
    return checksumError;
  }
  return error;
}
