/**
 * Applies the SQL migrations of `sql/` with postgres-migrations: files run in the order of their
 * numeric prefix, each in its own transaction, under a session advisory lock (concurrent runners
 * wait for each other); every applied file is recorded with a hash of its name and contents, and a
 * run refuses to start when an applied file has since changed.
 */
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
    return result;
  } finally {
    await client.end();
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
