/**
 * The audit trail on the real PostgreSQL 15: every change to users, roles and user_roles leaves an
 * event its tenant alone can read, and neither login can write, change or remove events.
 */
import { randomUUID } from 'node:crypto';
import { Client, DatabaseError } from 'pg';
import { APP_LOGIN } from '../../src/config/environments';
import {
  contextFor,
  createMigratedDatabase,
  LOGINS,
  seedTenants,
  withConnection,
  type Login,
  type MigratedDatabase,
  type TenantFixture,
} from './fixtures';

const INSUFFICIENT_PRIVILEGE = '42501';

let database: MigratedDatabase;
let tenants: TenantFixture[];

beforeAll(async () => {
  database = await createMigratedDatabase();
  tenants = await seedTenants(database.url, 2);
});
afterAll(async () => {
  await database.drop();
});

const own = () => tenants[0];
const other = () => tenants[1];

/** Runs `work` as `login` in one committed transaction with the tenant (and acting user) of the context. */
async function asTenant<T>(
  login: Login,
  tenantId: string,
  work: (client: Client) => Promise<T>,
  actorId?: string,
): Promise<T> {
  const url = database.urlOf(login);
  return withConnection(url, async (client) => {
    await client.query('BEGIN READ WRITE');
    try {
      await client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(tenantId, { userId: actorId })]);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  });
}

async function sqlState(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
  } catch (error) {
    if (error instanceof DatabaseError && error.code) return error.code;
    throw error;
  }
  throw new Error('the statement succeeded');
}

interface AuditEvent {
  tenant_id: string;
  actor_id: string | null;
  login: string;
  action: string;
  table_name: string;
  row_key: Record<string, unknown>;
  changes: Record<string, unknown>;
}

const EVENT_COLUMNS = 'tenant_id, actor_id, login, action, table_name, row_key, changes';

/** Events about one row, as the superuser sees them (all tenants), oldest first. */
async function eventsAbout(key: Record<string, string>): Promise<AuditEvent[]> {
  return withConnection(database.url, async (client) => {
    const { rows } = await client.query<AuditEvent>(
      `SELECT ${EVENT_COLUMNS} FROM accessweaver.audit_events WHERE row_key = $1::jsonb ORDER BY id`,
      [JSON.stringify(key)],
    );
    return rows;
  });
}

/** A new role of `tenant`, made by the superuser, nobody holds yet. */
async function freshRole(tenant: TenantFixture): Promise<string> {
  return withConnection(database.url, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      'INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, $2) RETURNING id',
      [tenant.id, `role-${randomUUID()}`],
    );
    return rows[0].id;
  });
}

describe('a grant change by the app login', () => {
  let roleId: string;
  let actorId: string;

  beforeAll(async () => {
    roleId = await freshRole(own());
    actorId = own().userIds[1];
    await asTenant(
      'app',
      own().id,
      (client) =>
        client.query(
          'INSERT INTO accessweaver.user_roles (tenant_id, user_id, role_id, granted_by) VALUES ($1, $2, $3, $4)',
          [own().id, own().userIds[2], roleId, own().userIds[1]],
        ),
      actorId,
    );
  });

  test('is one INSERT event of its tenant, with the acting user, the login, the row and its values', async () => {
    const events = await eventsAbout({ role_id: roleId, user_id: own().userIds[2] });
    expect(events).toEqual([
      {
        tenant_id: own().id,
        actor_id: actorId,
        login: APP_LOGIN,
        action: 'INSERT',
        table_name: 'user_roles',
        row_key: { user_id: own().userIds[2], role_id: roleId },
        changes: expect.objectContaining({ granted_by: own().userIds[1], expires_at: null }),
      },
    ]);
    expect(events[0].changes).not.toHaveProperty('tenant_id');
  });

  test.each(LOGINS)('is visible to the %s login of its tenant', async (login) => {
    const seen = await asTenant(login, own().id, async (client) => {
      const { rows } = await client.query<AuditEvent>(
        `SELECT ${EVENT_COLUMNS} FROM accessweaver.audit_events WHERE row_key ->> 'role_id' = $1`,
        [roleId],
      );
      return rows;
    });
    expect(seen.map((event) => event.action)).toEqual(['INSERT']);
  });

  test.each(LOGINS)('is invisible to the %s login of another tenant, which sees only its own events', async (login) => {
    const seen = await asTenant(login, other().id, async (client) => {
      const { rows } = await client.query<{ tenant_id: string; n: number }>(
        'SELECT tenant_id, count(*)::int AS n FROM accessweaver.audit_events GROUP BY tenant_id',
      );
      return rows;
    });
    expect(seen.map((row) => row.tenant_id)).toEqual([other().id]);
  });

  test('an UPDATE records only the changed columns, old and new', async () => {
    await asTenant('app', own().id, (client) =>
      client.query(`UPDATE accessweaver.user_roles SET expires_at = '2030-01-01T00:00:00Z' WHERE role_id = $1`, [
        roleId,
      ]),
    );
    const events = await eventsAbout({ role_id: roleId, user_id: own().userIds[2] });
    expect(events[1]).toMatchObject({
      action: 'UPDATE',
      actor_id: null,
      changes: { expires_at: { old: null, new: '2030-01-01T00:00:00+00:00' } },
    });
  });

  test('a DELETE records the removed row', async () => {
    await asTenant('app', own().id, (client) =>
      client.query('DELETE FROM accessweaver.user_roles WHERE role_id = $1', [roleId]),
    );
    const events = await eventsAbout({ role_id: roleId, user_id: own().userIds[2] });
    expect(events.map((event) => event.action)).toEqual(['INSERT', 'UPDATE', 'DELETE']);
    expect(events[2].changes).toMatchObject({ granted_by: own().userIds[1] });
  });
});

