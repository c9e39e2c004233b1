/**
 * One synthesis, run in its own process by bench/synth.ts: `floor` (cdktf, the AWS provider and one resource) or
 * `app` (everything main.ts synthesizes). Prints {"ms": ..., "maxRssMb": ...} measured from process start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const target = process.argv[2];
const outdir = mkdtempSync(path.join(os.tmpdir(), `synth-${target}-`));

function floor(): void {
  const { App, TerraformStack } = require('cdktf') as typeof import('cdktf');
  const { AwsProvider } =
    require('@cdktf/provider-aws/lib/provider') as typeof import('@cdktf/provider-aws/lib/provider');
  const { SnsTopic } =
    require('@cdktf/provider-aws/lib/sns-topic') as typeof import('@cdktf/provider-aws/lib/sns-topic');
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'floor');
  new AwsProvider(stack, 'aws', { region: 'eu-west-3' });
  new SnsTopic(stack, 'topic', { name: 'floor' });
  app.synth();
}

function wholeApp(): void {
  const { App } = require('cdktf') as typeof import('cdktf');
  const { RdsModuleStack } = require('../src/rds/module-stack') as typeof import('../src/rds/module-stack');
  const { addEnvironmentStacks, loadDeploymentSettings } = require('../src/stacks') as typeof import('../src/stacks');
  const app = new App({ outdir, context: { cdktfRelativeModules: ['./modules/rds'] } });
  new RdsModuleStack(app, 'rds-module');
  addEnvironmentStacks(app, loadDeploymentSettings(undefined, {}));
  app.synth();
}

try {
  if (target === 'floor') floor();
  else if (target === 'app') wholeApp();
  else throw new Error(`unknown target '${target}': floor or app`);
  const result = { ms: performance.now(), maxRssMb: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
