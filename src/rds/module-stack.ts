import { Construct } from 'constructs';
import { TerraformOutput, TerraformStack, TerraformVariable, Token } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { IAM_OPERATOR_LOGIN, UNKNOWN_ENVIRONMENT_MESSAGE } from '../config/environments';
import { PROJECT_NAME_RULE } from '../config/names';
import { BACKUP_VAULT_ARN_PATTERN, KMS_KEY_ARN_PATTERN } from './backup';
import { AccessWeaverDatabase, DEFAULT_BACKUP_WINDOW, DEFAULT_MAINTENANCE_WINDOW } from './database';
import { DatabaseEngine, postgresInstanceEngine } from './engine';
import { addressOf, ref, tf } from './expressions';
import { OVERRIDES_HCL_TYPE } from './overrides';
import {
  DEFAULT_ENGINE_MAJOR_VERSION,
  ENGINE_MAJOR_VERSIONS,
  inputValidations,
  overrideValidations,
  pointInTimeValidations,
} from './rules';
import { PARAMETER_VALIDATIONS } from './parameters';
import { AWS_PROVIDER_RANGE } from './provider-range';
import { hclChecks, MINIMUM_WINDOW_MINUTES, WINDOW_FORMATS, WindowKind } from './validation';
import { MODULE_VERSION } from './version';

/** The plan-time message of a malformed window: the TypeScript check's format and example. */
const windowFormatMessage = (kind: WindowKind) =>
  `${WINDOW_FORMATS[kind].input} must be ${WINDOW_FORMATS[kind].format}, e.g. ${WINDOW_FORMATS[kind].example}.`;

/** Provider requirements of the emitted module: ranges, so callers pick the exact versions (aws: provider-range). */
export const MODULE_REQUIRED_PROVIDERS = {
  aws: { source: 'hashicorp/aws', version: AWS_PROVIDER_RANGE },
  random: { source: 'hashicorp/random', version: '~> 3.6' },
} as const;
/** Preconditions and cross-variable checks need Terraform 1.5. */
export const MODULE_REQUIRED_TERRAFORM = '>= 1.5.0';

export interface ModuleVariableSpec {
  readonly name: string;
  readonly type: string;
  readonly description: string;
  /** Absent for required inputs. */
  readonly default?: unknown;
  readonly validation?: ReadonlyArray<{ readonly condition: string; readonly errorMessage: string }>;
}

