/**
 * Synthesis cost of the whole app next to a floor (cdktf, the AWS provider and one resource), both measured in
 * fresh processes in the same run, alternating, so machine load affects both alike.
 * Goals: the app within 4x the floor's time, and under 300 MB peak memory.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
export const SYNTH_GOALS = { maxRatio: 4, maxRssMb: 300 } as const;

interface Sample {
  readonly ms: number;
  readonly maxRssMb: number;
}

function sample(target: 'floor' | 'app'): Sample {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'synth-target.ts'), target], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop() as string);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export function runSynthBench(runs = 5): void {
  const floor: Sample[] = [];
  const app: Sample[] = [];
  sample('floor'); // warm the transpile cache for both before measuring
  sample('app');
  for (let i = 0; i < runs; i++) {
    floor.push(sample('floor'));
    app.push(sample('app'));
  }
  const floorMs = median(floor.map((s) => s.ms));
  const appMs = median(app.map((s) => s.ms));
  const appRss = Math.max(...app.map((s) => s.maxRssMb));
  const ratio = appMs / floorMs;
  const ok = (pass: boolean) => (pass ? 'met' : 'MISSED');
  console.log(`synth (median of ${runs} fresh processes each, including module loading)`);
  console.log(
    `  floor  cdktf + aws provider + 1 resource   ${floorMs.toFixed(0)} ms   peak ${Math.max(...floor.map((s) => s.maxRssMb)).toFixed(0)} MB`,
  );
  console.log(`  app    rds-module + 9 environment stacks   ${appMs.toFixed(0)} ms   peak ${appRss.toFixed(0)} MB`);
  console.log(
    `  ratio  ${ratio.toFixed(2)}x the floor (goal <= ${SYNTH_GOALS.maxRatio}x: ${ok(ratio <= SYNTH_GOALS.maxRatio)}); ` +
      `memory ${appRss.toFixed(0)} MB (goal < ${SYNTH_GOALS.maxRssMb} MB: ${ok(appRss < SYNTH_GOALS.maxRssMb)})`,
  );
}

if (require.main === module) runSynthBench();
