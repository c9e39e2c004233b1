/**
 * The context format as docs/database.md specifies it: its test vectors are what signTenantContext
 * writes, and what the database accepts (or, past their expiry, refuses as expired).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { signTenantContext, TENANT_CONTEXT_PATTERN } from '../../src/db/tenant-context';
import { installTenantContextKey } from '../../src/db/tenant-context-keys';
import { createMigratedDatabase, withConnection, type MigratedDatabase } from './fixtures';

interface Vector {
  readonly keyVersion: number;
  readonly tenantId: string;
  readonly actorId: string | null;
  readonly expiresAt: string;
  readonly context: string;
}

const DOCUMENT = readFileSync(path.resolve(__dirname, '../../docs/database.md'), 'utf8');
const KEY_HEX = /Key, in\s+hex: `([0-9a-f]{64})`/.exec(DOCUMENT)?.[1];
const VECTORS_JSON = /```json tenant-context-vectors\n([\s\S]*?)```/.exec(DOCUMENT)?.[1];
const KEY = Buffer.from(KEY_HEX ?? '', 'hex');
const VECTORS: Vector[] = JSON.parse(VECTORS_JSON ?? '[]');

test('docs/database.md holds the key and at least two vectors, one with an acting user', () => {
  expect(KEY).toHaveLength(32);
  expect(VECTORS.length).toBeGreaterThanOrEqual(2);
  expect(VECTORS.some((vector) => vector.actorId !== null)).toBe(true);
});

test.each(VECTORS.map((vector) => [vector.context, vector] as const))(
  'signTenantContext writes %s',
  (_context, vector) => {
    const signed = signTenantContext({
      tenantId: vector.tenantId,
      userId: vector.actorId ?? undefined,
      expiresAt: new Date(vector.expiresAt),
      keyVersion: vector.keyVersion,
      key: KEY,
    });
    expect(signed).toBe(vector.context);
    expect(signed).toMatch(TENANT_CONTEXT_PATTERN);
  },
);

test('an upper-case tenant id is signed in its one lowercase spelling', () => {
  const [vector] = VECTORS;
  const signed = signTenantContext({
    tenantId: vector.tenantId.toUpperCase(),
    expiresAt: new Date(vector.expiresAt),
    keyVersion: vector.keyVersion,
    key: KEY,
  });
  expect(signed).toBe(vector.context);
});

describe('the database', () => {
  let database: MigratedDatabase;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    // The vectors' key under each vector's version, newest installed last (versions only go up).
    const versions = [...new Set(VECTORS.map((vector) => vector.keyVersion))].sort((a, b) => a - b);
    await withConnection(database.url, async (client) => {
      for (const version of versions) {
        if (version > 1) await installTenantContextKey(client, { version, key: KEY }, { overlapSeconds: 3600 });
      }
      await client.query('UPDATE accessweaver_private.tenant_context_keys SET key = $1', [KEY]);
    });
  });
  afterAll(async () => {
    await database.drop();
  });

  test.each(VECTORS.map((vector) => [vector.context, vector] as const))('verifies %s', async (_context, vector) => {
    const outcome = await withConnection(database.appUrl, async (client) => {
      await client.query('BEGIN');
      try {
        const set = await client.query('SELECT accessweaver.set_tenant_context($1) AS tenant', [vector.context]);
        const actor = await client.query('SELECT accessweaver.current_actor_id() AS actor');
        return { tenant: set.rows[0].tenant, actor: actor.rows[0].actor };
      } catch (error) {
        return (error as Error).message;
      } finally {
        await client.query('ROLLBACK');
      }
    });
    const expired = new Date(vector.expiresAt).getTime() <= Date.now();
    expect(outcome).toEqual(
      expired ? 'tenant context refused: expired' : { tenant: vector.tenantId, actor: vector.actorId },
    );
  });
});