/** The module's inputs: the eight required or long-standing ones first, then optional ones, each with a default. */
export const MODULE_VARIABLES: readonly ModuleVariableSpec[] = [
  {
    name: 'project_name',
    type: 'string',
    description: 'Project name, the first part of every resource name (<project>-<environment>-...).',
    validation: [
      {
        condition: `can(regex(${JSON.stringify(PROJECT_NAME_RULE.pattern)}, var.project_name))`,
        errorMessage: `project_name must be ${PROJECT_NAME_RULE.description} (RDS identifier rules).`,
      },
    ],
  },
  {
    name: 'environment',
    type: 'string',
    description: 'Environment: dev, staging or prod. Selects the sizing row of local.instance_configs.',
    validation: [{ condition: hclChecks.environment, errorMessage: UNKNOWN_ENVIRONMENT_MESSAGE }],
  },
  {
    name: 'vpc_id',
    type: 'string',
    description: 'ID of the VPC that holds the database.',
    validation: [
      {
        condition: 'can(regex("^vpc-[0-9a-f]+$", var.vpc_id))',
        errorMessage: 'vpc_id must look like vpc-0123456789abcdef0.',
      },
    ],
  },
  {
    name: 'private_subnet_ids',
    type: 'list(string)',
    description: 'Private subnets for the DB subnet group: at least two, in different availability zones.',
    validation: [
      {
        condition: hclChecks.subnetCount,
        errorMessage:
          'private_subnet_ids needs at least two distinct subnets (the DB subnet group spans two availability zones).',
      },
    ],
  },
  {
    name: 'allowed_security_groups',
    type: 'list(string)',
    description:
      "Security groups allowed to connect on 5432, besides the module's client group (security_group_client_id).",
    default: [],
    validation: [
      {
        condition: 'alltrue([for id in var.allowed_security_groups : can(regex("^sg-[0-9a-f]+$", id))])',
        errorMessage: 'allowed_security_groups must hold security group IDs (sg-...).',
      },
    ],
  },
  {
    name: 'backup_window',
    type: 'string',
    description: `Daily backup window, ${WINDOW_FORMATS.backup.format}, at least ${MINIMUM_WINDOW_MINUTES} minutes, disjoint from maintenance_window.`,
    default: DEFAULT_BACKUP_WINDOW,
    validation: [
      {
        condition: hclChecks.backupWindowFormat,
        errorMessage: windowFormatMessage('backup'),
      },
    ],
  },
  {
    name: 'maintenance_window',
    type: 'string',
    description: `Weekly maintenance window, ${WINDOW_FORMATS.maintenance.format}, at least ${MINIMUM_WINDOW_MINUTES} minutes.`,
    default: DEFAULT_MAINTENANCE_WINDOW,
    validation: [
      {
        condition: hclChecks.maintenanceWindowFormat,
        errorMessage: windowFormatMessage('maintenance'),
      },
    ],
  },
  {
    name: 'tags',
    type: 'map(string)',
    description:
      "Tags on every resource; they win over the module's default tags (ManagedBy, Backup, Type). Name, Project " +
      "and Environment stay the module's.",
    default: {},
  },
  {
    name: 'key_user_arns',
    type: 'list(string)',
    description:
      'IAM principals (existing ARNs) named in the key policy: they may decrypt the secrets through Secrets Manager without an IAM kms: permission of their own.',
    default: [],
    validation: [
      {
        condition: 'alltrue([for arn in var.key_user_arns : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:", arn))])',
        errorMessage: 'key_user_arns must hold IAM principal ARNs (arn:aws:iam::<account>:...).',
      },
    ],
  },
  {
    name: 'secret_readers',
    type: 'object({ app = optional(list(string), []), readonly = optional(list(string), []), tenant_context_key = optional(list(string), []) })',
    description:
      "Who may read each secret (IAM principal ARNs). Each secret's resource policy denies GetSecretValue to every " +
      "other principal, the rotation function and the account's root user aside. Name the service roles that " +
      'connect and the role that runs accessweaver-rds setup-database.',
    default: {},
    validation: [
      {
        condition:
          'alltrue([for arn in concat(var.secret_readers.app, var.secret_readers.readonly, var.secret_readers.tenant_context_key) : can(regex("^arn:[a-z-]+:(iam|sts)::[0-9]{12}:", arn))])',
        errorMessage: 'secret_readers must hold IAM principal ARNs (arn:aws:iam::<account>:role/...).',
      },
    ],
  },
  {
    name: 'enable_network_acl',
    type: 'bool',
    description:
      'Attach a network ACL to private_subnet_ids admitting only PostgreSQL and return traffic from vpc_cidr. Only for subnets dedicated to the database: it blocks every other flow on them.',
    default: false,
  },
  {
    name: 'vpc_cidr',
    type: 'string',
    description: 'VPC CIDR admitted by the network ACL (required when enable_network_acl is true).',
    default: null,
    validation: [
      {
        condition: 'var.vpc_cidr == null ? true : can(cidrhost(var.vpc_cidr, 0))',
        errorMessage: 'vpc_cidr must be a CIDR block.',
      },
    ],
  },
  {
    name: 'alarm_sns_topic_arn',
    type: 'string',
    description: 'SNS topic for alarms and RDS events. When null the module creates one, encrypted with its key.',
    default: null,
  },
  {
    name: 'instance_overrides',
    type: OVERRIDES_HCL_TYPE,
    description:
      "Replaces fields of the environment's sizing row (attributes as in local.instance_configs: instance_class, " +
      'allocated_storage, storage_type, iops, multi_az, replica_count, backup_retention, alarm thresholds...). Unset fields keep the table value; setting storage_type without iops drops the row iops.',
    default: {},
    validation: overrideValidations('instance_overrides'),
  },
  {
    name: 'apply_immediately',
    type: 'bool',
    description: 'Apply instance changes at once instead of in the next maintenance window.',
    default: false,
  },
  {
    name: 'parameters',
    type: 'list(object({ name = string, value = string, apply_method = optional(string) }))',
    description:
      "Parameter-group entries added to the module's, or replacing the module's entry of the same name. " +
      'Static parameters get apply_method pending-reboot unless set.',
    default: [],
    validation: PARAMETER_VALIDATIONS,
  },
  {
    name: 'backup_copy_vault_arn',
    type: 'string',
    description:
      'AWS Backup vault in another region receiving a copy of the recovery points of the rules the environment table marks for disaster recovery (prod). When null nothing is copied.',
    default: null,
    validation: [
      {
        condition: `var.backup_copy_vault_arn == null ? true : can(regex(${JSON.stringify(BACKUP_VAULT_ARN_PATTERN)}, var.backup_copy_vault_arn))`,
        errorMessage:
          'backup_copy_vault_arn must be a backup vault ARN (arn:aws:backup:<region>:<account>:backup-vault:<name>).',
      },
    ],
  },
  {
    name: 'backup_copy_kms_key_arn',
    type: 'string',
    description: "KMS key of backup_copy_vault_arn: the module's backup role is allowed to encrypt the copies with it.",
    default: null,
    validation: [
      {
        condition: `var.backup_copy_kms_key_arn == null ? true : can(regex(${JSON.stringify(KMS_KEY_ARN_PATTERN)}, var.backup_copy_kms_key_arn))`,
        errorMessage: 'backup_copy_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>).',
      },
    ],
  },
  {
    name: 'engine_major_version',
    type: 'string',
    description:
      `PostgreSQL major version (${ENGINE_MAJOR_VERSIONS.join(', ')}); the parameter group family follows it. ` +
      'RDS applies minor versions in the maintenance window. Raising it on a running database needs ' +
      'allow_major_version_upgrade = true.',
    default: DEFAULT_ENGINE_MAJOR_VERSION,
    validation: inputValidations('engine_major_version'),
  },
  {
    name: 'allow_major_version_upgrade',
    type: 'bool',
    description: 'Let a new engine_major_version upgrade the running database (an outage of several minutes).',
    default: false,
  },
  {
    name: 'snapshot_identifier',
    type: 'string',
    description:
      'Create the database from this snapshot (identifier or ARN): a DB snapshot for modules/rds, a DB cluster ' +
      'snapshot for modules/rds-aurora. Read at creation only: later changes are ignored. Exclusive with ' +
      'restore_to_point_in_time.',
    default: null,
  },
  {
    name: 'restore_to_point_in_time',
    type:
      'object({ source_identifier = optional(string), source_resource_id = optional(string), ' +
      'restore_time = optional(string), use_latest_restorable_time = optional(bool) })',
    description:
      'Create the database as another one was at a point in time: its identifier (a DB instance for modules/rds, ' +
      'a cluster for modules/rds-aurora) or resource ID, and restore_time (RFC 3339 UTC) or ' +
      'use_latest_restorable_time = true. Read at creation only: later changes are ignored.',
    default: null,
    validation: pointInTimeValidations('restore_to_point_in_time'),
  },
];