test.each([
  ['users', "INSERT INTO accessweaver.users (tenant_id, email) VALUES ($1, 'audited@example.com') RETURNING id"],
  ['roles', "INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'audited') RETURNING id"],
])('an insert into %s is recorded under its id', async (table, text) => {
  const id = await asTenant(
    'app',
    own().id,
    async (client) => (await client.query<{ id: string }>(text, [own().id])).rows[0].id,
  );
  expect(await eventsAbout({ id })).toEqual([
    expect.objectContaining({ table_name: table, action: 'INSERT', tenant_id: own().id }),
  ]);
});

describe.each(LOGINS)('the %s login cannot change the trail', (login) => {
  test.each([
    [
      'INSERT',
      `INSERT INTO accessweaver.audit_events (tenant_id, action, table_name, row_key, changes)
                VALUES ($1, 'INSERT', 'users', '{}', '{}')`,
      true,
    ],
    ['UPDATE', "UPDATE accessweaver.audit_events SET changes = '{}'", false],
    ['DELETE', 'DELETE FROM accessweaver.audit_events', false],
    ['TRUNCATE', 'TRUNCATE accessweaver.audit_events', false],
    ['a partition read', 'SELECT count(*) FROM accessweaver_audit.audit_events_default', false],
    ['a direct call of the trigger function', 'SELECT accessweaver.record_audit_event()', false],
    ['disabling triggers', 'SET session_replication_role = replica', false],
    ['pruning', 'SELECT * FROM accessweaver.prune_audit_events(1, now(), false)', false],
  ])('%s is refused with insufficient_privilege', async (_label, text, withTenantValue) => {
    const state = await asTenant(login, own().id, (client) =>
      sqlState(client.query(text, withTenantValue ? [own().id] : [])),
    );
    expect(state).toBe(INSUFFICIENT_PRIVILEGE);
  });
});

