/**
 * Debian's PgBouncer (1.18 on Debian 12) in front of a test PostgreSQL (or the RLS bench's), run with the
 * configuration the product ships (config/pgbouncer/pgbouncer.ini) and only test values substituted: the listening
 * port, the auth file, the pool size, the server's address, and TLS off on both sides (the test servers have no
 * certificates). Every other
 * setting (transaction pooling, the reset between clients, the ignored startup parameters) is the shipped one.
 * PgBouncer refuses to run as root: as root it runs as the `postgres` user, like the test servers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './pgaudit-server';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const reach = require('../../src/db/embedded/postgres-reach.cjs') as {
  serverUser(): { name: string; uid: number | undefined; gids: number[] } | null;
  firstBlockedDirectory(target: string, user: { uid: number | undefined; gids: number[] }): string | undefined;
};

export const PGBOUNCER_BIN = process.env.ACCESSWEAVER_PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';
export const PGBOUNCER_CONFIG = path.resolve(__dirname, '../../config/pgbouncer/pgbouncer.ini');
/** The database name clients use: the one entry of the shipped [databases] section. */
export const PGBOUNCER_DATABASE = 'accessweaver';

/** Why PgBouncer cannot run here (one line), or undefined when it can. */
export function pgbouncerUnavailableReason(): string | undefined {
  if (!existsSync(PGBOUNCER_BIN)) {
    return `no PgBouncer at ${PGBOUNCER_BIN}: apt-get install pgbouncer (as root on Debian; .ci/run does)`;
  }
  const user = reach.serverUser();
  if (user !== null && user.uid === undefined) return "running as root but there is no 'postgres' user to run it";
  const blocked = user && reach.firstBlockedDirectory(os.tmpdir(), user);
  if (blocked) return `user '${user.name}' cannot enter ${blocked}: set TMPDIR to a directory it can reach`;
  return undefined;
}

export interface PgBouncerOptions {
  /** URL of the database PgBouncer forwards to (host, port and database name are taken from it). */
  readonly serverUrl: string;
  /** Logins clients may sign in as, with their passwords (PgBouncer uses them for the server too). */
  readonly logins: Readonly<Record<string, string>>;
  /** Server connections per login and database. @default 1 */
  readonly poolSize?: number;
  /** Further `[pgbouncer]` settings to replace; each must exist in the shipped file (a test breaking one). */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface PgBouncer {
  readonly port: number;
  /** A client URL for `login` through PgBouncer. */
  url(login: string, password: string): string;
  /** What PgBouncer has logged so far. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * The shipped configuration with `settings` replaced in [pgbouncer] and the fill-in values of [databases]
 * substituted. Throws when a setting to replace is not in the file, so a test never runs a setting the product
 * does not ship.
 */
export function renderConfig(shipped: string, server: URL, settings: Readonly<Record<string, string>>): string {
  const unused = new Set(Object.keys(settings));
  const rendered = shipped
    .replaceAll('@PRIMARY_ADDRESS@', server.hostname)
    .replaceAll('@DATABASE_PORT@', server.port || '5432')
    .replaceAll('@DATABASE_NAME@', server.pathname.slice(1))
    .split('\n')
    .map((line) => {
      const name = /^\s*([a-z_]+)\s*=/.exec(line)?.[1];
      if (name === undefined || !(name in settings)) return line;
      unused.delete(name);
      return `${name} = ${settings[name]}`;
    })
    .join('\n');
  if (unused.size > 0) throw new Error(`not in ${PGBOUNCER_CONFIG}: ${[...unused].join(', ')}`);
  return rendered;
}

function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        reject(new Error(`pgbouncer exited with ${child.exitCode}: ${output()}`));
        return;
      }
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`pgbouncer did not listen on ${port}: ${output()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const user = reach.serverUser();
  const directory = mkdtempSync(path.join(os.tmpdir(), 'accessweaver-pgbouncer-'));
  const port = await freePort();
  const authFile = path.join(directory, 'userlist.txt');
  const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;
  writeFileSync(
    authFile,
    Object.entries(options.logins)
      .map(([login, password]) => `${quote(login)} ${quote(password)}\n`)
      .join(''),
    { mode: 0o600 },
  );
  const config = renderConfig(readFileSync(PGBOUNCER_CONFIG, 'utf8'), new URL(options.serverUrl), {
    listen_addr: '127.0.0.1',
    listen_port: String(port),
    auth_file: authFile,
    default_pool_size: String(options.poolSize ?? 1),
    server_tls_sslmode: 'disable',
    server_tls_ca_file: '',
    client_tls_sslmode: 'disable',
    client_tls_key_file: '',
    client_tls_cert_file: '',
    ...options.settings,
  });
  const configFile = path.join(directory, 'pgbouncer.ini');
  writeFileSync(configFile, config, { mode: 0o600 });
  if (user?.uid !== undefined) {
    for (const file of [directory, authFile, configFile]) chownSync(file, user.uid, user.gids[0]);
  }
  let output = '';
  const child = spawn(PGBOUNCER_BIN, [configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user?.uid !== undefined ? { uid: user.uid, gid: user.gids[0] } : {}),
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A test process that ends without stop() (a crash, a timeout) takes its PgBouncer with it.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    url: (login, password) =>
      `postgres://${encodeURIComponent(login)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${PGBOUNCER_DATABASE}`,
    log: () => output,
    stop,
  };
}
