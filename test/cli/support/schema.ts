import { Client } from 'pg';
import { migrate } from '../../../src/db/migrate';

/** Applies the project's migrations (sql/) to `url` with the project's own runner. */
export async function applyMigrations(url: string): Promise<void> {
  await migrate(url);
}

/** Runs statements as the test server's superuser against `url` (fixtures, not code under test). */
export async function execute(url: string, ...statements: readonly string[]): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function queryRows<T extends object>(
  url: string,
  sql: string,
  params: readonly unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<T>(sql, [...params]);
    return rows;
  } finally {
    await client.end();
  }
}
