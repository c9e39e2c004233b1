import { existsSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { Client, types } from 'pg';
import { describeInstance, readSecretJson, secretString } from './aws';
import type { AwsClients } from './context';
import { failedError, unavailableError, usageError } from './exit-codes';
import { resolveTarget, type TargetOptions } from './target';

/**
 * Which login a connection resolved from the module's secrets uses:
 * - master: the RDS-managed master user (owner of the schema: VACUUM, REINDEX, migrations, and
 *   member of rds_superuser, hence of pg_read_all_stats, so it sees every session's query text);
 * - app: the application login (what the services connect as: the health check's connection test);
 * - readonly: the read-only login (reports that need no privilege: monitoring).
 */
export type Login = 'master' | 'app' | 'readonly';
export const LOGINS: readonly Login[] = ['master', 'app', 'readonly'];

/** The options of every command that runs SQL: where to connect, how to verify TLS, and as which login. */
export function sqlOptions(command: Command, defaultLogin: Login): Command {
  return command
    .option('--database-url <url>', 'connect to this URL (also DATABASE_URL) instead of resolving through the secrets')
    .option('--ca-bundle <file>', 'RDS CA bundle for TLS verification (also PGSSLROOTCERT)')
    .addOption(new Option('--login <login>', 'login resolved from the secrets').choices(LOGINS).default(defaultLogin));
}

export interface ConnectionOptions extends TargetOptions {
  readonly databaseUrl?: string;
  readonly caBundle?: string;
  readonly region?: string;
}

export interface ResolvedConnection {
  /** Connection string with credentials and TLS parameters; never printed. */
  readonly url: string;
  /** What the operator sees: user, host, port, database and TLS mode; no password. */
  readonly display: string;
  readonly source: 'url' | 'secrets';
}

/** The RDS CA bundle file: --ca-bundle, else PGSSLROOTCERT (libpq's variable for the same thing). */
export function resolveCaBundle(
  caBundle: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const file = caBundle ?? env.PGSSLROOTCERT;
  if (file === undefined || file === '') {
    throw usageError(
      'The RDS instance requires TLS (rds.force_ssl = 1) and the CLI verifies the server certificate: pass --ca-bundle <file> ' +
        'or set PGSSLROOTCERT to the RDS CA bundle (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem), ' +
        'or give --database-url with your own sslmode/sslrootcert.',
    );
  }
  const absolute = path.resolve(file);
  if (!existsSync(absolute)) throw usageError(`CA bundle ${absolute} does not exist.`);
  return absolute;
}

/** Builds the connection string for a server found through AWS: TLS verify-full against the bundle. */
export function rdsConnectionUrl(parts: {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly caBundle: string;
}): string {
  const url = new URL('postgres://localhost');
  url.hostname = parts.host;
  url.port = String(parts.port);
  url.pathname = `/${encodeURIComponent(parts.database)}`;
  url.username = encodeURIComponent(parts.user);
  url.password = encodeURIComponent(parts.password);
  url.searchParams.set('sslmode', 'verify-full');
  url.searchParams.set('sslrootcert', parts.caBundle);
  return url.toString();
}

/** user@host:port/database (plus sslmode), for messages: the password never appears. */
export function describeUrl(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const sslmode = url.searchParams.get('sslmode');
    const user = decodeURIComponent(url.username);
    return `${user === '' ? '' : `${user}@`}${url.hostname}${url.port === '' ? '' : `:${url.port}`}${decodeURIComponent(url.pathname)}${
      sslmode === null ? '' : ` (sslmode=${sslmode})`
    }`;
  } catch {
    return '(unparseable connection string)';
  }
}

/**
 * Where SQL goes: --database-url, else DATABASE_URL, else the module's secrets for `login` on the
 * environment's primary. Everything is resolved before any connection is made.
 */
export async function resolveConnection(
  options: ConnectionOptions,
  login: Login,
  deps: {
    readonly aws: (region: string | undefined) => AwsClients;
    readonly env: Readonly<Record<string, string | undefined>>;
  },
): Promise<ResolvedConnection> {
  const explicit = options.databaseUrl ?? deps.env.DATABASE_URL;
  if (explicit !== undefined && explicit !== '') {
    if (!/^postgres(ql)?:\/\//.test(explicit))
      throw usageError('The database URL must start with postgres:// or postgresql://.');
    return { url: explicit, display: describeUrl(explicit), source: 'url' };
  }
  if (options.env === undefined) {
    throw usageError(
      "No database to connect to: give --database-url (or set DATABASE_URL), or --env to use the module's secrets.",
    );
  }
  const target = resolveTarget(options);
  const caBundle = resolveCaBundle(options.caBundle, deps.env);
  const clients = deps.aws(options.region);
  if (login === 'master') {
    const instance = await describeInstance(clients.rds, target.primaryIdentifier);
    const secretArn = instance.MasterUserSecret?.SecretArn;
    if (secretArn === undefined) {
      throw unavailableError(
        `${target.primaryIdentifier} has no RDS-managed master user secret (MasterUserSecret is empty).`,
      );
    }
    const host = instance.Endpoint?.Address;
    const port = instance.Endpoint?.Port;
    if (host === undefined || port === undefined) {
      throw unavailableError(
        `${target.primaryIdentifier} has no endpoint yet (status ${instance.DBInstanceStatus ?? 'unknown'}).`,
      );
    }
    if (instance.DBName === undefined)
      throw failedError(`${target.primaryIdentifier} reports no initial database name (DBName).`);
    // The managed secret holds only username and password; the address and the database name come
    // from the instance itself (this secret has no `dbname` key).
    const secret = await readSecretJson(clients.secrets, secretArn, 'master credentials');
    const user = secretString(secret, 'username', secretArn);
    const url = rdsConnectionUrl({
      host,
      port,
      database: instance.DBName,
      user,
      password: secretString(secret, 'password', secretArn),
      caBundle,
    });
    return { url, display: describeUrl(url), source: 'secrets' };
  }
  const secretName = login === 'app' ? target.appSecretName : target.readonlySecretName;
  const secret = await readSecretJson(clients.secrets, secretName, `${login} credentials`);
  const port = Number(secret.port);
  if (!Number.isInteger(port) || port <= 0) throw failedError(`Secret ${secretName} has no valid 'port'.`);
  const url = rdsConnectionUrl({
    host: secretString(secret, 'host', secretName),
    port,
    database: secretString(secret, 'dbname', secretName),
    user: secretString(secret, 'username', secretName),
    password: secretString(secret, 'password', secretName),
    caBundle,
  });
  return { url, display: describeUrl(url), source: 'secrets' };
}

// Counts and sizes arrive as int8/numeric, which pg returns as strings; as numbers they stay exact
// below 2^53, far above any row count or byte size these reports show, and print cleanly in JSON.
const NUMERIC_OIDS = new Set([20, 1700]);
const numericTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    NUMERIC_OIDS.has(oid) && format !== 'binary'
      ? (value: string) => Number(value)
      : types.getTypeParser(oid, format ?? 'text')) as typeof types.getTypeParser,
};

/** Connects, runs `work`, disconnects. A failed connection is exit code 4 with the reason. */
export async function withDatabase<T>(
  connection: ResolvedConnection,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({
    connectionString: connection.url,
    connectionTimeoutMillis: 10_000,
    application_name: 'accessweaver-rds',
    types: numericTypes,
  });
  // An idle client that loses its server emits 'error'; without a listener that would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    const message = (error as Error).message || (error as { code?: string }).code || String(error);
    throw unavailableError(`Cannot connect to ${connection.display}: ${message}`);
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