describe('monthly partitions', () => {
  async function superuser<T>(work: (client: Client) => Promise<T>): Promise<T> {
    return withConnection(database.url, work);
  }
  /** An event with a chosen time, written by the superuser (bypassing the triggers) to test partition routing. */
  async function eventAt(client: Client, occurredAt: string): Promise<string> {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO accessweaver.audit_events (occurred_at, tenant_id, action, table_name, row_key, changes)
       VALUES ($1, $2, 'INSERT', 'users', '{}', '{}') RETURNING id`,
      [occurredAt, own().id],
    );
    return rows[0].id;
  }
  async function partitionOf(client: Client, id: string): Promise<string> {
    const { rows } = await client.query<{ partition: string }>(
      'SELECT tableoid::regclass::text AS partition FROM accessweaver.audit_events WHERE id = $1',
      [id],
    );
    return rows[0].partition;
  }
  async function createPartitions(client: Client, monthsAhead: number, asOf: string): Promise<string[]> {
    const { rows } = await client.query<{ name: string }>(
      'SELECT accessweaver.create_audit_partitions($1, $2) AS name',
      [monthsAhead, asOf],
    );
    return rows.map((row) => row.name);
  }

  test("the triggers write into the current month's partition, created by the migrations", async () => {
    const id = await asTenant('app', own().id, async (client) => {
      const { rows } = await client.query<{ id: string }>(
        "INSERT INTO accessweaver.roles (tenant_id, name) VALUES ($1, 'this-month') RETURNING id",
        [own().id],
      );
      return rows[0].id;
    });
    const now = new Date();
    const month = `${now.getUTCFullYear()}_${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    const partitions = await superuser(async (client) => {
      const { rows } = await client.query<{ partition: string }>(
        "SELECT tableoid::regclass::text AS partition FROM accessweaver.audit_events WHERE row_key ->> 'id' = $1",
        [id],
      );
      return rows.map((row) => row.partition);
    });
    expect(partitions).toEqual([`accessweaver_audit.audit_events_${month}`]);
  });

  test(
    'month rollover: events of a month without a ' +
      'partition wait in the default one and move in when ' +
      'it is made',
    async () => {
      await superuser(async (client) => {
        // Month bounds are UTC whatever the session's time zone.
        await client.query("SET TimeZone = 'Pacific/Auckland'");
        const lastInstant = await eventAt(client, '2031-05-31T23:59:59.999Z');
        const nextMonth = await eventAt(client, '2031-06-01T00:00:00Z');
        expect(await partitionOf(client, lastInstant)).toBe('accessweaver_audit.audit_events_default');

        expect(await createPartitions(client, 0, '2031-05-15T12:00:00Z')).toEqual(['audit_events_2031_05']);
        expect(await partitionOf(client, lastInstant)).toBe('accessweaver_audit.audit_events_2031_05');
        expect(await partitionOf(client, nextMonth)).toBe('accessweaver_audit.audit_events_default');

        expect(await createPartitions(client, 1, '2031-05-15T12:00:00Z')).toEqual(['audit_events_2031_06']);
        expect(await partitionOf(client, nextMonth)).toBe('accessweaver_audit.audit_events_2031_06');
        expect(await createPartitions(client, 1, '2031-05-15T12:00:00Z')).toEqual([]);
      });
    },
  );

  test(
    'prune drops the months before the retention and old ' +
      'events of the default partition; dry run drops ' +
      'nothing',
    async () => {
      await superuser(async (client) => {
        await createPartitions(client, 1, '2020-01-15T00:00:00Z');
        await eventAt(client, '2020-01-20T00:00:00Z');
        const kept = await eventAt(client, '2020-02-20T00:00:00Z');
        await eventAt(client, '2019-06-01T00:00:00Z'); // no partition: in the default one
        const prune = async (dryRun: boolean) =>
          (
            await client.query<{ partition_name: string; range_start: Date; range_end: Date; events: string }>(
              "SELECT * FROM accessweaver.prune_audit_events(12, '2021-02-10T00:00:00Z', $1)",
              [dryRun],
            )
          ).rows.map((row) => ({
            ...row,
            range_start: row.range_start.toISOString(),
            range_end: row.range_end.toISOString(),
          }));
        const expected = [
          {
            partition_name: 'audit_events_2020_01',
            range_start: '2020-01-01T00:00:00.000Z',
            range_end: '2020-02-01T00:00:00.000Z',
            events: '1',
          },
          {
            partition_name: 'audit_events_default',
            range_start: '2019-06-01T00:00:00.000Z',
            range_end: '2020-02-01T00:00:00.000Z',
            events: '1',
          },
        ];
        expect(await prune(true)).toEqual(expected);
        expect(await prune(true)).toEqual(expected);
        expect(await prune(false)).toEqual(expected);
        expect(await prune(true)).toEqual([]);
        const { rows } = await client.query<{ id: string }>(
          "SELECT id FROM accessweaver.audit_events WHERE occurred_at < '2021-01-01' ORDER BY id",
        );
        expect(rows.map((row) => row.id)).toEqual([kept]);
      });
    },
  );
});

test('pgaudit: the migrations say plainly whether this server has it', async () => {
  const { available, status } = await withConnection(database.url, async (client) => {
    const extension = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'pgaudit'");
    const { rows } = await client.query<{ status: string }>('SELECT accessweaver.install_pgaudit() AS status');
    return { available: extension.rowCount === 1, status: rows[0].status };
  });
  // The embedded server has no pgaudit; test/db/server-log.test.ts covers a server that has it.
  expect(status).toMatch(available ? /^pgaudit (enabled|is installed)/ : /^pgaudit is not available on this server/);
});
