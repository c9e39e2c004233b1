import { Construct } from 'constructs';
import { IResolvable, Lazy, TerraformLocal, Token } from 'cdktf';
import {
  DatabaseSizing,
  ENVIRONMENT_CONFIGS,
  EnvironmentName,
  isEnvironmentName,
  RecoveryObjectives,
  SIZING_ATTRIBUTES,
} from '../config/environments';
import {
  BACKUP_VAULT_ARN_PATTERN,
  backupRulesLocal,
  DatabaseBackup,
  KMS_KEY_ARN_PATTERN,
  validateRecovery,
} from './backup';
import { parseCidr } from '../stacks/cidr';
import { DatabaseCredentials } from './credentials';
import { DatabaseEncryption } from './encryption';
import { BoundEngine, DatabaseEngine, postgresInstanceEngine } from './engine';
import { DatabaseLogGroups } from './logs';
import { DatabaseMonitoring } from './monitoring';
import { INSTANCE_CLASSES } from '../config/instance-classes';
import { addressOf, config, CONFIG_LOCAL, ref, tf } from './expressions';
import {
  address,
  CALLER_TAGS_LOCAL,
  COMMON_TAGS_LOCAL,
  DEFAULT_TAGS_LOCAL,
  IDENTITY_TAGS_LOCAL,
  NAME_PREFIX_LOCAL,
} from './naming';
import { DatabaseNetwork } from './network';
import {
  DatabaseParameter,
  DatabaseParameters,
  moduleParametersLocal,
  parametersExpression,
  STATIC_PARAMETERS,
  validateParameters,
} from './parameters';
import { overridesObject, SizingOverrides } from './overrides';
import {
  PointInTimeRestore,
  RESTORE_LOCALS,
  validateOverriddenRow,
  validateOverrides,
  validateRestore,
  validateSizing,
} from './rules';
import { hclChecks, validateEnvironment, validateProjectName, validateSubnets, validateWindows } from './validation';

/** The engine's major version, literal or variable alike: the DB parameter group's name reads it. */
const ENGINE_MAJOR_VERSION_LOCAL = 'engine_major_version';

export const DEFAULT_BACKUP_WINDOW = '03:00-04:00';
export const DEFAULT_MAINTENANCE_WINDOW = 'Sun:04:00-Sun:05:00';

/**
 * Inputs of the AccessWeaver database. Each accepts a literal (checked at synth) or a token such as a Terraform
 * variable (checked by the module's HCL validations at plan).
 */
