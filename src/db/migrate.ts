/**
 * Applies the SQL migrations of `sql/` with postgres-migrations: files run in the order of their
 * numeric prefix, each in its own transaction, under a session advisory lock (concurrent runners
 * wait for each other); every applied file is recorded with a hash of its name and contents, and a
 * run refuses to start when an applied file has since changed.
 *
 * Then every file of `repeatable/` (sorted by name) runs again, on every run, each in its own
 * transaction: statements that re-assert state the numbered files cannot keep true by running once,
 * such as the limits of the login roles (roles are cluster-wide and may be changed after migrating).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { loadMigrationFiles, migrate as applyMigrations } from 'postgres-migrations';

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

export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const directory = options.directory ?? MIGRATIONS_DIRECTORY;
  const log = options.log ?? (() => undefined);
  // Validates names and consecutive numbering before anything touches the database.
  const files = (await loadMigrationFiles(directory)).filter((file) => file.id !== LEDGER_MIGRATION_ID);

  const client = new Client({ connectionString: databaseUrl });
  // A migration that skips work it may not do here (rds_iam outside RDS, pg_stat_statements without the right)
  // says so with a NOTICE: the log shows it, instead of pg dropping it.
  client.on('notice', (notice) => log(`notice: ${notice.message}`));
  await client.connect();
  try {
    let ranIds: ReadonlySet<number>;
    try {
      const ran = await applyMigrations({ client }, directory);
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
    await runRepeatable(client, directory, log);
    return result;
  } finally {
    await client.end();
  }
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

async function runRepeatable(client: Client, directory: string, log: (line: string) => void): Promise<void> {
  for (const name of repeatableFiles(directory)) {
    const sql = readFileSync(path.join(directory, REPEATABLE_DIRECTORY, name), 'utf8');
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
