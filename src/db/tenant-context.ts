/**
 * Signed tenant context for application code.
 *
 * The service that authenticates a request signs a short-lived context (tenant, expiry, optionally
 * the acting user, key version) with the tenant-context key; every other service passes the string
 * along. The database verifies it on every query (accessweaver.current_tenant_id()), so SQL that a
 * login runs, injected or not, can only ever see the tenant some issuer signed for.
 *
 * Format (docs/database.md, with test vectors):
 *   awtc1.<key version>.<tenant uuid>.<actor uuid or empty>.<expiry, unix seconds>.<signature>
 * signature = lowercase hex HMAC-SHA-256(key, everything before the last dot).
 *
 * The context lives in a transaction-local setting bound to the transaction that applied it, so it ends with the
 * transaction and never serves the next user of a pooled connection; the same holds behind PgBouncer in transaction
 * mode. The database refuses a session left unsafe (SQLSTATE 55000), for withTenant() before the context is sent,
 * and withTenant() runs no statement by name, so nothing an injected statement leaves on a connection reaches the
 * next tenant.
 */
import { createHmac } from 'node:crypto';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { isConnectionLoss, watchConnection, type ConnectionWatch } from './connection-loss';

export const CONTEXT_PREFIX = 'awtc1';
export const TENANT_CONTEXT_KEY_BYTES = 32;
export const MAX_KEY_VERSION = 999_999_999;

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const TENANT_ID_PATTERN = new RegExp(`^${UUID}$`, 'i');
/** The whole grammar; the database applies the same one before it looks at the signature. */
export const TENANT_CONTEXT_PATTERN = new RegExp(
  `^${CONTEXT_PREFIX}\\.[1-9][0-9]{0,8}\\.${UUID}\\.(${UUID})?\\.[1-9][0-9]{0,11}\\.[0-9a-f]{64}$`,
);

export function isTenantId(value: string): boolean {
  return TENANT_ID_PATTERN.test(value);
}

/** A context string that the format allows (says nothing of its signature or expiry). */
export function isWellFormedTenantContext(value: unknown): value is string {
  return typeof value === 'string' && TENANT_CONTEXT_PATTERN.test(value);
}

export class InvalidTenantContextError extends Error {
  constructor(detail: string) {
    // Values stay out of the message: they come from a request.
    super(`Invalid tenant context: ${detail}.`);
    this.name = 'InvalidTenantContextError';
  }
}

export interface SignTenantContextOptions {
  /** Tenant UUID (any case; signed in lowercase, the one spelling the format allows). */
  readonly tenantId: string;
  /** Acting user UUID, when the request has one (accessweaver.current_actor_id() returns it). */
  readonly userId?: string;
  /** Expiry; give this or `ttlSeconds`. Truncated to whole seconds. */
  readonly expiresAt?: Date;
  /** Lifetime in seconds from `now`; give this or `expiresAt`. */
  readonly ttlSeconds?: number;
  /** Version of `key`, as installed in the database. */
  readonly keyVersion: number;
  /** The 32-byte tenant-context key. */
  readonly key: Uint8Array;
  /** @default new Date() */
  readonly now?: Date;
}

function expirySeconds(options: SignTenantContextOptions): number {
  if ((options.expiresAt === undefined) === (options.ttlSeconds === undefined)) {
    throw new InvalidTenantContextError('give exactly one of expiresAt or ttlSeconds');
  }
  let millis: number;
  if (options.ttlSeconds !== undefined) {
    if (!Number.isFinite(options.ttlSeconds) || options.ttlSeconds <= 0) {
      throw new InvalidTenantContextError(`ttlSeconds ${options.ttlSeconds} is not a positive number`);
    }
    millis = (options.now ?? new Date()).getTime() + options.ttlSeconds * 1000;
  } else {
    millis = (options.expiresAt as Date).getTime();
  }
  const seconds = Math.floor(millis / 1000);
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 999_999_999_999) {
    throw new InvalidTenantContextError('the expiry is not a time between 1970 and the year 33658');
  }
  return seconds;
}