export interface AccessWeaverDatabaseProps {
  /** Prefix of every name, e.g. `accessweaver` gives `accessweaver-prod-primary`. */
  readonly projectName: string;
  /** `dev`, `staging` or `prod`: selects the sizing row. */
  readonly environment: string;
  readonly vpcId: string;
  /** Private subnets of the DB subnet group: at least two, in different availability zones. */
  readonly privateSubnetIds: string[];
  /**
   * Security groups allowed to connect on 5432, besides the module's own client group.
   * @default []
   */
  readonly allowedSecurityGroupIds?: string[];
  /**
   * Daily backup window, `hh24:mi-hh24:mi` UTC, at least 30 minutes, disjoint from the maintenance window.
   * @default '03:00-04:00'
   */
  readonly backupWindow?: string;
  /**
   * Weekly maintenance window, `ddd:hh24:mi-ddd:hh24:mi` UTC, at least 30 minutes.
   * @default 'Sun:04:00-Sun:05:00'
   */
  readonly maintenanceWindow?: string;
  /**
   * Tags on every resource. They win over the module's default tags (ManagedBy, Backup on the primary, Type on
   * the replicas); Name, Project and Environment stay the module's.
   * @default {}
   */
  readonly tags?: Record<string, string>;
  /**
   * Add the network ACL to the database subnets. Only for subnets dedicated to the database: the ACL admits
   * PostgreSQL and return traffic from `vpcCidr` and nothing else.
   * @default false
   */
  readonly enableNetworkAcl?: boolean | IResolvable;
  /**
   * The VPC CIDR the network ACL admits. Required when `enableNetworkAcl` is true.
   * @default - none
   */
  readonly vpcCidr?: string;
  /**
   * SNS topic for alarms and RDS events.
   * @default - the module creates a topic encrypted with its key
   */
  readonly alarmTopicArn?: string;
  /**
   * IAM principals (ARNs of existing principals) that may decrypt the module's secrets through Secrets Manager
   * without an IAM permission of their own; they are named in the key policy.
   * @default []
   */
  readonly keyUserArns?: string[];
  /**
   * Who may read each secret (IAM principal ARNs): the secrets' resource policies deny `GetSecretValue` to every
   * other principal (the rotation function and the account's root user aside). Give the service roles that
   * connect, and the role that runs `accessweaver-rds setup-database`.
   * @default { app: [], readonly: [], tenantContextKey: [] }
   */
  readonly secretReaders?: SecretReaders;
  /**
   * The sizing table.
   * @default ENVIRONMENT_CONFIGS' database rows (src/config/environments.ts)
   */
  readonly sizing?: Readonly<Record<EnvironmentName, DatabaseSizing>>;
  /**
   * Fields of the environment's sizing row to replace (instance class, storage, Multi-AZ, replicas, thresholds...);
   * the table stays the default. Literal values are checked at synth, field by field and as a whole row.
   * Overriding storageType without iops drops the row's iops.
   * @default {} - the row as the table writes it
   */
  readonly instanceOverrides?: SizingOverrides;
  /**
   * Apply changes to the instances at once rather than in the next maintenance window.
   * @default false
   */
  readonly applyImmediately?: boolean | IResolvable;
  /**
   * Parameter-group entries added to the module's, or replacing one of the same name. Static parameters
   * (STATIC_PARAMETERS) apply at the next reboot unless the entry says otherwise, which is refused.
   * @default []
   */
  readonly parameters?: readonly DatabaseParameter[];
  /**
   * The engine: what runs the database and how the shared parts name and watch it.
   * @default postgresInstanceEngine() - a PostgreSQL 15 DB instance with read replicas
   */
  readonly engine?: DatabaseEngine;
  /**
   * Whether a new major version of the engine (its `majorVersion`) may upgrade the running database.
   * @default false
   */
  readonly allowMajorVersionUpgrade?: boolean | IResolvable;
  /**
   * The snapshot to create the database from: a DB snapshot for an instance, a DB cluster snapshot for a cluster
   * (identifier or ARN). Read at creation only. Exclusive with `restoreToPointInTime`.
   * @default - an empty database
   */
  readonly snapshotIdentifier?: string;
  /**
   * The point in time of another database to create this one from. Read at creation only.
   * @default - an empty database
   */
  readonly restoreToPointInTime?: PointInTimeRestore | IResolvable;
  /**
   * The recovery table: backup rules, continuous backup, objectives.
   * @default ENVIRONMENT_CONFIGS' recovery rows (src/config/environments.ts)
   */
  readonly recovery?: Readonly<Record<EnvironmentName, RecoveryObjectives>>;
  /**
   * AWS Backup vault, in another region, that receives a copy of the recovery points of the rules marked
   * `copyToDisasterRecovery`.
   * @default - no copy
   */
  readonly backupCopyVaultArn?: string;
  /**
   * The KMS key of `backupCopyVaultArn`: the backup role may use it to encrypt the copies.
   * @default - none (the destination key's policy must then admit the role itself)
   */
  readonly backupCopyKeyArn?: string;
}

/** The tables and windows a database is built from, defaults applied. */
interface ResolvedTables {
  readonly sizing: Readonly<Record<EnvironmentName, DatabaseSizing>>;
  readonly recovery: Readonly<Record<EnvironmentName, RecoveryObjectives>>;
  readonly backupWindow: string;
  readonly maintenanceWindow: string;
}

/** Readers of each of the module's secrets (IAM principal ARNs). */
export interface SecretReaders {
  readonly app?: string[];
  readonly readonly?: string[];
  readonly tenantContextKey?: string[];
}

/** The sizing table as the module's `local.instance_configs`: a row per environment, named by SIZING_ATTRIBUTES. */
export function instanceConfigsLocal(
  sizing: Readonly<Record<EnvironmentName, DatabaseSizing>>,
): Record<string, unknown> {
  const fields = Object.entries(SIZING_ATTRIBUTES) as [keyof DatabaseSizing, string][];
  return Object.fromEntries(
    Object.entries(sizing).map(([environment, row]) => [
      environment,
      Object.fromEntries(fields.map(([field, attribute]) => [attribute, row[field]])),
    ]),
  );
}

