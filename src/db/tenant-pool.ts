/**
 * The pool for tenant work: tenantPoolConfig's connection options plus the 'error' listener every pg
 * Pool needs. pg emits 'error' on a pool when an idle connection drops (a failover, a restart, a
 * minor-version upgrade, pg_terminate_backend); with nobody listening, Node ends the process.
 */
import { Pool, type PoolConfig } from 'pg';
import { oneLine } from './connection-loss';
import { tenantPoolConfig } from './tenant-context';

/** Where the pool reports a dropped idle connection: one line per event. */
export type PoolErrorLogger = (line: string) => void;

export interface TenantPoolOptions extends Omit<PoolConfig, 'connectionString'> {
  /** @default console.error */
  readonly logger?: PoolErrorLogger;
}

/**
 * The listener a pool built from tenantPoolConfig must get (`pool.on('error', poolErrorListener(log))`).
 * The pool has already removed the broken connection when it emits, and opens a new one on the next
 * checkout, so reporting is all there is to do. It never throws, even when `log` does: an exception
 * in an 'error' listener would end the process as surely as no listener at all.
 */
export function poolErrorListener(log: PoolErrorLogger = console.error): (error: Error) => void {
  return (error) => {
    try {
      const code = (error as { code?: unknown }).code;
      const reason = typeof code === 'string' ? `${code} ${oneLine(error)}` : oneLine(error);
      log(`database pool: an idle connection was lost and will be replaced (${reason})`);
    } catch {
      // Nothing left to report to; the pool itself is fine.
    }
  };
}

/**
 * A pg Pool for withTenant(): row-level security forced on at connection start (tenantPoolConfig), and
 * a dropped idle connection reported through `logger` instead of ending the process.
 */
export function createTenantPool(connectionString: string, config: TenantPoolOptions = {}): Pool {
  const { logger, ...poolConfig } = config;
  const pool = new Pool(tenantPoolConfig(connectionString, poolConfig));
  pool.on('error', poolErrorListener(logger));
  return pool;
}