/** Signs a context without any database round trip, byte for byte as issue_tenant_context() does. */
export function signTenantContext(options: SignTenantContextOptions): string {
  if (!isTenantId(options.tenantId)) throw new InvalidTenantContextError('tenantId is not a UUID');
  if (options.userId !== undefined && !isTenantId(options.userId)) {
    throw new InvalidTenantContextError('userId is not a UUID');
  }
  if (!Number.isInteger(options.keyVersion) || options.keyVersion < 1 || options.keyVersion > MAX_KEY_VERSION) {
    throw new InvalidTenantContextError(
      `keyVersion ${options.keyVersion} is not an integer from 1 to ${MAX_KEY_VERSION}`,
    );
  }
  if (options.key.length !== TENANT_CONTEXT_KEY_BYTES) {
    throw new InvalidTenantContextError(`the key is ${options.key.length} bytes, not ${TENANT_CONTEXT_KEY_BYTES}`);
  }
  const payload = [
    CONTEXT_PREFIX,
    String(options.keyVersion),
    options.tenantId.toLowerCase(),
    options.userId?.toLowerCase() ?? '',
    String(expirySeconds(options)),
  ].join('.');
  return `${payload}.${createHmac('sha256', options.key).update(payload, 'utf8').digest('hex')}`;
}

/**
 * Connection options that force row-level security on at connection start, whatever a login may have stored for
 * itself with ALTER ROLE ... SET (a setting from the client's startup packet takes precedence over per-role
 * settings). For direct connections only (the operator CLI, the benchmarks): PgBouncer refuses a startup packet
 * that carries `options`, so pools for tenant work do not send it (see {@link tenantPoolConfig}).
 */
export const TENANT_CONNECTION_OPTIONS = '-c row_security=on';

/**
 * A pg Pool configuration for tenant work that connects both directly and through PgBouncer
 * (config/pgbouncer/pgbouncer.ini): no startup `options`. Row-level security cannot be turned off to a tenant's
 * loss without them: the logins are NOBYPASSRLS, so with row_security off a query on a table with a policy fails
 * (42501) instead of returning rows, whether a login stored the setting for itself or a session set it.
 */
export function tenantPoolConfig(
  connectionString: string,
  config: Omit<PoolConfig, 'connectionString'> = {},
): PoolConfig {
  return { ...config, connectionString };
}

/** SQLSTATE of assert_safe_session() (and set_tenant_context()) refusing a session that would leak the request. */
export const UNSAFE_SESSION_SQLSTATE = '55000';

/** A named query (`{ name: ... }`) inside tenant work: refused, see {@link withTenant}. */
export class NamedStatementInTenantWorkError extends Error {
  constructor(name: string) {
    super(
      `Named statement "${name}" refused inside withTenant(): the connection may hold a statement of that name ` +
        'prepared by someone else. Run the query without a name.',
    );
    this.name = 'NamedStatementInTenantWorkError';
  }
}

/**
 * The client tenant work receives: the pooled client, whose query() refuses a named query. node-pg remembers per
 * connection which names it has prepared and then sends only Bind and Execute for them, so an injected
 * `DEALLOCATE x; PREPARE x AS ...` left on the connection would run in place of the next tenant's query `x`.
 * Unnamed queries are parsed in the same round trip as they run, and nothing is sent to the server to guard them.
 */
