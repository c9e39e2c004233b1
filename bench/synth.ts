/**
 * Synthesis cost of the whole app next to a floor (cdktf, the AWS provider and one resource), both measured in
 * fresh processes in the same run, alternating, so machine load affects both alike.
 * Goals: the app within 4x the floor's time, and under 300 MB peak memory.
 * Then the wall time of the app command as `cdktf synth` starts it (cdktf.json `app`), next to `npx tsx main.ts`.
 */
import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = path.resolve(__dirname, '..');
/** What the app command used to be: npx alone costs a resolution of the package tree on every synth. */
const NPX_APP_COMMAND = 'npx tsx main.ts';
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
    `  floor  cdktf + aws provider + 1 resource   ${floorMs.toFixed(0)} ms   peak ` +
      `${Math.max(...floor.map((s) => s.maxRssMb)).toFixed(0)} MB`,
  );
  console.log(`  app    rds-module + 9 environment stacks   ${appMs.toFixed(0)} ms   peak ${appRss.toFixed(0)} MB`);
  console.log(
    `  ratio  ${ratio.toFixed(2)}x the floor (goal <= ${SYNTH_GOALS.maxRatio}x: ` +
      `${ok(ratio <= SYNTH_GOALS.maxRatio)}); ` +
      `memory ${appRss.toFixed(0)} MB (goal < ${SYNTH_GOALS.maxRssMb} MB: ${ok(appRss < SYNTH_GOALS.maxRssMb)})`,
  );
}

/** Wall time of one run of `command` the way cdktf-cli runs the app: a shell, output directory and context in env. */
function appCommandMs(command: string, context: unknown): number {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'synth-app-command-'));
  try {
    const start = performance.now();
    execSync(command, {
      cwd: ROOT,
      stdio: 'ignore',
      env: { ...process.env, CDKTF_OUTDIR: outdir, CDKTF_CONTEXT_JSON: JSON.stringify(context) },
    });
    return performance.now() - start;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export function runAppCommandBench(runs = 5): void {
  const config = JSON.parse(readFileSync(path.join(ROOT, 'cdktf.json'), 'utf8')) as {
    app: string;
    context?: object;
  };
  const context = { ...config.context, cdktfRelativeModules: ['./modules/rds'] };
  const configured: number[] = [];
  const npx: number[] = [];
  for (let i = 0; i < runs; i++) {
    configured.push(appCommandMs(config.app, context));
    npx.push(appCommandMs(NPX_APP_COMMAND, context));
  }
  console.log(`app command as cdktf synth runs it (median of ${runs} each, wall time)`);
  console.log(`  cdktf.json  ${config.app.padEnd(52)} ${median(configured).toFixed(0)} ms`);
  console.log(`  was         ${NPX_APP_COMMAND.padEnd(52)} ${median(npx).toFixed(0)} ms`);
}

if (require.main === module) {
  runSynthBench();
  runAppCommandBench();
}