export interface ModuleOutputSpec {
  /** How TypeScript names the output (RDS_OUTPUTS.<key> in the stacks). */
  readonly key: string;
  readonly name: string;
  readonly description: string;
  /** HCL expression of the value, built from the database's parts. */
  readonly value: (database: AccessWeaverDatabase) => string;
  readonly sensitive?: boolean;
}

/** The module's outputs; names are a contract with its callers and with the rds-<env> stacks. */
export const MODULE_OUTPUTS = [
  {
    key: 'primaryEndpoint',
    name: 'primary_endpoint',
    description: 'Endpoint (host:port) of the primary.',
    value: (db) => db.compute.writer.endpoint,
  },
  {
    key: 'primaryAddress',
    name: 'primary_address',
    description: 'Host name of the primary.',
    value: (db) => db.compute.writer.address,
  },
  {
    key: 'replicaEndpoints',
    name: 'replica_endpoints',
    description: 'Endpoints (host:port) of the read replicas.',
    value: (db) => db.compute.readers.endpoints,
  },
  {
    key: 'databaseName',
    name: 'database_name',
    description: 'Name of the database.',
    value: (db) => db.compute.writer.databaseName,
  },
  {
    key: 'databasePort',
    name: 'database_port',
    description: 'Port of the database.',
    value: (db) => db.compute.writer.port,
  },
  {
    key: 'securityGroupId',
    name: 'security_group_id',
    description: 'ID of the database security group.',
    value: (db) => ref(db.network.databaseSecurityGroup, 'id'),
  },
  {
    key: 'securityGroupClientId',
    name: 'security_group_client_id',
    description: 'ID of the client security group: attach it to anything that connects to the database.',
    value: (db) => ref(db.network.clientSecurityGroup, 'id'),
  },
  {
    key: 'masterSecretArn',
    name: 'secret_arn',
    description: 'ARN of the RDS-managed secret holding the master credentials (username, password).',
    value: (db) => db.compute.writer.masterSecretArn,
  },
  {
    key: 'kmsKeyId',
    name: 'kms_key_id',
    description: 'ID of the KMS key encrypting storage, secrets and alerts.',
    value: (db) => ref(db.encryption.key, 'keyId'),
  },
  {
    key: 'instanceId',
    name: 'instance_id',
    description: 'Identifier of the primary (<project>-<environment>-primary), as CloudWatch and the RDS API name it.',
    value: (db) => db.compute.writer.identifier,
  },
  {
    key: 'instanceArn',
    name: 'instance_arn',
    description: 'ARN of the primary (the writer instance of a cluster).',
    value: (db) => db.compute.writer.arn,
  },
  {
    key: 'instanceResourceId',
    name: 'instance_resource_id',
    description: 'RDS resource ID (db-...) of the primary.',
    value: (db) => db.compute.writer.resourceId,
  },
  {
    key: 'tenantContextKeySecretArn',
    name: 'tenant_context_key_secret_arn',
    description:
      'ARN of the secret with the tenant-context signing key ({"version", "key"}), encrypted with the module key: for the service that issues tenant contexts only.',
    value: (db) => ref(db.credentials.tenantContextKeySecret, 'arn'),
  },
  {
    key: 'operatorDbUserArns',
    name: 'operator_db_user_arns',
    description: `rds-db:connect resources of the IAM operator login (${IAM_OPERATOR_LOGIN}) on the primary and each replica.`,
    value: (db) => addressOf(db.credentials.operatorDbUserArns),
  },
  {
    key: 'operatorConnectPolicyJson',
    name: 'operator_connect_policy_json',
    description: `IAM policy an operator role needs to connect as ${IAM_OPERATOR_LOGIN} with an IAM token.`,
    value: (db) => `jsonencode(${addressOf(db.credentials.operatorConnectPolicy)})`,
  },
  {
    key: 'rotationFunctionGuardPolicyJson',
    name: 'rotation_function_guard_policy_json',
    description:
      'Deny policy (null without credential rotation) keeping the rotation function, which reads the master secret, its CloudFormation stack and its role unchanged, and its role from being passed, by anyone but the identity applying the module and the root user. Attach it as a service control policy of the account, or to the permissions boundary of every role: Lambda, CloudFormation and IAM have no resource policy for it.',
    value: (db) => {
      const guard = addressOf(db.credentials.rotationGuard);
      return `length(${guard}) > 0 ? ${guard}[0].json : null`;
    },
  },
  {
    key: 'kmsKeyArn',
    name: 'kms_key_arn',
    description: 'ARN of the KMS key: grant kms:Decrypt on it to readers of the credential secrets.',
    value: (db) => ref(db.encryption.key, 'arn'),
  },
  {
    key: 'appSecretArn',
    name: 'app_secret_arn',
    description: 'ARN of the secret with the application login (accessweaver_app) and connection details.',
    value: (db) => ref(db.credentials.appSecret, 'arn'),
  },
  {
    key: 'readonlySecretArn',
    name: 'readonly_secret_arn',
    description: 'ARN of the secret with the read-only login (accessweaver_readonly) and every reader host.',
    value: (db) => ref(db.credentials.readonlySecret, 'arn'),
  },
  {
    key: 'replicaAddresses',
    name: 'replica_addresses',
    description: 'Host names of the read replicas.',
    value: (db) => db.compute.readers.addresses,
  },
  {
    key: 'alarmTopicArn',
    name: 'alarm_topic_arn',
    description: 'SNS topic receiving the alarms and RDS events.',
    value: (db) => addressOf(db.alarmTopicArn),
  },
  {
    key: 'backupVaultArn',
    name: 'backup_vault_arn',
    description: "ARN of the AWS Backup vault holding the primary's recovery points (encrypted with the module key).",
    value: (db) => ref(db.backup.vault, 'arn'),
  },
  {
    key: 'backupPlanId',
    name: 'backup_plan_id',
    description: 'ID of the AWS Backup plan covering the primary.',
    value: (db) => ref(db.backup.plan, 'id'),
  },
  {
    key: 'backupRoleArn',
    name: 'backup_role_arn',
    description: 'ARN of the role AWS Backup uses: the DR key policy may name it.',
    value: (db) => ref(db.backup.role, 'arn'),
  },
  {
    key: 'moduleVersion',
    name: 'module_version',
    description: 'Semantic version of this module (CHANGELOG.md of the AccessWeaver data layer says what changed).',
    value: () => JSON.stringify(MODULE_VERSION),
  },
] as const satisfies readonly ModuleOutputSpec[];

