/**
 * A PostgreSQL 15 server with pgaudit, for the tests that read the server log: Debian's `postgresql-15`,
 * `postgresql-15-pgaudit` (the embedded server has no pgaudit) and `postgresql-15-cron` (the parameter group
 * preloads pg_cron). Started per suite with the settings the suite
 * gives (the module's parameter values), logging to a file the suite reads. As root it runs as the `postgres`
 * user (PostgreSQL refuses root), in a directory under TMPDIR that user can enter.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Token } from 'cdktf';
import type { DatabaseParameter } from '../../src/rds/parameters';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const reach = require('../../src/db/embedded/postgres-reach.cjs') as {
  serverUser(): { name: string; uid: number | undefined; gids: number[] } | null;
  firstBlockedDirectory(target: string, user: { uid: number | undefined; gids: number[] }): string | undefined;
};

export const PGAUDIT_SERVER_BIN = process.env.ACCESSWEAVER_PG15_BIN ?? '/usr/lib/postgresql/15/bin';

/** Why the pgaudit server cannot run here (one line), or undefined when it can. */
export function pgauditServerUnavailableReason(): string | undefined {
  const install = 'apt-get install postgresql-15 postgresql-15-pgaudit (as root on Debian; .ci/run does)';
  if (!existsSync(path.join(PGAUDIT_SERVER_BIN, 'postgres'))) {
    return `no PostgreSQL 15 server in ${PGAUDIT_SERVER_BIN}: ${install}`;
  }
  const libraries = execFileSync(path.join(PGAUDIT_SERVER_BIN, 'pg_config'), ['--pkglibdir'], { encoding: 'utf8' });
  if (!existsSync(path.join(libraries.trim(), 'pgaudit.so'))) return `pgaudit is not installed: ${install}`;
  if (!existsSync(path.join(libraries.trim(), 'pg_cron.so'))) {
    return 'pg_cron is not installed: apt-get install postgresql-15-cron (as root on Debian; .ci/run does)';
  }
  const user = reach.serverUser();
  if (user?.uid === undefined && user !== null) return "running as root but there is no 'postgres' user to run it";
  const blocked = user && reach.firstBlockedDirectory(os.tmpdir(), user);
  if (blocked) return `user '${user.name}' cannot enter ${blocked}: set TMPDIR to a directory it can reach`;
  return undefined;
}

/**
 * The parameters of a parameter group a stock PostgreSQL understands, as `name = 'value'` settings: literal values
 * only (RDS formulas such as {DBInstanceClassMemory/32768} and Terraform expressions are left out) and no `rds.*`.
 */
export function serverSettings(parameters: readonly DatabaseParameter[]): Record<string, string> {
  const literal = parameters.filter(
    (p) => !p.name.startsWith('rds.') && !Token.isUnresolved(p.value) && !p.value.includes('{'),
  );
  return Object.fromEntries(literal.map((p) => [p.name, p.value]));
}

export interface PgauditServer {
  readonly adminUrl: string;
  /** The server log so far. */
  log(): string;
  stop(): void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startPgauditServer(settings: Readonly<Record<string, string>>): Promise<PgauditServer> {
  const user = reach.serverUser();
  const directory = mkdtempSync(path.join(os.tmpdir(), 'accessweaver-pgaudit-'));
  if (user?.uid !== undefined) chownSync(directory, user.uid, user.gids[0]);
  const asServerUser = (command: string, args: string[]) => {
    const [file, argv] = user ? ['runuser', ['-u', user.name, '--', command, ...args]] : [command, args];
    const result = spawnSync(file, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.stdout}`);
  };
  const data = path.join(directory, 'data');
  const logFile = path.join(directory, 'server.log');
  const port = await freePort();
  asServerUser(path.join(PGAUDIT_SERVER_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const lines = Object.entries({ ...settings, listen_addresses: '127.0.0.1', port: String(port) }).map(
    ([name, value]) => `${name} = '${value.replace(/'/g, "''")}'\n`,
  );
  appendFileSync(path.join(data, 'postgresql.conf'), lines.join(''));
  asServerUser(path.join(PGAUDIT_SERVER_BIN, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    logFile,
    '-w',
    '-o',
    `-k ${directory}`,
    'start',
  ]);
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    log: () => readFileSync(logFile, 'utf8'),
    stop: () => {
      try {
        asServerUser(path.join(PGAUDIT_SERVER_BIN, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    },
  };
}
