import {
  DEFAULT_PROJECT_NAME,
  ENVIRONMENTS,
  environmentConfig,
  naming,
  type EnvironmentConfig,
} from '../config/environments';
import { usageError } from './exit-codes';

/** The module's resources for one project and environment, named exactly as the module names them. */
export interface Target {
  readonly project: string;
  readonly env: string;
  readonly config: EnvironmentConfig;
  readonly primaryIdentifier: string;
  readonly subnetGroupName: string;
  readonly appSecretName: string;
  readonly readonlySecretName: string;
}

export interface TargetOptions {
  readonly env?: string;
  readonly project?: string;
}

// Same rule as RDS identifiers (letters, digits, hyphens, starting with a letter), so a typo fails
// here with a usage error instead of as an AWS validation error halfway through a flow.
const PROJECT_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

export function resolveTarget(options: TargetOptions): Target {
  if (options.env === undefined || options.env === '') {
    throw usageError(`--env is required to find the database (one of ${ENVIRONMENTS.join(', ')}).`);
  }
  let config: EnvironmentConfig;
  try {
    config = environmentConfig(options.env);
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const project = options.project ?? DEFAULT_PROJECT_NAME;
  if (!PROJECT_PATTERN.test(project)) {
    throw usageError(
      `--project '${project}' is not a valid name: lowercase letters, digits and hyphens, starting with a letter.`,
    );
  }
  return {
    project,
    env: config.name,
    config,
    primaryIdentifier: naming.primaryIdentifier(project, config.name),
    subnetGroupName: naming.subnetGroupName(project, config.name),
    appSecretName: naming.appSecretName(project, config.name),
    readonlySecretName: naming.readonlySecretName(project, config.name),
  };
}
