import { Construct } from 'constructs';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance';
import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Id } from '@cdktf/provider-random/lib/id';
import { DATABASE_NAME, DATABASE_PORT, MASTER_USERNAME } from '../config/environments';
import { config, tf } from './expressions';
import { ENGINE_MAJOR_VERSION } from './parameters';
import { hclChecks } from './validation';
import { address, nameTags, prefixed } from './naming';

/** PostgreSQL logs RDS exports to CloudWatch Logs. */
export const EXPORTED_LOGS = ['postgresql', 'upgrade'];
export const CA_CERTIFICATE = 'rds-ca-rsa2048-g1';

export interface DatabaseInstancesProps {
  readonly key: KmsKey;
  readonly subnetGroup: DbSubnetGroup;
  readonly parameterGroup: DbParameterGroup;
  readonly databaseSecurityGroup: SecurityGroup;
}

/**
 * The primary and its read replicas.
 *
 * Version policy: the module pins the major version (15, matching the postgres15 parameter group and the
 * migrations) and lets RDS apply minor versions in the maintenance window (`auto_minor_version_upgrade`) in every
 * environment. Pinning a minor such as 15.4 would leave the instance on a release RDS stops supporting, and
 * fights the automatic upgrade on every plan; with "15" Terraform accepts whatever 15.x RDS runs.
 *
 * The master password is RDS-managed (`manage_master_user_password`): RDS keeps it in a Secrets Manager secret
 * encrypted with the module's key and rotates it itself, so it never appears in Terraform state.
 */
export class DatabaseInstances extends Construct {
  public readonly primary: DbInstance;
  public readonly replicas: DbInstance;

