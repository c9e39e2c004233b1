import { createTestDatabase, type TestDatabase } from '../support/database';
import { FakeClock, runCli } from './support/harness';
import { applyMigrations, execute, queryRows } from './support/schema';

// The audit commands against PostgreSQL 15 with the project's migrations; the fake clock is "now".
let db: TestDatabase;
let tenants: string[];
const CLOCK_START = new Date('2031-03-14T02:30:00.000Z');

beforeAll(async () => {
  db = await createTestDatabase('aw_cli_audit');
  await applyMigrations(db.url);
  const rows = await queryRows<{ id: string }>(
    db.url,
    "INSERT INTO accessweaver.tenants (name, subdomain) VALUES ('A', 'a'), ('B', 'b') RETURNING id",
  );
  tenants = rows.map((row) => row.id);
  // Two changes of tenant A and one of B, through the triggers.
  await execute(
    db.url,
    `INSERT INTO accessweaver.users (tenant_id, email) VALUES ('${tenants[0]}', 'one@a.example'), ('` +
      `${tenants[1]}', 'one@b.example')`,
    `UPDATE accessweaver.users SET external_id = 'ext-1' WHERE tenant_id = '${tenants[0]}'`,
  );
});

afterAll(async () => {
  await db.drop();
});

describe('audit export', () => {
  test("prints one tenant's events since a time, oldest first, as JSON", async () => {
    const result = await runCli([
      'audit',
      '--tenant',
      tenants[0],
      '--since',
      '2020-01-01',
      '--database-url',
      db.url,
      '--json',
    ]);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.tenant).toBe(tenants[0]);
    expect(output.events.map((e: { action: string; table: string }) => `${e.action} ${e.table}`)).toEqual([
      'INSERT users',
      'UPDATE users',
    ]);
    expect(output.events[1].changes).toEqual({ external_id: { old: null, new: 'ext-1' } });
    expect(new Set(output.events.map((e: { tenantId: string }) => e.tenantId))).toEqual(new Set([tenants[0]]));
  });

  test('prints a table by default, and nothing before --since', async () => {
    const all = await runCli(['audit', '--tenant', tenants[1], '--since', '2020-01-01', '--database-url', db.url]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/TIME\s+ACTOR\s+LOGIN\s+ACTION\s+TABLE\s+ROW\s+CHANGES/);
    expect(all.stdout).toMatch(/INSERT\s+users/);
    expect(all.stdout).toMatch(/^1 events\.$/m);
    const future = await runCli([
      'audit',
      '--tenant',
      tenants[1],
      '--since',
      '2999-01-01T00:00Z',
      '--until',
      '3000-01-01T00:00Z',
      '--database-url',
      db.url,
    ]);
    expect(future.stdout).toMatch(/\(none\)\n0 events\./);
  });

  test.each([
    [['--tenant', 'not-a-uuid', '--since', '2020-01-01'], /tenant id/],
    [['--since', '2020-01-01'], /needs --tenant/],
    [['--tenant', '00000000-0000-4000-8000-000000000000', '--since', '2020-01-01 08:00'], /ISO 8601/],
    [
      ['--tenant', '00000000-0000-4000-8000-000000000000', '--since', '2020-01-01', '--login', 'app'],
      /accessweaver_operator/,
    ],
  ])('refuses bad input %j before connecting', async (args, message) => {
    const result = await runCli(['audit', ...args, '--database-url', 'postgres://nobody@127.0.0.1:1/none']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('audit partitions and prune', () => {
  test('partitions creates the months from the current one on, once', async () => {
    const first = await runCli(['audit', 'partitions', '--months-ahead', '1', '--database-url', db.url, '--json'], {
      clock: new FakeClock(CLOCK_START),
    });
    expect(JSON.parse(first.stdout).created).toEqual(['audit_events_2031_03', 'audit_events_2031_04']);
    const again = await runCli(['audit', 'partitions', '--months-ahead', '1', '--database-url', db.url]);
    expect(again.code).toBe(0);
  });

  test('prune lists, asks, and removes only after confirmation', async () => {
    // "Now" is March 2031: the current months' events (created by this run) are years older than that.
    const clock = () => new FakeClock(CLOCK_START);
    const before = await queryRows<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM accessweaver.audit_events');

    const dryRun = await runCli(['audit', 'prune', '--dry-run', '--database-url', db.url], { clock: clock() });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(/Nothing removed \(dry run\)/);

    const refused = await runCli(['audit', 'prune', '--database-url', db.url], { clock: clock() });
    expect(refused.code).toBe(3);

    const wrongAnswer = await runCli(['audit', 'prune', '--database-url', db.url], {
      clock: clock(),
      interactive: true,
      answers: ['yes'],
    });
    expect(wrongAnswer.code).toBe(3);
    expect(wrongAnswer.questions).toEqual([
      `Type the database name '${db.name}' to delete ${before[0].n} audit events: `,
    ]);
    expect(await queryRows(db.url, 'SELECT 1 FROM accessweaver.audit_events')).toHaveLength(before[0].n);

    const confirmed = await runCli(['audit', 'prune', '--database-url', db.url, '--json'], {
      clock: clock(),
      interactive: true,
      answers: [db.name],
    });
    expect(confirmed.code).toBe(0);
    const output = JSON.parse(confirmed.stdout);
    expect(output.dropped).toBe(true);
    expect(output.expired.reduce((n: number, p: { events: number }) => n + p.events, 0)).toBe(before[0].n);
    expect(await queryRows(db.url, 'SELECT 1 FROM accessweaver.audit_events')).toEqual([]);
    // The months inside the retention stay.
    const kept = await queryRows<{ name: string }>(
      db.url,
      "SELECT relname AS name FROM pg_class WHERE relname IN ('audit_events_2031_03', 'audit_events_2031_04')",
    );
    expect(kept).toHaveLength(2);
  });
});
