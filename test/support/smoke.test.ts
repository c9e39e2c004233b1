import { Client } from 'pg';
import { createTestDatabase } from './database';

test('the test server is PostgreSQL 15 and hands out fresh databases', async () => {
  const db = await createTestDatabase();
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num');
    expect(Number(rows[0].server_version_num)).toBeGreaterThanOrEqual(150000);
    expect(Number(rows[0].server_version_num)).toBeLessThan(160000);
  } finally {
    await client.end();
    await db.drop();
  }
});