/** The instance class catalogue as the module's `local.instance_classes`: memory and burstable flag by class. */
export function instanceClassesLocal(): Record<string, { memory_gib: number; burstable: boolean }> {
  return Object.fromEntries(
    Object.entries(INSTANCE_CLASSES).map(([name, spec]) => [
      name,
      { memory_gib: spec.memoryGiB, burstable: spec.burstable },
    ]),
  );
}

/**
 * The AccessWeaver data layer on RDS: a PostgreSQL 15 primary, read replicas, encryption, credentials, network
 * controls and monitoring, sized per environment from one table.
 *
 * Used by `RdsModuleStack` to emit `modules/rds`, with Terraform variables as inputs; any stack can also use it
 * directly with literal inputs.
 */
export class AccessWeaverDatabase extends Construct {
  public readonly encryption: DatabaseEncryption;
  public readonly network: DatabaseNetwork;
  public readonly parameters: DatabaseParameters;
  /** The engine's resources, as the shared parts and the module's outputs read them. */
  public readonly compute: BoundEngine;
  /** The exported PostgreSQL logs' groups, one per instance and log. */
  public readonly logGroups: DatabaseLogGroups;
  public readonly credentials: DatabaseCredentials;
  public readonly monitoring: DatabaseMonitoring;
  public readonly backup: DatabaseBackup;
  /** The topic alarms and events go to: the caller's, else the module's own. */
  public readonly alarmTopicArn: TerraformLocal;

  constructor(scope: Construct, id: string, props: AccessWeaverDatabaseProps) {
    super(scope, id);
    const tables: ResolvedTables = {
      sizing: props.sizing ?? sizingOf(ENVIRONMENT_CONFIGS),
      recovery: props.recovery ?? recoveryOf(ENVIRONMENT_CONFIGS),
      backupWindow: props.backupWindow ?? DEFAULT_BACKUP_WINDOW,
      maintenanceWindow: props.maintenanceWindow ?? DEFAULT_MAINTENANCE_WINDOW,
    };
    const overrides = validateInputs(props, tables);
    const locals = this.addLocals(props, tables, overrides);
    this.alarmTopicArn = locals.alarmTopicArn;
    const parts = this.addParts(locals);
    this.encryption = parts.encryption;
    this.network = parts.network;
    this.parameters = parts.parameters;
    this.logGroups = parts.logGroups;
    this.compute = parts.compute;
    this.credentials = parts.credentials;
    this.backup = parts.backup;
    this.monitoring = parts.monitoring;
  }

  /**
   * Inputs land in locals first, so the parts read the same local whether the value is a literal or a Terraform
   * variable; then the locals every part reads (the selected row, names, tags, windows, parameters).
   */
  private addLocals(props: AccessWeaverDatabaseProps, tables: ResolvedTables, overrides: unknown) {
    const { sizing, recovery, backupWindow, maintenanceWindow } = tables;
    const local = (name: string, value: unknown) => address(new TerraformLocal(this, `local-${name}`, value), name);
    const projectName = local('project_name', props.projectName);
    const environment = local('environment', props.environment);
    const inputs = networkInputLocals(local, props, { backupWindow, maintenanceWindow });
    const keyUserArns = local('key_user_arns', props.keyUserArns ?? []);
    const secretReaders = secretReadersLocal(local, props.secretReaders);
    const alarmTopicArnInput = local('alarm_topic_arn_input', props.alarmTopicArn ?? Token.nullValue());
    local(CALLER_TAGS_LOCAL, props.tags ?? {});
    const instanceConfigs = local('instance_configs', instanceConfigsLocal(sizing));
    const backupRules = local('backup_rules', backupRulesLocal(recovery));
    const backupCopy = {
      vault: local('backup_copy_vault_arn', props.backupCopyVaultArn ?? Token.nullValue()),
      key: local('backup_copy_kms_key_arn', props.backupCopyKeyArn ?? Token.nullValue()),
    };
    const instanceClasses = local('instance_classes', instanceClassesLocal());
    const instanceClass = selectedRowLocals(local, { instanceConfigs, instanceClasses, environment, overrides });
    nameAndTagLocals(local, projectName, environment);
    // Both read parts made below (the subnets' zones, the module's own topic): resolved at synth.
    const availabilityZones = local(
      'availability_zones',
      Lazy.stringValue({
        produce: () =>
          tf.string(`distinct([for subnet in ${addressOf(this.network.subnets)} : subnet.availability_zone])`),
      }),
    );
    const alarmTopicArn = local(
      'alarm_topic_arn',
      Lazy.stringValue({
        produce: () =>
          tf.string(
            `${addressOf(alarmTopicArnInput)} != null ? ${addressOf(alarmTopicArnInput)} : ` +
              ref(this.monitoring.ownTopic, 'arn', 0),
          ),
      }),
    );
    for (const [name, expression] of Object.entries(hclChecks.windowLocals)) local(name, tf.string(expression));
    const applyImmediately = local('apply_immediately', props.applyImmediately ?? false);
    const restore = restoreLocals(local, props);
    const engine = props.engine ?? postgresInstanceEngine();
    local(ENGINE_MAJOR_VERSION_LOCAL, engine.majorVersion);
    const { parameters, instanceParameters } = parameterLocals(local, props.parameters, engine);

    return {
      inputs,
      environment,
      keyUserArns,
      secretReaders,
      alarmTopicArnInput,
      alarmTopicArn,
      backupRules,
      backupCopy,
      instanceClass,
      availabilityZones,
      applyImmediately,
      restore,
      parameters,
      instanceParameters,
      engine,
      local,
    };
  }