function withoutNamedStatements(client: PoolClient): PoolClient {
  const query = (...args: unknown[]): unknown => {
    const config = args[0] as { name?: unknown } | null;
    if (typeof config === 'object' && config !== null && typeof config.name === 'string' && config.name !== '') {
      const error = new NamedStatementInTenantWorkError(config.name);
      const callback = args.find((arg): arg is (error: Error) => void => typeof arg === 'function');
      if (callback === undefined) return Promise.reject(error);
      process.nextTick(callback, error);
      return undefined;
    }
    return (client.query as (...queryArgs: unknown[]) => unknown)(...args);
  };
  return new Proxy(client, {
    get(target, property) {
      if (property === 'query') return query;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The refusal of an unsafe session: its connection is destroyed rather than handed to the next request. */
function unsafeSession(error: unknown): Error | undefined {
  return error instanceof Error && (error as { code?: unknown }).code === UNSAFE_SESSION_SQLSTATE ? error : undefined;
}

export interface TenantTransactionOptions {
  /** BEGIN READ ONLY (for queries that must not write, e.g. on a replica). */
  readonly readOnly?: boolean;
}

/**
 * COMMIT was sent and no answer came back: the connection dropped in between. The transaction may
 * have committed or not, and nothing on this side can tell which. Every other error of withTenant
 * means the transaction did not commit. A caller whose work must happen exactly once makes it
 * idempotent (an idempotency key stored in the same transaction, with a unique index) and retries,
 * or reads back on a new connection whether the change is there before it retries.
 */
export class CommitOutcomeUnknownError extends Error {
  constructor(options: { cause: unknown }) {
    super(
      'The connection was lost after COMMIT was sent: the tenant transaction may or may not have committed.',
      options,
    );
    this.name = 'CommitOutcomeUnknownError';
  }
}

/**
 * An ERROR answer to COMMIT (a deferred constraint, a serialization failure) means the transaction
 * rolled back. The session ending (FATAL, a closed socket) or an operator's cancel can also arrive
 * after the commit was made durable, so those leave the outcome unknown.
 */
function commitRefused(error: unknown): boolean {
  if (isConnectionLoss(error)) return false;
  const { severity, code } = error as { severity?: unknown; code?: unknown };
  return severity === 'ERROR' && typeof code === 'string' && !code.startsWith('57');
}

async function commitTransaction(client: PoolClient, connection: ConnectionWatch): Promise<void> {
  // Lost before COMMIT was sent: the server rolls back the transaction of a session that ended.
  if (connection.lost !== undefined) throw connection.lost;
  let answer;
  try {
    answer = await client.query('COMMIT');
  } catch (error) {
    if (commitRefused(error)) throw error;
    throw new CommitOutcomeUnknownError({ cause: error });
  }
  // COMMIT of a transaction in which a statement failed (an error `work` caught) answers ROLLBACK.
  if (answer.command === 'ROLLBACK') {
    throw new Error('The tenant transaction was rolled back: one of its statements failed.');
  }
}

/** Rolls back after `failure`; returns why the connection must not be reused, if it must not. */
async function rollbackUnlessLost(client: PoolClient, failure: unknown): Promise<Error | undefined> {
  // The server rolls back a transaction whose session ended; the FATAL answer may come before the socket closes.
  if (failure instanceof CommitOutcomeUnknownError || isConnectionLoss(failure)) return failure as Error;
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (rollbackError) {
    return rollbackError as Error;
  }
}

/**
 * Runs `work` in one transaction on one pooled connection with the signed `context` applied to that
 * transaction only (accessweaver.set_tenant_context). Commits when `work` resolves, rolls back when
 * it throws; the result of `work` is returned. A context that is not even well-formed is refused
 * before a connection is taken; the database refuses a bad signature, an expired context or an
 * unknown key version with SQLSTATE 28000 naming the reason, and an unsafe session with 55000 naming
 * the setting, with BEGIN, before the context is sent (that connection is then destroyed, not returned
 * to the pool). `work` may not run named queries ({@link NamedStatementInTenantWorkError}).
 *
 * A connection that drops while the transaction holds it rejects the promise (isConnectionLoss()
 * recognises the error) and is destroyed, never returned to the pool; a drop after COMMIT was sent
 * rejects with {@link CommitOutcomeUnknownError}.
 */
export async function withTenant<T>(
  pool: Pool,
  context: string,
  work: (client: PoolClient) => Promise<T>,
  options: TenantTransactionOptions = {},
): Promise<T> {
  if (!isWellFormedTenantContext(context)) throw new InvalidTenantContextError('malformed');
  const client = await pool.connect();
  // Without a listener, a connection dropping while the client is checked out ends the process.
  const connection = watchConnection(client);
  let unusable: Error | undefined;
  try {
    const refusedIfUnsafe = (error: unknown) => {
      unusable = unsafeSession(error);
      throw error;
    };
    // BEGIN and the session check in one simple-protocol message (no extra round trip): a session that would log a
    // planned or bound value refuses before the context is sent, so nothing of the request can reach the log.
    const begin = options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN';
    await client.query(`${begin}; SELECT accessweaver.assert_safe_session()`).catch(refusedIfUnsafe);
    await client.query('SELECT accessweaver.set_tenant_context($1)', [context]).catch(refusedIfUnsafe);
    const result = await work(withoutNamedStatements(client));
    await commitTransaction(client, connection);
    return result;
  } catch (error) {
    // An unsafe session is destroyed as it is; any other failure is rolled back first.
    unusable = connection.lost ?? unusable ?? (await rollbackUnlessLost(client, error));
    throw error;
  } finally {
    // A connection that errored, or whose rollback failed, is in an unknown state: destroy it rather than reuse it.
    client.release(connection.lost ?? unusable);
    connection.stop();
  }
}
