import { Construct } from 'constructs';
import { IResolvable, TerraformLocal, Token } from 'cdktf';
import { DatabaseSizing, ENVIRONMENT_CONFIGS, EnvironmentName } from '../config/environments';
import { DatabaseCredentials } from './credentials';
import { DatabaseEncryption } from './encryption';
import { DatabaseInstances } from './instances';
import { DatabaseMonitoring } from './monitoring';
import { address } from './naming';
import { DatabaseNetwork } from './network';
import { DatabaseParameters } from './parameters';
import { hclChecks, validateEnvironment, validateSizing, validateSubnets, validateWindows } from './validation';

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
   * Tags added to every resource (after Project, Environment and ManagedBy).
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
   * The sizing table.
   * @default ENVIRONMENT_CONFIGS' database rows (src/config/environments.ts)
   */
  readonly sizing?: Readonly<Record<EnvironmentName, DatabaseSizing>>;
}

/** The sizing table as the module's `local.instance_configs`, in the original HCL's attribute names. */
export function instanceConfigsLocal(
  sizing: Readonly<Record<EnvironmentName, DatabaseSizing>>,
): Record<string, unknown> {
  const rows = Object.entries(sizing).map(([environment, s]) => [
    environment,
    {
      instance_class: s.instanceClass,
      instance_memory_gib: s.instanceMemoryGiB,
      allocated_storage: s.allocatedStorage,
      max_allocated_storage: s.maxAllocatedStorage,
      storage_type: s.storageType,
      iops: s.iops,
      multi_az: s.multiAz,
      backup_retention: s.backupRetentionDays,
      replica_count: s.replicaCount,
      monitoring_interval: s.monitoringIntervalSeconds,
      performance_insights_retention: s.performanceInsightsRetentionDays,
      deletion_protection: s.protectFromDeletion,
      max_connections: s.maxConnections,
      secret_recovery_window_days: s.secretRecoveryWindowDays,
      rotate_credentials: s.rotateCredentials,
      cpu_alarm_threshold: s.cpuAlarmThreshold,
      connections_alarm_threshold: s.connectionsAlarmThreshold,
    },
  ]);
  return Object.fromEntries(rows);
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
  public readonly instances: DatabaseInstances;
  public readonly credentials: DatabaseCredentials;

  constructor(scope: Construct, id: string, props: AccessWeaverDatabaseProps) {
    super(scope, id);

    const sizing = props.sizing ?? sizingOf(ENVIRONMENT_CONFIGS);
    const backupWindow = props.backupWindow ?? DEFAULT_BACKUP_WINDOW;
    const maintenanceWindow = props.maintenanceWindow ?? DEFAULT_MAINTENANCE_WINDOW;

    validateEnvironment(props.environment);
    for (const [environment, row] of Object.entries(sizing)) validateSizing(environment, row);
    validateSubnets(props.privateSubnetIds);
    validateWindows(backupWindow, maintenanceWindow);
    if (props.enableNetworkAcl === true && props.vpcCidr === undefined) {
      throw new Error('enableNetworkAcl is true but vpcCidr is not set: the ACL admits PostgreSQL from that CIDR only');
    }
    if (
      props.vpcCidr !== undefined &&
      !Token.isUnresolved(props.vpcCidr) &&
      !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(props.vpcCidr)
    ) {
      throw new Error(`vpcCidr '${props.vpcCidr}' is not an IPv4 CIDR block`);
    }

    // Inputs land in locals first, so the parts below read `local.<input>` whether the value is a literal or a
    // Terraform variable.
    const locals: Record<string, unknown> = {
      project_name: props.projectName,
      environment: props.environment,
      vpc_id: props.vpcId,
      private_subnet_ids: props.privateSubnetIds,
      allowed_security_groups: props.allowedSecurityGroupIds ?? [],
      backup_window: backupWindow,
      maintenance_window: maintenanceWindow,
      enable_network_acl: props.enableNetworkAcl ?? false,
      vpc_cidr: props.vpcCidr ?? Token.nullValue(),
      alarm_topic_arn_input: props.alarmTopicArn ?? Token.nullValue(),
      extra_tags: props.tags ?? {},

      instance_configs: instanceConfigsLocal(sizing),
      config: '${local.instance_configs[local.environment]}',
      name_prefix: '${local.project_name}-${local.environment}',
      common_tags:
        '${merge({ Project = local.project_name, Environment = local.environment, ManagedBy = "terraform" }, local.extra_tags)}',
      availability_zones: '${distinct([for subnet in data.aws_subnet.private : subnet.availability_zone])}',
      alarm_topic_arn:
        '${local.alarm_topic_arn_input != null ? local.alarm_topic_arn_input : aws_sns_topic.alerts[0].arn}',
      ...Object.fromEntries(
        Object.entries(hclChecks.windowLocals).map(([name, expression]) => [name, `\${${expression}}`]),
      ),
    };
    for (const [name, value] of Object.entries(locals)) {
      address(new TerraformLocal(this, `local-${name}`, value), name);
    }

    this.encryption = new DatabaseEncryption(this, 'encryption');
    this.network = new DatabaseNetwork(this, 'network');
    this.parameters = new DatabaseParameters(this, 'parameters');
    this.instances = new DatabaseInstances(this, 'instances', {
      key: this.encryption.key,
      subnetGroup: this.network.subnetGroup,
      parameterGroup: this.parameters.group,
      databaseSecurityGroup: this.network.databaseSecurityGroup,
    });
    this.credentials = new DatabaseCredentials(this, 'credentials', {
      key: this.encryption.key,
      databaseSecurityGroup: this.network.databaseSecurityGroup,
    });
    new DatabaseMonitoring(this, 'monitoring', { key: this.encryption.key });
  }
}

export function sizingOf(configs: typeof ENVIRONMENT_CONFIGS): Record<EnvironmentName, DatabaseSizing> {
  return { dev: configs.dev.database, staging: configs.staging.database, prod: configs.prod.database };
}
