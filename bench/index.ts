/** `npm run bench`: synthesis, row-level security, audit write cost. `npm run bench -- synth|rls|audit` runs one. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runAuditBench } from './audit';
import { runRlsBench } from './rls';
import { runAppCommandBench, runSynthBench } from './synth';

async function main(): Promise<void> {
  const only = process.argv[2];
  if (!only || only === 'synth') {
    if (!existsSync(path.resolve(__dirname, '..', '.gen', 'modules', 'rds.ts'))) {
      throw new Error('.gen/modules/rds is missing: run `npm run get` (or `npm test`) first');
    }
    runSynthBench();
    runAppCommandBench();
  }
  if (!only || only === 'rls') await runRlsBench();
  if (!only || only === 'audit') await runAuditBench();
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
