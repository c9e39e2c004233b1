import {
  DEFAULT_PROJECT_NAME,
  ENVIRONMENTS,
  environmentConfig,
  naming,
  type EnvironmentConfig,
} from '../config/environments';
import { CPU_ALARM } from '../config/alarms';
import { isValidProjectName, PROJECT_NAME_RULE } from '../config/names';
import { usageError } from './exit-codes';

/**
 * What the module deployed: `instance`, a DB instance with read replicas (modules/rds), or `aurora-cluster`, an
 * Aurora PostgreSQL cluster (modules/rds-aurora). The operator says which with --engine.
 */
export const ENGINES = ['instance', 'aurora-cluster'] as const;
export type Engine = (typeof ENGINES)[number];

/** The module's resources for one project and environment, named exactly as the module names them. */
export interface Target {
  readonly project: string;
  readonly env: string;
  readonly config: EnvironmentConfig;
  readonly engine: Engine;
  /** The DB instance, or the Aurora cluster's writer instance. */
  readonly primaryIdentifier: string;
  readonly clusterIdentifier: string;
  readonly subnetGroupName: string;
  readonly appSecretName: string;
  readonly readonlySecretName: string;
  readonly tenantContextKeySecretName: string;
  /** The module's CPU alarm on the primary: the threshold the deployment actually uses. */
  readonly cpuAlarmName: string;
}

export interface TargetOptions {
  readonly env?: string;
  readonly project?: string;
  /** @default 'instance' */
  readonly engine?: string;
}

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
  // The module's own rule, so a typo fails here with a usage error instead of as a missing resource.
  if (!isValidProjectName(project)) {
    throw usageError(`--project '${project}' is not a valid name: ${PROJECT_NAME_RULE.description}.`);
  }
  const engine = options.engine ?? 'instance';
  if (!(ENGINES as readonly string[]).includes(engine)) {
    throw usageError(`--engine '${engine}' is not one of ${ENGINES.join(', ')}.`);
  }
  return {
    project,
    env: config.name,
    config,
    engine: engine as Engine,
    primaryIdentifier: naming.primaryIdentifier(project, config.name),
    clusterIdentifier: naming.clusterIdentifier(project, config.name),
    subnetGroupName: naming.subnetGroupName(project, config.name),
    appSecretName: naming.appSecretName(project, config.name),
    readonlySecretName: naming.readonlySecretName(project, config.name),
    tenantContextKeySecretName: naming.tenantContextKeySecretName(project, config.name),
    cpuAlarmName: naming.alarmName(project, config.name, CPU_ALARM.logicalId),
  };
}
