import { existsSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { Client, types } from 'pg';
import { lostConnection, oneLine, watchConnection } from '../db/connection-loss';
import { TENANT_CONNECTION_OPTIONS } from '../db/tenant-context';
import { IAM_OPERATOR_LOGIN } from '../config/environments';
import { readSecretJson, secretString } from './aws';
import { openDatabase } from './database';
import type { DatabaseState } from './engine';
import type { AwsClients, CliDeps, IamAuthTokenSigner } from './context';
import { failedError, unavailableError, usageError } from './exit-codes';
import type { Reporter } from './output';
import { resolveTarget, type TargetOptions } from './target';

/**
 * Which login a connection resolved through AWS uses:
 * - operator: accessweaver_iam_operator with an IAM authentication token signed by the caller's own
 *   AWS identity (acts as accessweaver_operator, reads statistics through pg_monitor): the default;
 * - master: the RDS-managed master user from its secret (owner of the schema: migrations, VACUUM,
 *   REINDEX): only for setup-database and, with --master-secret, for break-glass;
 * - app: the application login (what the auth service connects as), from its secret;
 * - readonly: the read-only login (what the decision point connects as), from its secret.
 */
export type Login = 'operator' | 'master' | 'app' | 'readonly';
/** Logins `--login` accepts; the master user is reached only through `--master-secret`. */
export const LOGINS: readonly Login[] = ['operator', 'app', 'readonly'];

/** The options of every command that runs SQL: where to connect, how to verify TLS, and as which login. */
export function sqlOptions(command: Command, defaultLogin: Login): Command {
  return command
    .option('--database-url <url>', 'connect to this URL (also DATABASE_URL) instead of resolving through AWS')
    .option('--ca-bundle <file>', 'RDS CA bundle for TLS verification (also PGSSLROOTCERT)')
    .addOption(
      new Option('--login <login>', 'login: operator (IAM token), app or readonly (their secrets)')
        .choices(LOGINS)
        .default(defaultLogin),
    )
    .option('--master-secret', MASTER_SECRET_HELP);
}

export interface ConnectionOptions extends TargetOptions {
  readonly databaseUrl?: string;
  readonly caBundle?: string;
  readonly region?: string;
}

/** The options of a SQL command: `--login`, and `--master-secret` for break-glass. */
export interface LoginOptions {
  readonly login: Login;
  readonly masterSecret?: boolean;
}

/** The login a command's options select: `--master-secret` wins over `--login`. */
export function chosenLogin(options: LoginOptions): Login {
  return options.masterSecret === true ? 'master' : options.login;
}

export const MASTER_SECRET_HELP =
  'break-glass: connect as the master user with the RDS-managed master secret instead of an IAM token';

export interface ResolvedConnection {
  /** Connection string with credentials and TLS parameters; never printed. */
  readonly url: string;
  /** What the operator sees: user, host, port, database and TLS mode; no password. */
  readonly display: string;
  /** A URL given, a secret read, or an IAM token signed. */
  readonly source: 'url' | 'secrets' | 'iam';
}

/**
 * The RDS CA bundle file: --ca-bundle, else PGSSLROOTCERT (libpq's variable for the same thing). `urlAccepted`: the
 * command also takes --database-url, so the hint offers it (restore-drill connects only to the instance it made).
 */
export function resolveCaBundle(
  caBundle: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  urlAccepted = true,
): string {
  const file = caBundle ?? env.PGSSLROOTCERT;
  if (file === undefined || file === '') {
    throw usageError(
      'The RDS instance requires TLS (rds.force_ssl = 1) and the CLI verifies the server certificate: pass ' +
        '--ca-bundle <file> ' +
        'or set PGSSLROOTCERT to the RDS CA bundle ' +
        '(https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)' +
        (urlAccepted ? ', or give --database-url with your own sslmode/sslrootcert.' : '.'),
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
    return (
      `${user === '' ? '' : `${user}@`}${url.hostname}${url.port === '' ? '' : `:${url.port}`}` +
      `${decodeURIComponent(url.pathname)}${sslmode === null ? '' : ` (sslmode=${sslmode})`}`
    );
  } catch {
    return '(unparseable connection string)';
  }
}

/**
 * Where SQL goes: --database-url, else DATABASE_URL, else `login` on the environment's primary (an
 * IAM token for the operator, a secret otherwise). Everything is resolved before any connection is made.
 */
export async function resolveConnection(
  options: ConnectionOptions,
  login: Login,
  deps: {
    readonly aws: (region: string | undefined) => AwsClients;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly iamAuthToken: IamAuthTokenSigner;
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
  if (login === 'operator' || login === 'master') {
    const state = await openDatabase(target, options.region, deps).describe();
    const endpoint = writerEndpoint(state);
    const credentials =
      login === 'operator'
        ? await iamCredentials(state, endpoint, options.region, deps.iamAuthToken)
        : await masterCredentials(state, clients);
    const url = rdsConnectionUrl({ ...endpoint, ...credentials, caBundle });
    return { url, display: describeUrl(url), source: login === 'operator' ? 'iam' : 'secrets' };
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

interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/** The writer's own address, port and initial database (the managed secret holds none of them). */
function writerEndpoint(state: DatabaseState): Endpoint {
  const { identifier, writer } = state;
  if (writer === undefined) {
    throw unavailableError(`${identifier} has no endpoint yet (status ${state.status}).`);
  }
  if (state.databaseName === undefined) {
    throw failedError(`${identifier} reports no initial database name (DBName).`);
  }
  return { ...writer, database: state.databaseName };
}

/**
 * A token for accessweaver_iam_operator, signed locally with the caller's credentials (no AWS call;
 * RDS checks it and the caller's `rds-db:connect` permission at login). Valid 15 minutes.
 */
async function iamCredentials(
  state: DatabaseState,
  endpoint: Endpoint,
  region: string | undefined,
  sign: IamAuthTokenSigner,
): Promise<{ user: string; password: string }> {
  if (state.iamAuthentication === false) {
    throw failedError(
      `${state.identifier} has IAM database authentication off: apply the module ` +
        '(it enables it on every instance), or connect with --master-secret (break-glass).',
    );
  }
  const token = await sign({ hostname: endpoint.host, port: endpoint.port, username: IAM_OPERATOR_LOGIN, region });
  return { user: IAM_OPERATOR_LOGIN, password: token };
}

async function masterCredentials(
  state: DatabaseState,
  clients: AwsClients,
): Promise<{ user: string; password: string }> {
  const secretArn = state.masterSecretArn;
  if (secretArn === undefined) {
    throw unavailableError(`${state.identifier} has no RDS-managed master user secret (MasterUserSecret is empty).`);
  }
  const secret = await readSecretJson(clients.secrets, secretArn, 'master credentials');
  return { user: secretString(secret, 'username', secretArn), password: secretString(secret, 'password', secretArn) };
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

/** The options of a command that runs SQL as one of the logins (sqlOptions). */
export type SqlCommandOptions = ConnectionOptions & LoginOptions;

/**
 * Refuses, before any AWS call, an operation only the owner of the objects (the master user) may run, unless
 * --master-secret or a URL of the operator's choosing says who connects. `what` ends the sentence's subject.
 */
export function requireOwner(options: SqlCommandOptions, env: CliDeps['env'], what: string): void {
  const url = options.databaseUrl ?? env.DATABASE_URL;
  if (chosenLogin(options) !== 'master' && (url === undefined || url === '')) {
    throw usageError(`${what}, the master user: run it with --master-secret, or give --database-url.`);
  }
}

/** Resolves the connection as `login` (by default the one the options choose) and says where it goes. */
export async function connectAs(
  options: SqlCommandOptions,
  deps: Parameters<typeof resolveConnection>[2],
  reporter: Pick<Reporter, 'progress'>,
  login: Login = chosenLogin(options),
): Promise<ResolvedConnection> {
  const connection = await resolveConnection(options, login, deps);
  reporter.progress(`Connecting to ${connection.display}`);
  return connection;
}

/** Connects, runs `work`, disconnects. A failed connection is exit code 4 with the reason. */
export async function withDatabase<T>(
  connection: ResolvedConnection,
  work: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({
    connectionString: connection.url,
    connectionTimeoutMillis: 10_000,
    application_name: 'accessweaver-rds',
    // Whatever a login stored for itself, row-level security stays on (docs/database.md).
    options: TENANT_CONNECTION_OPTIONS,
    types: numericTypes,
  });
  // A client that loses its server emits 'error'; without a listener that would crash the process.
  const watch = watchConnection(client);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    watch.stop();
    const message = (error as Error).message || (error as { code?: string }).code || String(error);
    throw unavailableError(`Cannot connect to ${connection.display}: ${message}`);
  }
  try {
    return await work(client);
  } catch (error) {
    const lost = await lostConnection(client, watch, error);
    if (lost === undefined) throw error;
    // The command's own message names the step; pg's "not queryable" after a drop does not name the reason.
    const detail = oneLine(error).includes(oneLine(lost)) ? oneLine(error) : `${oneLine(error)} (${oneLine(lost)})`;
    throw unavailableError(`the connection to ${connection.display} was lost: ${detail}`, error);
  } finally {
    await client.end().catch(() => undefined);
    watch.stop();
  }
}
