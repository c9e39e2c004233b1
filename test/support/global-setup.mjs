import { startPostgres } from '../../src/db/embedded/postgres-server.mjs';

export default async function globalSetup() {
  let server;
  try {
    server = await startPostgres();
  } catch (error) {
    // A cause the run cannot fix (see postgres-reach.cjs): one line instead of Jest's stack trace.
    if (error?.name !== 'PostgresUnavailable') throw error;
    console.error(`\n${error.message}`);
    process.exit(1);
  }
  globalThis.__ACCESSWEAVER_PG__ = server;
  // Worker processes inherit this; test/support/database.ts reads it.
  process.env.ACCESSWEAVER_TEST_ADMIN_URL = server.adminUrl;
}
