/**
 * A throwaway PgBouncer in transaction mode in front of one database, for the RLS bench: consecutive transactions
 * of a client may run on different server connections, statements are unnamed (PgBouncer before 1.21 does not
 * carry prepared statements), and row_security is forced on by the pooled database's connect_query, as
 * docs/database.md tells deployments to do. Debian's PgBouncer (/usr/sbin/pgbouncer); as root it runs as the
 * `postgres` user, since PgBouncer refuses to run as root.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const PGBOUNCER_BINARY = '/usr/sbin/pgbouncer';

export interface Pgbouncer {
  /** `url` with its host and port replaced by PgBouncer's. */
  readonly through: (url: string) => string;
  readonly stop: () => Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}; see ${log}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`pgbouncer did not listen on ${port}; see ${log}`);
}

/**
 * Starts PgBouncer for the database of `serverUrl`, knowing the given logins (plain passwords in its auth file,
 * which it also uses to log in to the server).
 *
 * @param poolSize server connections per login: below the clients' count, so that transactions share them
 */
export async function startPgbouncer(
  serverUrl: string,
  logins: ReadonlyArray<{ user: string; password: string }>,
  poolSize: number,
): Promise<Pgbouncer> {
  const server = new URL(serverUrl);
  const database = server.pathname.slice(1);
  const directory = mkdtempSync(path.join(os.tmpdir(), 'aw-pgbouncer-'));
  const port = await freePort();
  const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;
  writeFileSync(
    path.join(directory, 'users.txt'),
    logins.map((l) => `${quote(l.user)} ${quote(l.password)}`).join('\n'),
  );
  const log = path.join(directory, 'pgbouncer.log');
  writeFileSync(
    path.join(directory, 'pgbouncer.ini'),
    [
      '[databases]',
      `${database} = host=${server.hostname} port=${server.port || '5432'} dbname=${database} ` +
        "connect_query='SET row_security = on'",
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = plain',
      `auth_file = ${path.join(directory, 'users.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${poolSize}`,
      'max_client_conn = 200',
      // Clients may send options (row_security); the pooled database sets it itself.
      'ignore_startup_parameters = options',
      `logfile = ${log}`,
      `pidfile = ${path.join(directory, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  const asRoot = os.userInfo().uid === 0;
  if (asRoot) {
    const postgres = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(directory, postgres, -1);
    for (const file of ['users.txt', 'pgbouncer.ini']) chownSync(path.join(directory, file), postgres, -1);
    chmodSync(directory, 0o700);
  }
  const args = [...(asRoot ? ['-u', 'postgres'] : []), path.join(directory, 'pgbouncer.ini')];
  const child = spawn(PGBOUNCER_BINARY, args, { stdio: 'ignore' });
  try {
    await waitForPort(port, child, log);
  } catch (error) {
    child.kill();
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    through: (url) => {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export function hasPgbouncer(): boolean {
  return existsSync(PGBOUNCER_BINARY);
}
