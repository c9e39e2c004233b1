/**
 * rds-<env>: the database, as the `modules/rds` Terraform module called through the binding that
 * `cdktf get` generates into `.gen` — the same module block an HCL root would write (the seed's
 * `environments/prod/main.tf`), fed with vpc-<env>'s outputs.
 *
 * It re-exports the module's outputs under the module's own names, so ecs-<env> and any HCL
 * consumer read `primary_address`, `app_secret_arn`... from this stack's state.
 */
import { Fn, TerraformOutput, Token } from 'cdktf';
import { Construct } from 'constructs';
import { Rds } from '../../.gen/modules/rds';
import { EnvironmentName } from '../config/environments';
import { EnvironmentStack, EnvironmentStackProps, RDS_OUTPUTS, VPC_OUTPUTS } from './environment-stack';

/** Per-environment module inputs that differ from the module's defaults. */
interface DatabaseEnvironmentDefaults {
  readonly backupWindow?: string;
  readonly maintenanceWindow?: string;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * prod follows the seed's `environments/prod/main.tf`: backups at 03:00 and maintenance on Sunday
 * 04:00 French time, and the Backup/Monitoring tags. dev and staging keep the module's windows.
 */
export const DATABASE_ENVIRONMENT_DEFAULTS: Readonly<Record<EnvironmentName, DatabaseEnvironmentDefaults>> = {
  dev: { tags: {} },
  staging: { tags: {} },
  prod: {
    backupWindow: '02:00-03:00',
    maintenanceWindow: 'Sun:03:00-Sun:04:00',
    tags: { Backup: 'critical', Monitoring: 'enhanced' },
  },
};

export interface RdsStackProps extends EnvironmentStackProps {
  /**
   * Daily backup window (UTC, hh24:mi-hh24:mi).
   * @default prod '02:00-03:00'; otherwise the module's default
   */
  readonly backupWindow?: string;
  /**
   * Weekly maintenance window (UTC, ddd:hh24:mi-ddd:hh24:mi).
   * @default prod 'Sun:03:00-Sun:04:00'; otherwise the module's default
   */
  readonly maintenanceWindow?: string;
  /**
   * Security groups allowed to reach the database besides the module's client group (which the
   * ECS services join, so the database never depends on the ECS stack).
   * @default []
   */
  readonly allowedSecurityGroupIds?: readonly string[];
  /**
   * Add the module's network ACL on the database subnets (the VPC CIDR is always passed for it).
   * @default false
   */
  readonly enableNetworkAcl?: boolean;
  /**
   * SNS topic for the database alarms.
   * @default the module creates an encrypted topic
   */
  readonly alarmSnsTopicArn?: string;
}

const BACKUP_WINDOW_PATTERN = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;
const MAINTENANCE_WINDOW_PATTERN =
  /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$/i;
const SECURITY_GROUP_ID_PATTERN = /^sg-[0-9a-f]{8,17}$/;

export class RdsStack extends EnvironmentStack {
  /** The module block. */
  readonly database: Rds;

  constructor(scope: Construct, id: string, props: RdsStackProps) {
    super(scope, id, props);
    const defaults = DATABASE_ENVIRONMENT_DEFAULTS[this.config.name];
    const backupWindow = props.backupWindow ?? defaults.backupWindow;
    const maintenanceWindow = props.maintenanceWindow ?? defaults.maintenanceWindow;
    if (backupWindow !== undefined && !BACKUP_WINDOW_PATTERN.test(backupWindow)) {
      throw new Error(`${id}: backupWindow '${backupWindow}' must be hh24:mi-hh24:mi (UTC).`);
    }
    if (maintenanceWindow !== undefined && !MAINTENANCE_WINDOW_PATTERN.test(maintenanceWindow)) {
      throw new Error(`${id}: maintenanceWindow '${maintenanceWindow}' must be ddd:hh24:mi-ddd:hh24:mi (UTC).`);
    }
    for (const groupId of props.allowedSecurityGroupIds ?? []) {
      if (!Token.isUnresolved(groupId) && !SECURITY_GROUP_ID_PATTERN.test(groupId)) {
        throw new Error(`${id}: allowedSecurityGroupIds entry '${groupId}' is not a security group id.`);
      }
    }

    const vpc = this.readState('vpc');
    this.database = new Rds(this, 'rds', {
      projectName: this.projectName,
      environment: this.config.name,
      vpcId: vpc.getString(VPC_OUTPUTS.vpcId),
      privateSubnetIds: vpc.getList(VPC_OUTPUTS.privateSubnetIds),
      vpcCidr: vpc.getString(VPC_OUTPUTS.vpcCidr),
      allowedSecurityGroups: [...(props.allowedSecurityGroupIds ?? [])],
      backupWindow,
      maintenanceWindow,
      enableNetworkAcl: props.enableNetworkAcl,
      alarmSnsTopicArn: props.alarmSnsTopicArn,
      tags: { ...defaults.tags, ...this.tags },
    });

    const db = this.database;
    // Typed getters: an output renamed in the module breaks the type-check, not a later deploy.
    const reexported: ReadonlyArray<readonly [string, string, string]> = [
      [RDS_OUTPUTS.primaryEndpoint, db.primaryEndpointOutput, 'Writer endpoint (host:port)'],
      [RDS_OUTPUTS.primaryAddress, db.primaryAddressOutput, 'Writer host name'],
      [RDS_OUTPUTS.replicaEndpoints, db.replicaEndpointsOutput, 'Read replica endpoints (host:port)'],
      [RDS_OUTPUTS.replicaAddresses, db.replicaAddressesOutput, 'Read replica host names'],
      [RDS_OUTPUTS.databaseName, db.databaseNameOutput, 'Database name'],
      [RDS_OUTPUTS.databasePort, db.databasePortOutput, 'Database port'],
      [RDS_OUTPUTS.securityGroupId, db.securityGroupIdOutput, 'Security group of the database instances'],
      [
        RDS_OUTPUTS.securityGroupClientId,
        db.securityGroupClientIdOutput,
        'Security group clients join to reach the database',
      ],
      [RDS_OUTPUTS.masterSecretArn, db.secretArnOutput, 'RDS-managed master user secret'],
      [RDS_OUTPUTS.appSecretArn, db.appSecretArnOutput, 'Application credentials secret (JSON)'],
      [RDS_OUTPUTS.readonlySecretArn, db.readonlySecretArnOutput, 'Read-only credentials secret (JSON)'],
      [RDS_OUTPUTS.kmsKeyId, db.kmsKeyIdOutput, 'KMS key id of the database and its secrets'],
      [RDS_OUTPUTS.kmsKeyArn, db.kmsKeyArnOutput, 'KMS key ARN of the database and its secrets'],
      [RDS_OUTPUTS.instanceId, db.instanceIdOutput, 'Primary instance identifier'],
      [RDS_OUTPUTS.instanceResourceId, db.instanceResourceIdOutput, 'Primary instance resource id'],
      [RDS_OUTPUTS.alarmTopicArn, db.alarmTopicArnOutput, 'SNS topic of the database alarms'],
    ];
    for (const [name, value, description] of reexported) {
      new TerraformOutput(this, name, { value, description });
    }
    new TerraformOutput(this, RDS_OUTPUTS.readerAddresses, {
      value: Fn.coalescelist([Token.asList(db.replicaAddressesOutput), [db.primaryAddressOutput]]),
      description: 'Hosts for read-only connections: the replicas, or the primary when there is none',
    });
  }
}
