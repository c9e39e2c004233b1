/**
 * The offline plan of modules/rds for each example caller, normalised so that two plans compare equal exactly when
 * Terraform would create the same resources at the same addresses with the same values: resource changes sorted
 * by address, keys sorted, and JSON held in strings (policies, the dashboard body) parsed, because the provider
 * compares those as JSON documents and `jsonencode` may order or space them differently from a hand-written string.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENVIRONMENTS, EnvironmentName } from '../../src/config/environments';
import { exampleNetwork } from '../../src/rds/emit';
import { providerOverride, startAwsStandIn } from '../../scripts/offline/aws-stand-in';
import { offlineModuleCopy, terraformOk } from './terraform';

export const MODULE_DIR = path.resolve(__dirname, '../../modules/rds');
export const PLANS_DIR = path.resolve(__dirname, '../rds/__plans__');
const REGION = 'eu-west-3';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Sorted keys everywhere; a string holding a JSON object or array becomes `{ "(json)": <parsed> }`. */
export function normalise(value: Json): Json {
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, normalise(value[key])]),
    );
  }
  if (typeof value === 'string' && /^\s*[[{]/.test(value)) {
    try {
      return { '(json)': normalise(JSON.parse(value)) };
    } catch {
      return value;
    }
  }
  return value;
}

/** What a plan promises: every resource change and output with its planned, unknown and sensitive values. */
export function planContract(shown: any): Json {
  const resources = [...shown.resource_changes]
    .sort((a, b) => a.address.localeCompare(b.address))
    .map((rc: any) => ({
      address: rc.address,
      actions: rc.change.actions,
      after: rc.change.after ?? null,
      after_unknown: rc.change.after_unknown ?? null,
      after_sensitive: rc.change.after_sensitive ?? null,
    }));
  const outputs = Object.fromEntries(
    Object.entries(shown.output_changes ?? {}).map(([name, change]: [string, any]) => [
      name,
      { after: change.after ?? null, after_unknown: change.after_unknown ?? null },
    ]),
  );
  return normalise({ resources, outputs } as unknown as Json);
}

/**
 * Plans each example caller of `moduleDir` offline and returns its normalised contract by environment;
 * `callerOverride`, when given, is merged into each caller (a Terraform override file, e.g. `module "rds" { ... }`).
 */
export async function planExamples(
  moduleDir = MODULE_DIR,
  environments: readonly EnvironmentName[] = ENVIRONMENTS,
  callerOverride?: string,
): Promise<Record<string, Json>> {
  const workdir = mkdtempSync(path.join(os.tmpdir(), 'rds-plans-'));
  const subnets: Record<string, string> = {};
  for (const environment of ENVIRONMENTS) {
    for (const [zone, id] of Object.entries(exampleNetwork(environment).subnets)) subnets[id] = `${REGION}${zone}`;
  }
  const standIn = await startAwsStandIn({ subnets, region: REGION });
  try {
    const copy = path.join(workdir, 'rds');
    offlineModuleCopy(moduleDir, copy);
    const plans: Record<string, Json> = {};
    for (const environment of environments) {
      const dir = path.join(copy, 'examples', environment);
      writeFileSync(path.join(dir, 'offline_override.tf'), providerOverride(standIn.endpoint, REGION));
      if (callerOverride !== undefined) writeFileSync(path.join(dir, 'caller_override.tf'), callerOverride);
      await terraformOk(dir, ['init', '-backend=false', '-input=false']);
      await terraformOk(dir, ['plan', '-input=false', '-out=plan.bin']);
      plans[environment] = planContract(JSON.parse(await terraformOk(dir, ['show', '-json', 'plan.bin'])));
    }
    return plans;
  } finally {
    await standIn.close();
    rmSync(workdir, { recursive: true, force: true });
  }
}

/** The committed expectation's file for an environment. */
export const planFile = (environment: EnvironmentName) => path.join(PLANS_DIR, `${environment}.json`);

/** The text a plan is committed as: one key per line, so a change in a review reads as the values that moved. */
export const planText = (plan: Json) => `${JSON.stringify(plan, null, 1)}\n`;
