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
  // The AWS SDK's documented switch for its multi-line notice that releases after January 2027 need Node.js 22: one
  // per test file on Node.js 20, where the README says it once. Workers inherit it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Worker processes inherit this; test/support/database.ts reads it.
  process.env.ACCESSWEAVER_TEST_ADMIN_URL = server.adminUrl;
}
