/**
 * The CDKTF app: the RDS module emission (`rds-module`) and, for dev, staging and prod, the
 * vpc-<env>, rds-<env> and ecs-<env> stacks. See docs/stacks.md.
 */
import { App } from 'cdktf';
import { RdsModuleStack } from './src/rds/module-stack';
import { CONTEXT_KEY, addEnvironmentStacks, loadDeploymentSettings } from './src/stacks';

const app = new App();
try {
  new RdsModuleStack(app, 'rds-module');
  addEnvironmentStacks(app, loadDeploymentSettings(app.node.tryGetContext(CONTEXT_KEY), process.env));
} catch (error) {
  // A configuration mistake: say what is wrong and write nothing.
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
app.synth();
