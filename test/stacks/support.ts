/** Shared set-up for the stack tests: the CDKTF jest matchers and an app like the CLI's. */
import * as fs from 'fs';
import * as path from 'path';
import { App, Testing, TerraformStack } from 'cdktf';
import 'cdktf/lib/testing/adapters/jest';
import { StateBackendConfig } from '../../src/stacks/backend';

Testing.setupJest();

export const PROJECT_ROOT = path.resolve(__dirname, '../..');

/** The test state directory: absolute, so state paths in the synthesized JSON are predictable. */
export const STATE_DIR = '/var/lib/accessweaver-state';
export const LOCAL_STATE: StateBackendConfig = { type: 'local', directory: STATE_DIR };

/**
 * The local module sources of cdktf.json, which the CLI passes to the app as context; without it
 * CDKTF cannot package `./modules/rds` next to the synthesized rds stacks.
 */
export function relativeModules(): string[] {
  const cdktfJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdktf.json'), 'utf8')) as {
    terraformModules: { source: string }[];
  };
  return cdktfJson.terraformModules.map((module) => module.source).filter((source) => source.startsWith('.'));
}

/** An app configured as `cdktf synth` configures it, writing to `outdir` when synthesized. */
export function testApp(outdir?: string): App {
  return Testing.app({ outdir, context: { cdktfRelativeModules: relativeModules() } });
}

export interface SynthesizedStack {
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly data: Record<string, Record<string, Record<string, unknown>>>;
  readonly output: Record<string, { value: unknown; description?: string }>;
  readonly module: Record<string, Record<string, unknown>>;
  readonly locals: Record<string, unknown>;
  readonly terraform: { backend: Record<string, Record<string, unknown>> };
  readonly provider: Record<string, Record<string, unknown>[]>;
}

/** The stack's Terraform JSON, parsed. */
export function synthJson(stack: TerraformStack): SynthesizedStack {
  const parsed = JSON.parse(Testing.synth(stack)) as Partial<SynthesizedStack>;
  return {
    resource: parsed.resource ?? {},
    data: parsed.data ?? {},
    output: parsed.output ?? {},
    module: parsed.module ?? {},
    locals: parsed.locals ?? {},
    terraform: parsed.terraform ?? { backend: {} },
    provider: parsed.provider ?? {},
  };
}

/** Resources of one type, by name ({} when there are none). */
export function resourcesOf(synth: SynthesizedStack, type: string): Record<string, Record<string, unknown>> {
  return synth.resource[type] ?? {};
}