/** What sets one generated module apart from modules/rds: its engine, and the inputs and outputs that come with it. */
export interface ModuleVariant {
  /** The engine, given the module's variables. @default a PostgreSQL DB instance of `engine_major_version` */
  readonly engine?: (vars: Readonly<Record<string, TerraformVariable>>) => DatabaseEngine;
  /** Inputs after MODULE_VARIABLES. */
  readonly variables?: readonly ModuleVariableSpec[];
  /** Outputs after MODULE_OUTPUTS. */
  readonly outputs?: readonly ModuleOutputSpec[];
}

/**
 * Emits the AccessWeaver database as a plain Terraform module: variables, outputs and resources, with provider
 * requirements as ranges and no provider configuration or backend, so a caller's `module "rds" { source = ... }`
 * works unchanged.
 */
export class RdsModuleStack extends TerraformStack {
  constructor(scope: Construct, id: string, variant: ModuleVariant = {}) {
    super(scope, id);

    // Present only for cdktf's provider validation and required_providers; stripped from the output below.
    new AwsProvider(this, 'aws', {});
    new RandomProvider(this, 'random', {});

    const vars = Object.fromEntries(
      [...MODULE_VARIABLES, ...(variant.variables ?? [])].map((spec) => [
        spec.name,
        new TerraformVariable(this, spec.name, {
          type: spec.type,
          description: spec.description,
          ...('default' in spec ? { default: spec.default === null ? Token.nullValue() : spec.default } : {}),
          ...(spec.default === null ? { nullable: true } : {}),
          validation: spec.validation?.map((v) => ({
            condition: tf.string(v.condition),
            errorMessage: v.errorMessage,
          })),
        }),
      ]),
    );

    const database = new AccessWeaverDatabase(this, 'database', {
      projectName: vars.project_name.stringValue,
      environment: vars.environment.stringValue,
      vpcId: vars.vpc_id.stringValue,
      privateSubnetIds: vars.private_subnet_ids.listValue,
      allowedSecurityGroupIds: vars.allowed_security_groups.listValue,
      backupWindow: vars.backup_window.stringValue,
      maintenanceWindow: vars.maintenance_window.stringValue,
      tags: vars.tags.value,
      enableNetworkAcl: vars.enable_network_acl.booleanValue,
      vpcCidr: vars.vpc_cidr.stringValue,
      alarmTopicArn: vars.alarm_sns_topic_arn.stringValue,
      instanceOverrides: vars.instance_overrides.value,
      applyImmediately: vars.apply_immediately.booleanValue,
      parameters: vars.parameters.value,
      backupCopyVaultArn: vars.backup_copy_vault_arn.stringValue,
      backupCopyKeyArn: vars.backup_copy_kms_key_arn.stringValue,
      keyUserArns: vars.key_user_arns.listValue,
      secretReaders: vars.secret_readers.value,
      allowMajorVersionUpgrade: vars.allow_major_version_upgrade.booleanValue,
      snapshotIdentifier: vars.snapshot_identifier.stringValue,
      restoreToPointInTime: vars.restore_to_point_in_time.value,
      engine: (variant.engine ?? ((v) => postgresInstanceEngine(v.engine_major_version.stringValue)))(vars),
    });

    for (const spec of [...(MODULE_OUTPUTS as readonly ModuleOutputSpec[]), ...(variant.outputs ?? [])]) {
      new TerraformOutput(this, spec.name, {
        value: tf.any(spec.value(database)),
        description: spec.description,
        sensitive: spec.sensitive,
      });
    }
  }

  /** The module configures no provider and no backend; cdktf's "//" metadata stays for cdktf-cli (emit.ts drops it). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the base class returns untyped JSON
  public toTerraform(): any {
    const document = super.toTerraform();
    delete document.provider;
    const terraform = document.terraform ?? {};
    delete terraform.backend;
    terraform.required_version = MODULE_REQUIRED_TERRAFORM;
    terraform.required_providers = MODULE_REQUIRED_PROVIDERS;
    document.terraform = terraform;
    return document;
  }
}

/** Removes cdktf's "//" metadata entries (construct paths and stack names), which mean nothing to a module caller. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any JSON value
export function stripMetadata(value: any): any {
  if (Array.isArray(value)) return value.map(stripMetadata);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== '//')
        .map(([key, v]) => [key, stripMetadata(v)]),
    );
  }
  return value;
}
