import { startPostgres } from './postgres-server.mjs';

export default async function globalSetup() {
  const server = await startPostgres();
  globalThis.__ACCESSWEAVER_PG__ = server;
  // Worker processes inherit this; test/support/database.ts reads it.
  process.env.ACCESSWEAVER_TEST_ADMIN_URL = server.adminUrl;
}
