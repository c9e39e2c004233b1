/**
 * Tenant context for application code: the tenant lives in a transaction-local setting, so it ends
 * with the transaction and can never leak to the next user of a pooled connection (a session-level
 * `SET app.current_tenant_id` survives on the connection after it returns to the pool). The same
 * pattern works behind PgBouncer in transaction pooling mode, where consecutive transactions of one
 * client may run on different server connections.
 */
import type { Pool, PoolClient } from 'pg';

export const TENANT_SETTING = 'app.current_tenant_id';

// The canonical form is the only one accessweaver.current_tenant_id() accepts.
const TENANT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isTenantId(value: string): boolean {
  return TENANT_ID_PATTERN.test(value);
}

export class InvalidTenantIdError extends Error {
  constructor() {
    // The value itself stays out of the message: it comes from a request.
    super('Tenant id must be a UUID in canonical 8-4-4-4-12 form.');
    this.name = 'InvalidTenantIdError';
  }
}

export interface TenantTransactionOptions {
  /** BEGIN READ ONLY (for queries that must not write, e.g. on a replica). */
  readonly readOnly?: boolean;
}

/**
 * Runs `work` in one transaction on one pooled connection with the tenant set for that transaction
 * only. Commits when `work` resolves, rolls back when it throws; the result of `work` is returned.
 */
export async function withTenant<T>(
  pool: Pool,
  tenantId: string,
  work: (client: PoolClient) => Promise<T>,
  options: TenantTransactionOptions = {},
): Promise<T> {
  if (!isTenantId(tenantId)) throw new InvalidTenantIdError();
  const client = await pool.connect();
  let unusable: Error | undefined;
  try {
    await client.query(options.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
    await client.query('SELECT set_config($1, $2, true)', [TENANT_SETTING, tenantId]);
    const result = await work(client);
    const commit = await client.query('COMMIT');
    // COMMIT of a transaction in which a statement failed (an error `work` caught) answers ROLLBACK.
    if (commit.command === 'ROLLBACK') {
      throw new Error('The tenant transaction was rolled back: one of its statements failed.');
    }
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      unusable = rollbackError;
    });
    throw error;
  } finally {
    // A connection whose rollback failed is in an unknown state: destroy it rather than reuse it.
    client.release(unusable);
  }
}
