/**
 * Deployment settings for the environment stacks: cdktf.json `context.accessweaver` (reviewed,
 * committed infrastructure choices) and `ACCESSWEAVER_STATE_*` environment variables (where the
 * state lives for this run, e.g. in CI). Every key is checked, so a typo fails the synth instead
 * of being silently ignored.
 */
import { EnvironmentName, isEnvironmentName, UNKNOWN_ENVIRONMENT_MESSAGE } from '../config/environments';
import { regionProblem } from '../config/regions';
import { StateBackendConfig } from './backend';
import { DatabaseEngineName, parseDatabaseEngine } from './database-engine';
import { DATABASE_SETTING_KEYS, DatabaseSettings, parseDatabaseSettings } from './database-settings';
import { isObject, objectAt, optional, stringMap } from './setting-parsers';
import { DEFAULT_REGION } from './environment-stack';
import { SERVICE_KEYS, ServiceKey, ServiceSettings } from './ecs-stack';
import { NatGatewayMode } from './vpc-stack';

/** The cdktf.json context key holding the settings. */
export const CONTEXT_KEY = 'accessweaver';

export type { DatabaseSettings } from './database-settings';

export interface NetworkSettings {
  readonly vpcCidr?: string;
  readonly azCount?: number;
  readonly natGateways?: NatGatewayMode;
  readonly privateSubnetPrefix?: number;
  readonly publicSubnetPrefix?: number;
}

/** Overrides for one environment; each field is optional and falls back to the stacks' defaults. */
export interface EnvironmentSettings {
  readonly network?: NetworkSettings;
  readonly database?: DatabaseSettings;
  /** The database's engine (database-engine.ts). */
  readonly databaseEngine?: DatabaseEngineName;
  readonly services?: Readonly<Partial<Record<ServiceKey, ServiceSettings>>>;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface DeploymentSettings {
  readonly projectName?: string;
  readonly region?: string;
  /** Region of prod's disaster-recovery vault and key (default: the one next to `region`, see disaster-recovery.ts). */
  readonly disasterRecoveryRegion?: string;
  readonly stateBackend: StateBackendConfig;
  readonly tags?: Readonly<Record<string, string>>;
  readonly environments: Readonly<Partial<Record<EnvironmentName, EnvironmentSettings>>>;
}

function parseNetwork(value: unknown, where: string): NetworkSettings | undefined {
  if (value === undefined) return undefined;
  const o = objectAt(value, where, ['vpcCidr', 'azCount', 'natGateways', 'privateSubnetPrefix', 'publicSubnetPrefix']);
  return {
    vpcCidr: optional(o.vpcCidr, `${where}.vpcCidr`, 'string'),
    azCount: optional(o.azCount, `${where}.azCount`, 'number'),
    natGateways: optional(o.natGateways, `${where}.natGateways`, 'string'),
    privateSubnetPrefix: optional(o.privateSubnetPrefix, `${where}.privateSubnetPrefix`, 'number'),
    publicSubnetPrefix: optional(o.publicSubnetPrefix, `${where}.publicSubnetPrefix`, 'number'),
  };
}

function parseDatabase(value: unknown, where: string): DatabaseSettings | undefined {
  if (value === undefined) return undefined;
  return parseDatabaseSettings(objectAt(value, where, DATABASE_SETTING_KEYS), where);
}

function parseServices(value: unknown, where: string): Partial<Record<ServiceKey, ServiceSettings>> | undefined {
  if (value === undefined) return undefined;
  const o = objectAt(value, where, SERVICE_KEYS);
  const services: Partial<Record<ServiceKey, ServiceSettings>> = {};
  for (const key of SERVICE_KEYS) {
    if (o[key] === undefined) continue;
    const at = `${where}.${key}`;
    const s = objectAt(o[key], at, ['image', 'desiredCount', 'cpu', 'memory', 'containerPort']);
    services[key] = {
      image: optional(s.image, `${at}.image`, 'string'),
      desiredCount: optional(s.desiredCount, `${at}.desiredCount`, 'number'),
      cpu: optional(s.cpu, `${at}.cpu`, 'number'),
      memory: optional(s.memory, `${at}.memory`, 'number'),
      containerPort: optional(s.containerPort, `${at}.containerPort`, 'number'),
    };
  }
  return services;
}

function parseStateBackend(value: unknown, where: string): StateBackendConfig | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new Error(`${where} must be an object.`);
  if (value.type === 'local') {
    const o = objectAt(value, where, ['type', 'directory']);
    return { type: 'local', directory: optional(o.directory, `${where}.directory`, 'string') };
  }
  if (value.type === 's3') {
    const o = objectAt(value, where, ['type', 'bucket', 'region', 'keyPrefix']);
    const bucket = optional<string>(o.bucket, `${where}.bucket`, 'string');
    const region = optional<string>(o.region, `${where}.region`, 'string');
    if (bucket === undefined || region === undefined) {
      throw new Error(`${where}: an s3 state backend needs 'bucket' and 'region'.`);
    }
    return { type: 's3', bucket, region, keyPrefix: optional(o.keyPrefix, `${where}.keyPrefix`, 'string') };
  }
  throw new Error(`${where}.type must be 'local' or 's3', got ${JSON.stringify(value.type)}.`);
}

