import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

export default async function globalTeardown() {
  await globalThis.__ACCESSWEAVER_PG__?.stop();
  // Repeat skip reasons after Jest's summary, where a full run would otherwise bury them.
  const notes = process.env.ACCESSWEAVER_SKIP_NOTES;
  if (!notes) return;
  if (existsSync(notes)) process.stderr.write(`\n${readFileSync(notes, 'utf8')}`);
  rmSync(path.dirname(notes), { recursive: true, force: true });
}