  /** The parts, each reading the locals and the parts made before it; returns them. */
  private addParts(locals: ReturnType<AccessWeaverDatabase['addLocals']>) {
    const { inputs, environment, keyUserArns, secretReaders, alarmTopicArnInput, alarmTopicArn, backupRules } = locals;
    const { backupCopy, instanceClass, availabilityZones, applyImmediately, engine, local } = locals;
    const encryption = new DatabaseEncryption(this, 'encryption', { keyUserArns, engine });
    const network = new DatabaseNetwork(this, 'network', inputs);
    const parameters = new DatabaseParameters(this, 'parameters', {
      parameters: locals.instanceParameters,
      family: engine.parameterGroupFamily,
      majorVersion: `local.${ENGINE_MAJOR_VERSION_LOCAL}`,
    });
    const logGroups = new DatabaseLogGroups(this, 'logs', { key: encryption.key, engine });
    const compute = engine.bind(this, 'instances', {
      logGroups: logGroups.groups,
      key: encryption.key,
      partition: encryption.partition,
      subnetGroup: network.subnetGroup,
      parameterGroup: parameters.group,
      databaseSecurityGroup: network.databaseSecurityGroup,
      availabilityZones,
      backupWindow: inputs.backupWindow,
      maintenanceWindow: inputs.maintenanceWindow,
      applyImmediately,
      ...locals.restore,
      parameters: locals.parameters,
    });
    const credentials = new DatabaseCredentials(this, 'credentials', {
      key: encryption.key,
      region: encryption.region,
      partition: encryption.partition,
      databaseSecurityGroup: network.databaseSecurityGroup,
      engine: compute,
      vpcId: inputs.vpcId,
      privateSubnetIds: inputs.privateSubnetIds,
      caller: encryption.caller,
      secretReaders,
    });
    const backup = new DatabaseBackup(this, 'backup', {
      key: encryption.key,
      partition: encryption.partition,
      target: compute.writer.backupTarget,
      rules: local('backup_rules_selected', tf.any(`${addressOf(backupRules)}[${addressOf(environment)}]`)),
      copyVaultArn: backupCopy.vault,
      copyKeyArn: backupCopy.key,
      forceDestroy: `!${config('protectFromDeletion')}`,
    });
    encryption.attachPolicy({ rotationFunction: credentials.rotationFunction });
    const monitoring = new DatabaseMonitoring(this, 'monitoring', {
      key: encryption.key,
      caller: encryption.caller,
      region: encryption.region,
      engine: compute,
      parameterGroup: parameters.group,
      alarmTopicArnInput,
      alarmTopicArn,
      instanceClass,
    });
    return { encryption, network, parameters, logGroups, compute, credentials, backup, monitoring };
  }
}

type LocalMaker = (name: string, value: unknown) => TerraformLocal;