/** The `ACCESSWEAVER_STATE_*` variables; ACCESSWEAVER_STATE_BACKEND selects and the others complete. */
export const STATE_ENV = {
  backend: 'ACCESSWEAVER_STATE_BACKEND',
  directory: 'ACCESSWEAVER_STATE_DIR',
  bucket: 'ACCESSWEAVER_STATE_BUCKET',
  region: 'ACCESSWEAVER_STATE_REGION',
  keyPrefix: 'ACCESSWEAVER_STATE_KEY_PREFIX',
} as const;

function stateBackendFromEnv(env: NodeJS.ProcessEnv, defaultRegion: string): StateBackendConfig | undefined {
  const selected = env[STATE_ENV.backend];
  if (selected === undefined || selected === '') {
    const stray = Object.values(STATE_ENV).filter((name) => env[name]);
    if (stray.length > 0) {
      throw new Error(`${stray.join(', ')} set without ${STATE_ENV.backend} (local or s3).`);
    }
    return undefined;
  }
  if (selected === 'local') {
    return { type: 'local', directory: env[STATE_ENV.directory] || undefined };
  }
  if (selected === 's3') {
    const bucket = env[STATE_ENV.bucket];
    if (!bucket) throw new Error(`${STATE_ENV.backend}=s3 needs ${STATE_ENV.bucket}.`);
    return {
      type: 's3',
      bucket,
      region: env[STATE_ENV.region] || defaultRegion,
      keyPrefix: env[STATE_ENV.keyPrefix] || undefined,
    };
  }
  throw new Error(`${STATE_ENV.backend} must be 'local' or 's3', got '${selected}'.`);
}

/**
 * Reads `context.accessweaver` (undefined when absent) and the state variables of `env`.
 * Without either, the state is local: a newcomer can synth, init and validate with no AWS account.
 */
export function loadDeploymentSettings(context: unknown, env: NodeJS.ProcessEnv): DeploymentSettings {
  const where = `cdktf.json context.${CONTEXT_KEY}`;
  const o =
    context === undefined
      ? {}
      : objectAt(context, where, [
          'projectName',
          'region',
          'disasterRecoveryRegion',
          'stateBackend',
          'tags',
          'environments',
        ]);
  const region = optional<string>(o.region, `${where}.region`, 'string');
  // Checked here too, so the message names the setting rather than a stack.
  const regionIssue = region === undefined ? undefined : regionProblem(region);
  if (regionIssue !== undefined) throw new Error(`${where}.region ${regionIssue}`);

  const environments: Partial<Record<EnvironmentName, EnvironmentSettings>> = {};
  if (o.environments !== undefined) {
    if (!isObject(o.environments)) throw new Error(`${where}.environments must be an object.`);
    for (const [name, value] of Object.entries(o.environments)) {
      if (!isEnvironmentName(name)) {
        throw new Error(`${where}.environments: ${UNKNOWN_ENVIRONMENT_MESSAGE} Got '${name}'.`);
      }
      const at = `${where}.environments.${name}`;
      const e = objectAt(value, at, ['network', 'database', 'databaseEngine', 'services', 'tags']);
      environments[name] = {
        network: parseNetwork(e.network, `${at}.network`),
        database: parseDatabase(e.database, `${at}.database`),
        databaseEngine: parseDatabaseEngine(e.databaseEngine, `${at}.databaseEngine`),
        services: parseServices(e.services, `${at}.services`),
        tags: stringMap(e.tags, `${at}.tags`),
      };
    }
  }

  return {
    projectName: optional(o.projectName, `${where}.projectName`, 'string'),
    region,
    disasterRecoveryRegion: optional(o.disasterRecoveryRegion, `${where}.disasterRecoveryRegion`, 'string'),
    stateBackend: stateBackendFromEnv(env, region ?? DEFAULT_REGION) ??
      parseStateBackend(o.stateBackend, `${where}.stateBackend`) ?? { type: 'local' },
    tags: stringMap(o.tags, `${where}.tags`),
    environments,
  };
}
