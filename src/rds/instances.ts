import { Construct } from 'constructs';
import { RESOURCE_SUFFIXES } from '../config/names';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance';
import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Id } from '@cdktf/provider-random/lib/id';
import { DATABASE_NAME, DATABASE_PORT, MASTER_USERNAME } from '../config/environments';
import { addressOf, config, encodedDocument, ref, serviceTrustPolicy, tf } from './expressions';
import { EXPORTED_LOGS } from './logs';
import { restorePreconditions, sizingPreconditions } from './rules';
import { hclChecks, MINIMUM_WINDOW_MINUTES } from './validation';
import { address, nameTags, prefixed } from './naming';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { TerraformLocal, TerraformResource } from 'cdktf';

export const CA_CERTIFICATE = 'rds-ca-rsa2048-g1';
/** Name suffix of each replica inside its counted block: `replica-1`, `replica-2`... */
export const REPLICA_SUFFIX = RESOURCE_SUFFIXES.replica('${count.index + 1}');

export interface DatabaseInstancesProps {
  /** The major version the instances run (RDS applies its minor versions). */
  readonly engineVersion: string;
  /** Encrypts storage, Performance Insights and the master secret. */
  readonly key: KmsKey;
  /** Partition of the AWS managed policy ARN of the monitoring role. */
  readonly partition: DataAwsPartition;
  readonly subnetGroup: DbSubnetGroup;
  readonly parameterGroup: DbParameterGroup;
  readonly databaseSecurityGroup: SecurityGroup;
  /** The exported logs' groups: created first, so RDS writes into them rather than making its own. */
  readonly logGroups: CloudwatchLogGroup;
  /** The zones of the private subnets, in subnet order (a list): the primary and the replicas are placed in them. */
  readonly availabilityZones: TerraformLocal;
  readonly backupWindow: TerraformLocal;
  readonly maintenanceWindow: TerraformLocal;
  /** Whether changes apply at once rather than in the maintenance window (a boolean). */
  readonly applyImmediately: TerraformLocal;
  /** Whether a change of engine_major_version may upgrade the database (a boolean). */
  readonly allowMajorVersionUpgrade: TerraformLocal;
  /** The snapshot the database is created from, or null (RESTORE_LOCALS.snapshot). */
  readonly snapshotIdentifier: TerraformLocal;
  /** The point-in-time restore the database is created from, or null (RESTORE_LOCALS.pointInTime). */
  readonly restoreToPointInTime: TerraformLocal;
}

/** The restore inputs apply at creation only: a restored database keeps them out of later plans (see below). */
export const RESTORE_ARGUMENTS = ['snapshot_identifier', 'restore_to_point_in_time'];

/**
 * Adds the provider's `restore_to_point_in_time` block when the input is set, mapping the module's object
 * (source_identifier, source_resource_id, restore_time, use_latest_restorable_time) to the resource's arguments.
 * Both restore arguments force a new database in the provider, so they are ignored after creation: dropping the
 * inputs once the restore is done, or importing a database restored outside Terraform, plans no replacement.
 */
export function addRestoreBlock(
  resource: TerraformResource,
  pointInTime: TerraformLocal,
  names: { sourceIdentifier: string; sourceResourceId: string; restoreTime: string },
): void {
  const input = addressOf(pointInTime);
  const value = (attribute: string) => `\${restore_to_point_in_time.value.${attribute}}`;
  resource.addOverride('dynamic.restore_to_point_in_time', {
    for_each: tf.any(`${input} == null ? [] : [${input}]`),
    content: {
      [names.sourceIdentifier]: value('source_identifier'),
      [names.sourceResourceId]: value('source_resource_id'),
      [names.restoreTime]: value('restore_time'),
      use_latest_restorable_time: value('use_latest_restorable_time'),
    },
  });
}