/** The network and window inputs, as locals. */
function networkInputLocals(
  local: LocalMaker,
  props: AccessWeaverDatabaseProps,
  windows: { backupWindow: unknown; maintenanceWindow: unknown },
) {
  return {
    vpcId: local('vpc_id', props.vpcId),
    privateSubnetIds: local('private_subnet_ids', props.privateSubnetIds),
    allowedSecurityGroupIds: local('allowed_security_groups', props.allowedSecurityGroupIds ?? []),
    backupWindow: local('backup_window', windows.backupWindow),
    maintenanceWindow: local('maintenance_window', windows.maintenanceWindow),
    enableNetworkAcl: local('enable_network_acl', props.enableNetworkAcl ?? false),
    vpcCidr: local('vpc_cidr', props.vpcCidr ?? Token.nullValue()),
  };
}

/** Who may read each secret: the caller's map, or its lists with the module's key names. */
function secretReadersLocal(local: LocalMaker, readers: AccessWeaverDatabaseProps['secretReaders']): TerraformLocal {
  return local(
    'secret_readers',
    Token.isUnresolved(readers)
      ? readers
      : {
          app: readers?.app ?? [],
          readonly: readers?.readonly ?? [],
          tenant_context_key: readers?.tenantContextKey ?? [],
        },
  );
}

/** The major-version upgrade switch and the restore inputs, as locals. */
function restoreLocals(local: LocalMaker, props: AccessWeaverDatabaseProps) {
  return {
    allowMajorVersionUpgrade: local('allow_major_version_upgrade', props.allowMajorVersionUpgrade ?? false),
    snapshotIdentifier: local(RESTORE_LOCALS.snapshot, props.snapshotIdentifier ?? Token.nullValue()),
    restoreToPointInTime: local(RESTORE_LOCALS.pointInTime, pointInTimeObject(props.restoreToPointInTime)),
  };
}

/** `local.config`, the environment's row with the caller's overrides, and the catalogue entry of its class. */
function selectedRowLocals(
  local: LocalMaker,
  tables: {
    instanceConfigs: TerraformLocal;
    instanceClasses: TerraformLocal;
    environment: TerraformLocal;
    overrides: unknown;
  },
): TerraformLocal {
  const { instanceConfigs, instanceClasses, environment, overrides } = tables;
  const instanceOverrides = addressOf(local('instance_overrides', overrides));
  local(
    CONFIG_LOCAL,
    tf.string(
      `merge(${addressOf(instanceConfigs)}[${addressOf(environment)}], { for k, v in ${instanceOverrides} : k => v if v != null }, ` +
        // A new storage type without its own iops drops the row's (gp3 takes no iops below 400 GiB).
        `{ for k in ["iops"] : k => null if try(${instanceOverrides}.storage_type, null) != null && try(${instanceOverrides}.iops, null) == null })`,
    ),
  );
  return local('instance_class', tf.string(`${addressOf(instanceClasses)}[${config('instanceClass')}]`));
}

/** The name prefix and the tags every resource carries. */
function nameAndTagLocals(local: LocalMaker, projectName: TerraformLocal, environment: TerraformLocal): void {
  local(NAME_PREFIX_LOCAL, `\${${addressOf(projectName)}}-\${${addressOf(environment)}}`);
  local(IDENTITY_TAGS_LOCAL, {
    Project: tf.string(addressOf(projectName)),
    Environment: tf.string(addressOf(environment)),
  });
  local(DEFAULT_TAGS_LOCAL, { ManagedBy: 'terraform' });
  local(
    COMMON_TAGS_LOCAL,
    tf.string(`merge(local.${DEFAULT_TAGS_LOCAL}, local.${CALLER_TAGS_LOCAL}, local.${IDENTITY_TAGS_LOCAL})`),
  );
}

/** The parameters the group applies: the module's map, the caller's entries, and which parameters are static. */
function parameterLocals(
  local: LocalMaker,
  callerEntries: readonly DatabaseParameter[] | undefined,
  engine: DatabaseEngine,
): { parameters: TerraformLocal; instanceParameters: TerraformLocal } {
  const staticParameters = local('static_parameters', [...STATIC_PARAMETERS]);
  const callerParameters = local('caller_parameters', parametersObject(callerEntries));
  const moduleParameters = local('module_parameters', moduleParametersLocal(engine.parameters?.overrides));
  const parameters = local(
    'parameters',
    tf.string(
      parametersExpression(addressOf(moduleParameters), addressOf(callerParameters), addressOf(staticParameters)),
    ),
  );
  // An engine with cluster-level parameters keeps only its instance-level ones in the DB parameter group.
  const instanceLevel = engine.parameters?.instanceLevel;
  const instanceParameters = instanceLevel
    ? local(
        'instance_parameters',
        tf.string(
          `{ for name, p in ${addressOf(parameters)} : name => p if contains(${JSON.stringify(instanceLevel)}, name) }`,
        ),
      )
    : parameters;
  return { parameters, instanceParameters };
}

