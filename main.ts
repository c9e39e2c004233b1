/**
 * The CDKTF app: the RDS module emission (`rds-module`) and, for dev, staging and prod, the
 * vpc-<env>, rds-<env> and ecs-<env> stacks. See docs/stacks.md.
 */
import * as fs from 'fs';
import { App } from 'cdktf';
import { RdsModuleStack } from './src/rds/module-stack';
import { CONTEXT_KEY, addEnvironmentStacks, loadDeploymentSettings } from './src/stacks';

// App creates its output directory as it starts: a failed synth removes it again if this run created it.
const outdir = process.env.CDKTF_OUTDIR ?? 'cdktf.out';
const outdirExisted = fs.existsSync(outdir);
const app = new App({ outdir });
try {
  new RdsModuleStack(app, 'rds-module');
  addEnvironmentStacks(app, loadDeploymentSettings(app.node.tryGetContext(CONTEXT_KEY), process.env));
} catch (error) {
  // A configuration mistake: say what is wrong and write nothing.
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (!outdirExisted) fs.rmSync(outdir, { recursive: true, force: true });
  process.exit(1);
}
app.synth();