/** What the primary checks at plan: the sizing rows' rules on the selected row, and the two windows together. */
const PRIMARY_PRECONDITIONS = [
  ...[...sizingPreconditions(), ...restorePreconditions()].map(({ condition, errorMessage }) => ({
    condition: tf.string(condition),
    errorMessage,
  })),
  {
    condition: tf.string(hclChecks.windowDurations),
    errorMessage: `backup_window and maintenance_window must each last at least ${MINIMUM_WINDOW_MINUTES} minutes.`,
  },
  {
    condition: tf.string(hclChecks.windowsDisjoint),
    errorMessage: 'backup_window must not overlap maintenance_window.',
  },
];

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
  /** The read replicas: one resource counted `replica_count` times; `ref(replica, attribute, i)` names one. */
  public readonly replica: DbInstance;

  constructor(scope: Construct, id: string, props: DatabaseInstancesProps) {
    super(scope, id);
    const monitoring = this.monitoringSettings(props);
    this.primary = this.addPrimary(props, monitoring);
    this.replica = this.addReplicas(props, monitoring);
  }

  /** Enhanced monitoring (its role where the interval is set) and Performance Insights, alike on each instance. */
  private monitoringSettings(props: DatabaseInstancesProps) {
    const withMonitoring = tf.number(`${config('monitoringIntervalSeconds')} > 0 ? 1 : 0`);
    const monitoringRole = address(
      new IamRole(this, 'monitoring-role', {
        count: withMonitoring,
        name: prefixed('rds-monitoring-role'),
        assumeRolePolicy: encodedDocument(
          this,
          'monitoring_role_trust_policy',
          serviceTrustPolicy('monitoring.rds.amazonaws.com'),
        ),
        tags: nameTags('rds-monitoring-role'),
      }),
      'rds_enhanced_monitoring',
    );
    address(
      new IamRolePolicyAttachment(this, 'monitoring-policy', {
        count: withMonitoring,
        role: tf.string(ref(monitoringRole, 'name', 0)),
        policyArn: `arn:${props.partition.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
      }),
      'rds_enhanced_monitoring',
    );

    return {
      monitoringInterval: tf.number(config('monitoringIntervalSeconds')),
      monitoringRoleArn: tf.string(
        `${config('monitoringIntervalSeconds')} > 0 ? ${ref(monitoringRole, 'arn', 0)} : null`,
      ),
      performanceInsightsEnabled: tf.bool(`${config('performanceInsightsRetentionDays')} != null`),
      performanceInsightsRetentionPeriod: tf.number(config('performanceInsightsRetentionDays')),
      performanceInsightsKmsKeyId: tf.string(
        `${config('performanceInsightsRetentionDays')} != null ? ${ref(props.key, 'arn')} : null`,
      ),
      // Performance Insights reached end of life on 31 July 2026: its data now feeds CloudWatch Database Insights.
      databaseInsightsMode: tf.string(config('databaseInsightsMode')),
    };
  }

  private addPrimary(props: DatabaseInstancesProps, monitoring: ReturnType<DatabaseInstances['monitoringSettings']>) {
    const zones = addressOf(props.availabilityZones);
    // Created once with the instance and kept in state: the final snapshot's name is stable across plans (a
    // timestamp would change it, and the instance with it, on every plan) yet unique per instance lifetime.
    const finalSnapshotSuffix = address(
      new Id(this, 'final-snapshot-suffix', {
        byteLength: 4,
        keepers: { identifier: prefixed(RESOURCE_SUFFIXES.primary) },
      }),
      'final_snapshot',
    );

    const primary = address(
      new DbInstance(this, 'primary', {
        identifier: prefixed(RESOURCE_SUFFIXES.primary),
        engine: 'postgres',
        engineVersion: props.engineVersion,
        autoMinorVersionUpgrade: true,
        allowMajorVersionUpgrade: props.allowMajorVersionUpgrade.asBoolean,
        snapshotIdentifier: props.snapshotIdentifier.asString,
        // Chosen per environment, never RDS's implicit default; replicas follow their primary.
        engineLifecycleSupport: tf.string(config('engineLifecycleSupport')),
        instanceClass: tf.string(config('instanceClass')),
        caCertIdentifier: CA_CERTIFICATE,

        allocatedStorage: tf.number(config('allocatedStorage')),
        maxAllocatedStorage: tf.number(config('maxAllocatedStorage')),
        storageType: tf.string(config('storageType')),
        iops: tf.number(config('iops')),
        storageEncrypted: true,
        kmsKeyId: props.key.arn,

        dbName: DATABASE_NAME,
        username: MASTER_USERNAME,
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: props.key.arn,
        port: DATABASE_PORT,

        multiAz: tf.bool(config('multiAz')),
        availabilityZone: tf.string(`${config('multiAz')} ? null : ${zones}[0]`),
        dbSubnetGroupName: props.subnetGroup.name,
        vpcSecurityGroupIds: [props.databaseSecurityGroup.id],
        publiclyAccessible: false,
        // People connect with IAM tokens (accessweaver_iam_operator), never with the master password.
        iamDatabaseAuthenticationEnabled: true,
        parameterGroupName: props.parameterGroup.name,

        backupRetentionPeriod: tf.number(config('backupRetentionDays')),
        backupWindow: props.backupWindow.asString,
        maintenanceWindow: props.maintenanceWindow.asString,
        copyTagsToSnapshot: true,
        deleteAutomatedBackups: tf.bool(`!${config('protectFromDeletion')}`),

        ...monitoring,
        enabledCloudwatchLogsExports: EXPORTED_LOGS,
        applyImmediately: props.applyImmediately.asBoolean,
        dependsOn: [props.logGroups],

        deletionProtection: tf.bool(config('protectFromDeletion')),
        skipFinalSnapshot: tf.bool(`!${config('protectFromDeletion')}`),
        finalSnapshotIdentifier: tf.string(
          `${config('protectFromDeletion')} ? "${prefixed('final')}-\${${ref(finalSnapshotSuffix, 'hex')}}" : null`,
        ),

        tags: nameTags(RESOURCE_SUFFIXES.primary, { Backup: 'required' }),
        lifecycle: {
          precondition: PRIMARY_PRECONDITIONS,
          ignoreChanges: RESTORE_ARGUMENTS,
        },
      }),
      'main',
    );
    addRestoreBlock(primary, props.restoreToPointInTime, {
      sourceIdentifier: 'source_db_instance_identifier',
      sourceResourceId: 'source_dbi_resource_id',
      restoreTime: 'restore_time',
    });
    return primary;
  }

  private addReplicas(props: DatabaseInstancesProps, monitoring: ReturnType<DatabaseInstances['monitoringSettings']>) {
    const zones = addressOf(props.availabilityZones);
    // Replicas follow the primary's engine version and encryption; each sits in the next subnet zone after the
    // primary's, so they spread over the zones the subnet group covers.
    return address(
      new DbInstance(this, 'replica', {
        count: tf.number(config('replicaCount')),
        identifier: prefixed(REPLICA_SUFFIX),
        replicateSourceDb: this.primary.identifier,
        instanceClass: tf.string(config('instanceClass')),
        autoMinorVersionUpgrade: true,
        caCertIdentifier: CA_CERTIFICATE,
        maxAllocatedStorage: tf.number(config('maxAllocatedStorage')),
        storageEncrypted: true,
        kmsKeyId: props.key.arn,
        availabilityZone: tf.string(`${zones}[(count.index + 1) % length(${zones})]`),
        vpcSecurityGroupIds: [props.databaseSecurityGroup.id],
        publiclyAccessible: false,
        // People connect with IAM tokens (accessweaver_iam_operator), never with the master password.
        iamDatabaseAuthenticationEnabled: true,
        parameterGroupName: props.parameterGroup.name,
        // Replicas keep no backups of their own and leave no snapshot behind; the primary's backups cover them.
        backupRetentionPeriod: 0,
        skipFinalSnapshot: true,
        // Otherwise RDS picks a random window per replica, possibly in office hours.
        maintenanceWindow: props.maintenanceWindow.asString,
        ...monitoring,
        enabledCloudwatchLogsExports: EXPORTED_LOGS,
        applyImmediately: props.applyImmediately.asBoolean,
        dependsOn: [props.logGroups],
        tags: nameTags(REPLICA_SUFFIX, { Type: 'read-replica' }),
      }),
      'replica',
    );
  }
}
