/**
 * A service built as docs/database.md shows: a createTenantPool pool and withTenant, under steady
 * load, for test/db/connection-drops.test.ts to drop its connections under. Run with `node --import tsx`.
 *
 * Environment: TENANT_SERVICE_URL (the application login), TENANT_SERVICE_CONTEXTS (JSON array of
 * signed contexts, one per tenant). Each transaction inserts two roles, `drop-<tenant index>-<pid>.<n>-a`
 * and `-b`, with a pause between them, so a transaction cut half-way would show as a lone row.
 *
 * stdout, one line per event: `ok`, `failed loss` (a connection loss), `failed other <message>`,
 * `pool <the pool's logged line>`, and `done` when it stops: when stdin ends, or after MAX_RUN_MS.
 */
import { isConnectionLoss, oneLine } from '../../src/db/connection-loss';
import { withTenant } from '../../src/db/tenant-context';
import { createTenantPool } from '../../src/db/tenant-pool';

const MAX_RUN_MS = 60_000;
const WORKERS = 3;
const BURST_EVERY_MS = 250;
const BURST_SIZE = 4;

const url = process.env.TENANT_SERVICE_URL ?? '';
const contexts = JSON.parse(process.env.TENANT_SERVICE_CONTEXTS ?? '[]') as string[];
const pool = createTenantPool(url, { max: WORKERS + BURST_SIZE, logger: (line) => say(`pool ${line}`) });

let stopping = false;
let sequence = 0;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One request: a pair of rows in one transaction, the tenant's id taken from the context itself. */
async function request(index: number): Promise<void> {
  const tag = `drop-${index}-${process.pid}.${(sequence += 1)}`;
  try {
    await withTenant(pool, contexts[index], async (client) => {
      const insert = 'INSERT INTO accessweaver.roles (tenant_id, name) VALUES (accessweaver.current_tenant_id(), $1)';
      await client.query(insert, [`${tag}-a`]);
      await client.query('SELECT pg_sleep(0.01)');
      await client.query(insert, [`${tag}-b`]);
    });
    say('ok');
  } catch (error) {
    say(isConnectionLoss(error) ? 'failed loss' : `failed other ${oneLine(error)}`);
    await pause(50);
  }
}

async function worker(offset: number): Promise<void> {
  for (let n = offset; !stopping; n += 1) await request(n % contexts.length);
}

/** Short bursts open more connections than the workers use, so some sit idle in the pool. */
async function bursts(): Promise<void> {
  while (!stopping) {
    await Promise.all(
      Array.from({ length: BURST_SIZE }, () =>
        withTenant(pool, contexts[0], (client) => client.query('SELECT 1')).catch(() => undefined),
      ),
    );
    await pause(BURST_EVERY_MS);
  }
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => {
    stopping = true;
  }, MAX_RUN_MS);
  process.stdin.on('end', () => {
    stopping = true;
  });
  process.stdin.resume();
  await Promise.all([...Array.from({ length: WORKERS }, (_, i) => worker(i)), bursts()]);
  clearTimeout(deadline);
  process.stdin.pause();
  await pool.end();
  say('done');
}

void main();
