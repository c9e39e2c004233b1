/**
 * The environment stacks of one CDKTF app: vpc-<env> -> rds-<env> -> ecs-<env> for every
 * environment, wired by state outputs and ordered by explicit stack dependencies (so
 * `cdktf deploy 'vpc-dev' 'rds-dev' 'ecs-dev'` applies them in that order).
 */
import { Construct } from 'constructs';
import { ENVIRONMENTS, EnvironmentName } from '../config/environments';
import { EcsStack } from './ecs-stack';
import { EnvironmentStackProps, stackName } from './environment-stack';
import { RdsStack } from './rds-stack';
import { DeploymentSettings } from './settings';
import { VpcStack } from './vpc-stack';

export interface EnvironmentStacks {
  readonly vpc: VpcStack;
  readonly rds: RdsStack;
  readonly ecs: EcsStack;
}

/** Adds the three stacks of each environment to `app`; throws, before anything is written, on bad settings. */
export function addEnvironmentStacks(
  app: Construct,
  settings: DeploymentSettings,
): Readonly<Record<EnvironmentName, EnvironmentStacks>> {
  const stacks = {} as Record<EnvironmentName, EnvironmentStacks>;
  for (const environment of ENVIRONMENTS) {
    const overrides = settings.environments[environment] ?? {};
    const common: EnvironmentStackProps = {
      environment,
      projectName: settings.projectName,
      region: settings.region,
      stateBackend: settings.stateBackend,
      tags: { ...settings.tags, ...overrides.tags },
    };
    const vpc = new VpcStack(app, stackName('vpc', environment), { ...common, ...overrides.network });
    const rds = new RdsStack(app, stackName('rds', environment), {
      ...common,
      disasterRecoveryRegion: settings.disasterRecoveryRegion,
      databaseEngine: overrides.databaseEngine,
      ...overrides.database,
    });
    const ecs = new EcsStack(app, stackName('ecs', environment), { ...common, services: overrides.services });
    // State reads are not references CDKTF can see; the dependencies order deploys and destroys.
    rds.addDependency(vpc);
    ecs.addDependency(vpc);
    ecs.addDependency(rds);
    stacks[environment] = { vpc, rds, ecs };
  }
  return stacks;
}

export { CONTEXT_KEY, loadDeploymentSettings } from './settings';
export type { DeploymentSettings } from './settings';
