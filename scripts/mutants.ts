/**
 * `npm run mutants [-- name...]`: applies each mutation of scripts/mutations.ts to a scratch copy of the working
 * tree, runs the Jest suites it concerns and prints whether a test failed (caught) or none did (survived).
 * Exits non-zero when a mutation survives, is STALE (its text no longer matches) or the unmutated suites fail.
 * `--stale` only checks that every mutation still applies; `--no-baseline` skips the unmutated run.
 *
 * The copy leaves out node_modules and .gen (symlinked) and .git. A mutation of src/rds or src/config regenerates
 * modules/rds in the copy first (`npm run modules`), as a developer would, since module tests compare with it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Mutation, MUTATIONS } from './mutations';

const ROOT = path.resolve(__dirname, '..');
const LINKED = ['node_modules', '.gen'];
const LEFT_OUT = new Set([...LINKED, '.git', 'cdktf.out', 'dist', 'coverage']);

type Outcome = { result: 'caught' | 'survived' | 'STALE'; detail: string };

/** The scratch copy: the working tree as it is (uncommitted changes included), dependencies linked. */
function scratchCopy(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'accessweaver-mutants-'));
  cpSync(ROOT, dir, {
    recursive: true,
    filter: (source) => !LEFT_OUT.has(path.relative(ROOT, source).split(path.sep)[0]!),
  });
  for (const name of LINKED) {
    if (!existsSync(path.join(ROOT, name))) throw new Error(`${name} is missing: run \`npm ci && npm run get\` first`);
    symlinkSync(path.join(ROOT, name), path.join(dir, name));
  }
  return dir;
}

/** Why the mutation cannot apply to `text` (each search must occur exactly once), or undefined. */
function staleReason(mutation: Mutation, text: string): string | undefined {
  for (const { search } of mutation.edits) {
    const count = text.split(search).length - 1;
    if (count !== 1)
      return `search text found ${count} times in ${mutation.file}: ${JSON.stringify(search.slice(0, 60))}`;
  }
  return undefined;
}

function environment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // As .ci/run: a TF_CLI_CONFIG_FILE naming a missing file only adds terraform warnings.
  if (env.TF_CLI_CONFIG_FILE && !existsSync(env.TF_CLI_CONFIG_FILE)) delete env.TF_CLI_CONFIG_FILE;
  return env;
}

interface JestReport {
  testResults: { name: string; message: string; assertionResults: { fullName: string; status: string }[] }[];
}

