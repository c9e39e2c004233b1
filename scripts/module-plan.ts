/**
 * `npm run module:plan -- <caller dir> [--region <region>] [-var-file=... | -var=...]`: checks a Terraform caller of
 * modules/rds offline, for platform engineers before their pipeline does. The caller and every local module it uses
 * are copied to a temporary folder (same relative layout, so `source = "../../modules/rds"` still resolves), the
 * module's hashicorp/random resources stood in as the tests do (offlineModuleCopy), the AWS provider pointed at the
 * loopback stand-in, and the backend made local; then `terraform init`, `validate` and `plan`. Exit 0 when the plan
 * succeeds, 1 when a step fails (its output printed), 2 on a usage error.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { regionProblem } from '../src/config/regions';
import { providerOverride, startAwsStandIn, type AwsStandIn } from './offline/aws-stand-in';
import { mirroredProviders, offlineModuleCopy, OFFLINE_RANDOM_STAND_INS, terraform } from './offline/terraform';

class UsageError extends Error {}

interface PlanOptions {
  readonly caller: string;
  readonly region?: string;
  readonly planArgs: readonly string[];
}

function parseArguments(argv: readonly string[]): PlanOptions {
  let caller: string | undefined;
  let region: string | undefined;
  const planArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--region') region = argv[++i];
    else if (arg.startsWith('-var')) planArgs.push(arg);
    else if (!arg.startsWith('-') && caller === undefined) caller = arg;
    else throw new UsageError(`unexpected argument '${arg}'`);
  }
  if (caller === undefined) throw new UsageError('give the directory of the Terraform caller to check');
  const dir = path.resolve(caller);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory`);
  const problem = region === undefined ? undefined : regionProblem(region);
  if (problem !== undefined) throw new UsageError(`--region ${problem}`);
  return { caller: dir, region, planArgs };
}

const terraformFiles = (dir: string) =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.tf'))
    .map((name) => readFileSync(path.join(dir, name), 'utf8'));

/** The local module directories `dir` uses (`source = "./..."` or `"../..."`), and theirs, recursively. */
function localModules(dir: string, found = new Set<string>()): Set<string> {
  for (const text of terraformFiles(dir)) {
    for (const match of text.matchAll(/\bsource\s*=\s*"(\.{1,2}\/[^"]*)"/g)) {
      const moduleDir = path.resolve(dir, match[1]);
      if (found.has(moduleDir) || !existsSync(moduleDir)) continue;
      found.add(moduleDir);
      localModules(moduleDir, found);
    }
  }
  return found;
}

/** Whether `dir` is (a copy of) modules/rds: its main.tf.json declares the random resources the stand-ins replace. */
function isRdsModule(dir: string): boolean {
  const main = path.join(dir, 'main.tf.json');
  if (!existsSync(main)) return false;
  const resources = JSON.parse(readFileSync(main, 'utf8')).resource ?? {};
  return OFFLINE_RANDOM_STAND_INS.some((r) => resources[r.type]?.[r.name] !== undefined);
}

function commonAncestor(dirs: readonly string[]): string {
  return dirs.reduce((common, dir) => {
    let candidate = common;
    while (path.relative(candidate, dir).startsWith('..')) candidate = path.dirname(candidate);
    return candidate;
  });
}

const skipState = (source: string) =>
  !/(^|\/)(\.terraform|terraform\.tfstate[^/]*|\.terraform\.lock\.hcl)$/.test(source);

/** Copies the caller and its local modules under `workdir`; returns the caller's copy and the rds modules found. */
function stage(caller: string, workdir: string): { callerCopy: string; rdsModules: string[] } {
  const modules = [...localModules(caller)];
  const rdsModules = modules.filter(isRdsModule);
  if (rdsModules.length === 0) {
    throw new UsageError(`${caller} calls no local copy of modules/rds (a module block with source = "../.../rds")`);
  }
  const root = commonAncestor([caller, ...modules]);
  const into = (dir: string) => path.join(workdir, path.relative(root, dir));
  for (const dir of modules) {
    if (rdsModules.includes(dir)) offlineModuleCopy(dir, into(dir));
    else cpSync(dir, into(dir), { recursive: true, filter: skipState });
  }
  cpSync(caller, into(caller), { recursive: true, filter: skipState });
  return { callerCopy: into(caller), rdsModules };
}

/** The provider at the stand-in and a local backend, as override files (or a provider block if there is none). */
function pointAtStandIn(callerCopy: string, standIn: AwsStandIn, region: string): void {
  const hasProvider = terraformFiles(callerCopy).some((text) => /provider\s+"aws"\s*\{/.test(text));
  const provider = providerOverride(standIn.endpoint, region);
  writeFileSync(path.join(callerCopy, hasProvider ? 'module_plan_override.tf' : 'module_plan_provider.tf'), provider);
  writeFileSync(path.join(callerCopy, 'module_plan_backend_override.tf'), 'terraform {\n  backend "local" {}\n}\n');
}

/** The caller's own literal region (its provider "aws" block), else eu-west-3. */
function callerRegion(caller: string): string {
  for (const text of terraformFiles(caller)) {
    const block = /provider\s+"aws"\s*\{[^}]*?\bregion\s*=\s*"([a-z0-9-]+)"/s.exec(text);
    if (block !== null) return block[1];
  }
  return 'eu-west-3';
}

async function step(dir: string, label: string, args: string[]): Promise<string> {
  const result = await terraform(dir, args);
  if (result.status !== 0) {
    throw new Error(`terraform ${label} failed:\n${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}

export async function modulePlan(options: PlanOptions, log: (line: string) => void): Promise<void> {
  if (!mirroredProviders().includes('hashicorp/aws')) {
    log('No hashicorp/aws in the provider mirror (ACCESSWEAVER_TF_MIRROR): terraform init will look for it online.');
  }
  const region = options.region ?? callerRegion(options.caller);
  const workdir = mkdtempSync(path.join(os.tmpdir(), 'aw-module-plan-'));
  const standIn = await startAwsStandIn({ subnets: 'any', region });
  try {
    const { callerCopy, rdsModules } = stage(options.caller, workdir);
    log(`Checking ${options.caller} offline in ${region}: ${rdsModules.join(', ')} with hashicorp/random stood in.`);
    pointAtStandIn(callerCopy, standIn, region);
    await step(callerCopy, 'init', ['init', '-input=false']);
    log(`terraform validate: ${(await step(callerCopy, 'validate', ['validate'])).trim()}`);
    const plan = await step(callerCopy, 'plan', ['plan', '-input=false', '-lock=false', ...options.planArgs]);
    const summary = /^(Plan: .*|No changes\..*)$/m.exec(plan)?.[1] ?? 'done';
    log(`terraform plan: ${summary}`);
    if (standIn.unexpected.length > 0) {
      log(`The plan also called AWS APIs the stand-in does not offer: ${[...new Set(standIn.unexpected)].join(', ')}.`);
    }
  } finally {
    await standIn.close();
    rmSync(workdir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  let options: PlanOptions;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(
      `module:plan: ${(error as Error).message}.\n` +
        'usage: npm run module:plan -- <caller dir> [--region <region>] [-var-file=<file>] [-var=<name>=<value>]\n',
    );
    process.exit(2);
  }
  modulePlan(options, log).then(
    () => process.exit(0),
    (error: Error) => {
      process.stderr.write(`module:plan: ${error.message}\n`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
