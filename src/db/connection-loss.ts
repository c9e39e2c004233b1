/**
 * A dropped database connection (failover, restart, minor-version upgrade, pg_terminate_backend) as
 * something code can recognise and report in one line, instead of an 'error' event nobody listens to.
 */
import type { Client, ClientBase } from 'pg';

/** SQLSTATEs with which the server ends a session it had accepted. */
const SESSION_ENDED_STATES = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, a fast shutdown, a failover
  '57P02', // crash_shutdown: another backend crashed and the server restarts
  '57P03', // cannot_connect_now: the server is starting or stopping
  '57P05', // idle_session_timeout
  '25P03', // idle_in_transaction_session_timeout
]);
/** Socket errors of a connection that was open. */
const SOCKET_LOST_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);
/** pg's own words for a connection that ended under it, and for a client used after that. */
const DRIVER_LOST_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
];

/** The connection to the database ended while it was in use; `cause` holds the driver's error. */
export class ConnectionLostError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'ConnectionLostError';
  }
}

/** No connection could be made to the database (refused, unreachable, authentication failed). */
export class DatabaseUnreachableError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnreachableError';
  }
}

function endsConnection(error: unknown): boolean {
  if (error instanceof ConnectionLostError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || SESSION_ENDED_STATES.has(code) || SOCKET_LOST_CODES.has(code)) return true;
  }
  return DRIVER_LOST_MESSAGES.includes(error.message);
}

/** The first error of `error`'s `cause` chain (itself included) that says an open connection ended. */
export function connectionLossIn(error: unknown): Error | undefined {
  const seen = new Set<unknown>();
  for (let current = error; current !== undefined && current !== null && !seen.has(current);) {
    if (endsConnection(current)) return current as Error;
    seen.add(current);
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when `error`, or an error in its `cause` chain, says an open connection to the server ended. */
export function isConnectionLoss(error: unknown): boolean {
  return connectionLossIn(error) !== undefined;
}

/** An error's message on one line (server messages may span several, with DETAIL and HINT). */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message || String((error as { code?: unknown }).code) : String(error);
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Records the first 'error' a client emits while it is watched: pg emits one when the connection of
 * a client that is not idle in a pool drops, and an 'error' event without a listener ends the process.
 */
export interface ConnectionWatch {
  /** The connection error, once the client has emitted one. */
  readonly lost: Error | undefined;
  /** Stops listening (call it once the client is released or ended). */
  stop(): void;
}

export function watchConnection(client: ClientBase | Client): ConnectionWatch {
  let lost: Error | undefined;
  const listener = (error: Error) => {
    lost ??= error;
  };
  client.on('error', listener);
  return {
    get lost() {
      return lost;
    },
    stop: () => {
      client.removeListener('error', listener);
    },
  };
}

/**
 * Whether `failure` on `client` came from its connection ending, and the driver's error saying so.
 * Libraries rewrap errors without their cause, and a FATAL answer can reach the caller before the
 * socket closes, so when neither the error nor the watch tells, one probe asks the connection itself
 * (a probe refused by the server, e.g. in an aborted transaction, means the connection is alive).
 */
export async function lostConnection(
  client: ClientBase | Client,
  watch: ConnectionWatch,
  failure: unknown,
): Promise<Error | undefined> {
  // The server's own reason (it has a SQLSTATE) says more than pg's "Connection terminated unexpectedly".
  const known = [connectionLossIn(failure), watch.lost].filter((error) => error !== undefined);
  if (known.length > 0)
    return known.find((error) => typeof (error as { code?: unknown }).code === 'string') ?? known[0];
  try {
    await client.query('SELECT 1');
    return undefined;
  } catch (probe) {
    return isConnectionLoss(probe) ? (watch.lost ?? (probe as Error)) : undefined;
  }
}
