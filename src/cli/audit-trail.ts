import type { Client } from 'pg';

/** One event of accessweaver.audit_events, as the export prints it. */
export interface AuditEvent {
  readonly id: number;
  readonly occurredAt: Date;
  readonly tenantId: string;
  readonly actorId: string | null;
  readonly login: string;
  readonly action: string;
  readonly table: string;
  readonly rowKey: Record<string, unknown>;
  readonly changes: Record<string, unknown>;
  readonly transactionId: string;
}

export interface AuditQuery {
  readonly tenantId: string;
  readonly since: Date;
  readonly until?: Date;
}

const PAGE_SIZE = 5000;

/**
 * One tenant's events from `since` (inclusive) to `until` (exclusive), oldest first. Read in pages by
 * (occurred_at, id) so a long history never sits in one result set on the server; every page is an
 * index range of audit_events_tenant_time_idx.
 */
export async function tenantEvents(client: Client, query: AuditQuery): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let after: { occurredAt: Date; id: number } | undefined;
  for (;;) {
    const { rows } = await client.query<AuditEvent>(
      `SELECT id, occurred_at AS "occurredAt", tenant_id AS "tenantId", actor_id AS "actorId", login, action,
              table_name AS "table", row_key AS "rowKey", changes, transaction_id::text AS "transactionId"
         FROM accessweaver.audit_events
        WHERE tenant_id = $1 AND occurred_at >= $2 AND ($3::timestamptz IS NULL OR occurred_at < $3)
          AND ($4::timestamptz IS NULL OR (occurred_at, id) > ($4, $5::bigint))
        ORDER BY occurred_at, id
        LIMIT ${PAGE_SIZE}`,
      [query.tenantId, query.since, query.until ?? null, after?.occurredAt ?? null, after?.id ?? null],
    );
    events.push(...rows);
    if (rows.length < PAGE_SIZE) return events;
    const last = rows[rows.length - 1];
    after = { occurredAt: last.occurredAt, id: last.id };
  }
}

/** A month partition (or the default partition's old events) that retention removes. */
export interface ExpiredPartition {
  readonly partition: string;
  readonly rangeStart: Date | null;
  readonly rangeEnd: Date;
  readonly events: number;
}

/** What accessweaver.prune_audit_events removes (dryRun) or removed: whole months before the retention. */
export async function pruneAuditEvents(
  client: Client,
  options: { readonly keepMonths: number; readonly asOf: Date; readonly dryRun: boolean },
): Promise<ExpiredPartition[]> {
  const { rows } = await client.query<ExpiredPartition>(
    `SELECT partition_name AS partition, range_start AS "rangeStart", range_end AS "rangeEnd", events
       FROM accessweaver.prune_audit_events($1, $2, $3)`,
    [options.keepMonths, options.asOf, options.dryRun],
  );
  return rows;
}

/** Creates the missing month partitions from `asOf`'s month to `monthsAhead` later; returns those created. */
export async function createAuditPartitions(client: Client, monthsAhead: number, asOf: Date): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>('SELECT accessweaver.create_audit_partitions($1, $2) AS name', [
    monthsAhead,
    asOf,
  ]);
  return rows.map((row) => row.name);
}