/** Runs Jest on `suites` in `dir`; undefined when all pass, otherwise the first failure in words. */
function firstFailure(dir: string, suites: readonly string[]): string | undefined {
  const report = path.join(dir, 'jest-report.json');
  rmSync(report, { force: true });
  const run = spawnSync(
    process.execPath,
    [
      path.join(dir, 'node_modules', 'jest', 'bin', 'jest.js'),
      '--ci',
      '--silent',
      '--json',
      `--outputFile=${report}`,
      '--runTestsByPath',
      ...suites,
    ],
    { cwd: dir, env: environment(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.status === 0) return undefined;
  if (!existsSync(report)) return `jest exited ${run.status}: ${(run.stderr || run.stdout).trim().split('\n')[0]}`;
  const { testResults } = JSON.parse(readFileSync(report, 'utf8')) as JestReport;
  for (const suite of testResults) {
    const failed = suite.assertionResults.find((a) => a.status === 'failed');
    const file = path.relative(dir, suite.name);
    if (failed) return `${file} › ${failed.fullName}`;
    if (suite.message) return `${file} failed to run: ${suite.message.trim().split('\n')[0]}`;
  }
  return `jest exited ${run.status}`;
}

function regenerateModule(dir: string): string | undefined {
  const run = spawnSync('npm', ['run', '--silent', 'modules'], { cwd: dir, env: environment(), encoding: 'utf8' });
  return run.status === 0 ? undefined : `npm run modules failed: ${(run.stderr || run.stdout).trim().split('\n')[0]}`;
}

function tryMutation(dir: string, mutation: Mutation): Outcome {
  const file = path.join(dir, mutation.file);
  const original = readFileSync(file, 'utf8');
  const stale = staleReason(mutation, original);
  if (stale) return { result: 'STALE', detail: stale };
  const regenerates = /^src\/(rds|config)\//.test(mutation.file);
  const moduleDir = path.join(dir, 'modules', 'rds');
  const pristineModule = path.join(dir, '.mutants-module');
  if (regenerates) cpSync(moduleDir, pristineModule, { recursive: true });
  let mutated = original;
  for (const { search, replace } of mutation.edits) mutated = mutated.replace(search, () => replace);
  writeFileSync(file, mutated);
  try {
    const failure = (regenerates ? regenerateModule(dir) : undefined) ?? firstFailureOf(dir, mutation.suites);
    return failure ? { result: 'caught', detail: failure } : { result: 'survived', detail: mutation.suites.join(', ') };
  } finally {
    writeFileSync(file, original);
    if (regenerates) {
      rmSync(moduleDir, { recursive: true, force: true });
      cpSync(pristineModule, moduleDir, { recursive: true });
      rmSync(pristineModule, { recursive: true, force: true });
    }
  }
}

/** Suites one at a time, in the mutation's order, stopping at the first that fails. */
function firstFailureOf(dir: string, suites: readonly string[]): string | undefined {
  for (const suite of suites) {
    const failure = firstFailure(dir, [suite]);
    if (failure) return failure;
  }
  return undefined;
}

function main(): number {
  const args = process.argv.slice(2);
  const skipBaseline = args.includes('--no-baseline');
  const staleOnly = args.includes('--stale');
  const names = args.filter((arg) => !arg.startsWith('--'));
  const unknown = names.filter((name) => !MUTATIONS.some((m) => m.name === name));
  if (unknown.length > 0) throw new Error(`no mutation named ${unknown.join(', ')}`);
  const selected = names.length > 0 ? MUTATIONS.filter((m) => names.includes(m.name)) : MUTATIONS;

  if (staleOnly) {
    const stale = selected
      .map((m) => [m.name, staleReason(m, readFileSync(path.join(ROOT, m.file), 'utf8'))] as const)
      .filter(([, reason]) => reason);
    for (const [name, reason] of stale) console.log(`STALE    ${name}: ${reason}`);
    console.log(`${selected.length - stale.length} of ${selected.length} mutations apply`);
    return stale.length > 0 ? 1 : 0;
  }
  const dir = scratchCopy();
  try {
    if (!skipBaseline) {
      const suites = [...new Set(selected.flatMap((m) => m.suites))];
      console.log(`baseline: ${suites.length} suites, unmutated`);
      const failure = firstFailure(dir, suites);
      if (failure) {
        console.error(`the unmutated suites fail, so no mutation can be judged: ${failure}`);
        return 1;
      }
    }
    const rows: [string, Outcome][] = [];
    for (const mutation of selected) {
      const started = Date.now();
      const outcome = tryMutation(dir, mutation);
      console.log(`${outcome.result.padEnd(8)} ${mutation.name} (${Math.round((Date.now() - started) / 1000)} s)`);
      rows.push([mutation.name, outcome]);
    }
    console.log('\n| mutation | breaks | result | first failing test |\n| --- | --- | --- | --- |');
    for (const [name, outcome] of rows) {
      const breaks = selected.find((m) => m.name === name)!.breaks;
      console.log(`| ${name} | ${breaks} | ${outcome.result} | ${outcome.detail.replace(/\|/g, '\\|')} |`);
    }
    const bad = rows.filter(([, outcome]) => outcome.result !== 'caught');
    console.log(`\n${rows.length - bad.length} caught, ${bad.length} survived or stale`);
    return bad.length > 0 ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