  constructor(scope: Construct, id: string, props: DatabaseInstancesProps) {
    super(scope, id);

    const withMonitoring = tf.number(`${config('monitoring_interval')} > 0 ? 1 : 0`);
    address(
      new IamRole(this, 'monitoring-role', {
        count: withMonitoring,
        name: prefixed('rds-monitoring-role'),
        assumeRolePolicy: tf.string(
          'jsonencode({ Version = "2012-10-17", Statement = [{ Action = "sts:AssumeRole", Effect = "Allow", ' +
            'Principal = { Service = "monitoring.rds.amazonaws.com" } }] })',
        ),
        tags: nameTags('rds-monitoring-role'),
      }),
      'rds_enhanced_monitoring',
    );
    address(
      new IamRolePolicyAttachment(this, 'monitoring-policy', {
        count: withMonitoring,
        role: tf.string('aws_iam_role.rds_enhanced_monitoring[0].name'),
        policyArn:
          'arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole',
      }),
      'rds_enhanced_monitoring',
    );

    // Created once with the instance and kept in state: the final snapshot's name is stable across plans (the
    // original design used timestamp(), which changed it on every plan) yet unique per instance lifetime.
    address(
      new Id(this, 'final-snapshot-suffix', {
        byteLength: 4,
        keepers: { identifier: prefixed('primary') },
      }),
      'final_snapshot',
    );

    const monitoring = {
      monitoringInterval: tf.number(config('monitoring_interval')),
      monitoringRoleArn: tf.string(
        `${config('monitoring_interval')} > 0 ? aws_iam_role.rds_enhanced_monitoring[0].arn : null`,
      ),
      performanceInsightsEnabled: tf.bool(`${config('performance_insights_retention')} != null`),
      performanceInsightsRetentionPeriod: tf.number(config('performance_insights_retention')),
      performanceInsightsKmsKeyId: tf.string(
        `${config('performance_insights_retention')} != null ? aws_kms_key.rds.arn : null`,
      ),
    };

    this.primary = address(
      new DbInstance(this, 'primary', {
        identifier: prefixed('primary'),
        engine: 'postgres',
        engineVersion: ENGINE_MAJOR_VERSION,
        autoMinorVersionUpgrade: true,
        allowMajorVersionUpgrade: false,
        instanceClass: tf.string(config('instance_class')),
        caCertIdentifier: CA_CERTIFICATE,

        allocatedStorage: tf.number(config('allocated_storage')),
        maxAllocatedStorage: tf.number(config('max_allocated_storage')),
        storageType: tf.string(config('storage_type')),
        iops: tf.number(config('iops')),
        storageEncrypted: true,
        kmsKeyId: props.key.arn,

        dbName: DATABASE_NAME,
        username: MASTER_USERNAME,
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: props.key.arn,
        port: DATABASE_PORT,

        multiAz: tf.bool(config('multi_az')),
        availabilityZone: tf.string(`${config('multi_az')} ? null : local.availability_zones[0]`),
        dbSubnetGroupName: props.subnetGroup.name,
        vpcSecurityGroupIds: [props.databaseSecurityGroup.id],
        publiclyAccessible: false,
        parameterGroupName: props.parameterGroup.name,

        backupRetentionPeriod: tf.number(config('backup_retention')),
        backupWindow: tf.string('local.backup_window'),
        maintenanceWindow: tf.string('local.maintenance_window'),
        copyTagsToSnapshot: true,
        deleteAutomatedBackups: tf.bool(`!${config('deletion_protection')}`),

        ...monitoring,
        enabledCloudwatchLogsExports: EXPORTED_LOGS,

        deletionProtection: tf.bool(config('deletion_protection')),
        skipFinalSnapshot: tf.bool(`!${config('deletion_protection')}`),
        finalSnapshotIdentifier: tf.string(
          `${config('deletion_protection')} ? "\${local.name_prefix}-final-\${random_id.final_snapshot.hex}" : null`,
        ),

        tags: nameTags('primary', { Backup: 'required' }),
        lifecycle: {
          precondition: [
            {
              condition: tf.string(hclChecks.io1Ratio),
              errorMessage: 'io1 storage needs 0.5 to 50 provisioned IOPS per GiB of allocated storage.',
            },
            {
              condition: tf.string(hclChecks.performanceInsightsRetention),
              errorMessage: 'Performance Insights retention must be 7, 731, or a multiple of 31 days up to 713.',
            },
            {
              condition: tf.string(hclChecks.windowDurations),
              errorMessage: 'backup_window and maintenance_window must each last at least 30 minutes.',
            },
            {
              condition: tf.string(hclChecks.windowsDisjoint),
              errorMessage: 'backup_window must not overlap maintenance_window.',
            },
          ],
        },
      }),
      'main',
    );

    // Replicas follow the primary's engine version and encryption; each sits in the next subnet zone after the
    // primary's, so they spread over the zones the subnet group covers.
    this.replicas = address(
      new DbInstance(this, 'replica', {
        count: tf.number(config('replica_count')),
        identifier: '${local.name_prefix}-replica-${count.index + 1}',
        replicateSourceDb: this.primary.identifier,
        instanceClass: tf.string(config('instance_class')),
        autoMinorVersionUpgrade: true,
        caCertIdentifier: CA_CERTIFICATE,
        maxAllocatedStorage: tf.number(config('max_allocated_storage')),
        storageEncrypted: true,
        kmsKeyId: props.key.arn,
        availabilityZone: tf.string('local.availability_zones[(count.index + 1) % length(local.availability_zones)]'),
        vpcSecurityGroupIds: [props.databaseSecurityGroup.id],
        publiclyAccessible: false,
        parameterGroupName: props.parameterGroup.name,
        // Replicas keep no backups of their own and leave no snapshot behind; the primary's backups cover them.
        backupRetentionPeriod: 0,
        skipFinalSnapshot: true,
        // Otherwise RDS picks a random window per replica, possibly in office hours.
        maintenanceWindow: tf.string('local.maintenance_window'),
        ...monitoring,
        enabledCloudwatchLogsExports: EXPORTED_LOGS,
        tags: tf.any(
          'merge(local.common_tags, { Name = "${local.name_prefix}-replica-${count.index + 1}", Type = "read-replica" })',
        ),
      }),
      'replica',
    );
  }
}