/** Checks every literal input at synth, naming the bad value; returns the literal overrides, named as in the module. */
function validateInputs(
  props: AccessWeaverDatabaseProps,
  { sizing, recovery, backupWindow, maintenanceWindow }: ResolvedTables,
): unknown {
  validateProjectName(props.projectName);
  validateEnvironment(props.environment);
  for (const [environment, row] of Object.entries(sizing)) {
    validateSizing(environment, row);
  }
  for (const [environment, row] of Object.entries(recovery)) {
    validateRecovery(environment, row);
  }
  for (const [name, value, pattern] of [
    ['backupCopyVaultArn', props.backupCopyVaultArn, BACKUP_VAULT_ARN_PATTERN],
    ['backupCopyKeyArn', props.backupCopyKeyArn, KMS_KEY_ARN_PATTERN],
  ] as const) {
    if (value !== undefined && !Token.isUnresolved(value) && !new RegExp(pattern).test(value)) {
      throw new Error(`${name} '${value}' does not match ${pattern}`);
    }
  }
  validateSubnets(props.privateSubnetIds);
  validateWindows(backupWindow, maintenanceWindow);
  if (props.parameters !== undefined && !Token.isUnresolved(props.parameters)) validateParameters(props.parameters);
  const pointInTime = props.restoreToPointInTime;
  if (!Token.isUnresolved(props.snapshotIdentifier) && !Token.isUnresolved(pointInTime)) {
    validateRestore({
      snapshotIdentifier: props.snapshotIdentifier ?? null,
      restoreToPointInTime: (pointInTime as PointInTimeRestore | undefined) ?? null,
    });
  }
  if (props.enableNetworkAcl === true && props.vpcCidr === undefined) {
    throw new Error('enableNetworkAcl is true but vpcCidr is not set: the ACL admits PostgreSQL from that CIDR only');
  }
  if (props.vpcCidr !== undefined && !Token.isUnresolved(props.vpcCidr)) parseCidr(props.vpcCidr, 'vpcCidr');

  return literalOverrides(props.instanceOverrides, props.environment, sizing);
}

/** Literal overrides checked and named as the module names them; a token is passed through for plan. */
function literalOverrides(
  overrides: SizingOverrides | undefined,
  environment: string,
  sizing: Readonly<Record<EnvironmentName, DatabaseSizing>>,
): unknown {
  if (overrides === undefined) return {};
  if (Token.isUnresolved(overrides)) return overrides;
  if (!Token.isUnresolved(environment) && isEnvironmentName(environment)) {
    validateOverriddenRow(environment, sizing[environment], overrides);
  } else {
    validateOverrides(overrides);
  }
  return overridesObject(overrides);
}

/** A point-in-time restore as the module's `restore_to_point_in_time` object (null when absent); a token passes. */
function pointInTimeObject(restore: PointInTimeRestore | IResolvable | undefined): unknown {
  if (restore === undefined) return Token.nullValue();
  if (Token.isUnresolved(restore)) return restore;
  const p = restore as PointInTimeRestore;
  return {
    source_identifier: p.sourceIdentifier ?? null,
    source_resource_id: p.sourceResourceId ?? null,
    restore_time: p.restoreTime ?? null,
    use_latest_restorable_time: p.useLatestRestorableTime ?? null,
  };
}

/** Caller parameters as the module's `parameters` list (apply_method null when absent); tokens pass through. */
function parametersObject(parameters: readonly DatabaseParameter[] | undefined): unknown {
  if (parameters === undefined) return [];
  if (Token.isUnresolved(parameters)) return parameters;
  return parameters.map((p) => ({ name: p.name, value: p.value, apply_method: p.applyMethod ?? null }));
}

export function recoveryOf(configs: typeof ENVIRONMENT_CONFIGS): Record<EnvironmentName, RecoveryObjectives> {
  return { dev: configs.dev.recovery, staging: configs.staging.recovery, prod: configs.prod.recovery };
}

export function sizingOf(configs: typeof ENVIRONMENT_CONFIGS): Record<EnvironmentName, DatabaseSizing> {
  return { dev: configs.dev.database, staging: configs.staging.database, prod: configs.prod.database };
}
