/**
 * The second engine behind the seam: an Aurora PostgreSQL cluster, its writer and readers, and reader autoscaling
 * (the design document's production configuration: 2 to 5 readers, target tracking on their average CPU at 70 %).
 *
 * The cluster shares the module's key, network, secrets, logs, alarms and backup plan; its sizing beyond the
 * environment table's rows is `AURORA_CONFIGS` (src/config/aurora.ts), selected at plan like the rows.
 */
import { Construct } from 'constructs';
import { DataResource, IResolvable, TerraformIterator, TerraformLocal } from 'cdktf';
import { AppautoscalingPolicy } from '@cdktf/provider-aws/lib/appautoscaling-policy';
import { AppautoscalingTarget } from '@cdktf/provider-aws/lib/appautoscaling-target';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { RdsCluster } from '@cdktf/provider-aws/lib/rds-cluster';
import { RdsClusterInstance } from '@cdktf/provider-aws/lib/rds-cluster-instance';
import { RdsClusterParameterGroup } from '@cdktf/provider-aws/lib/rds-cluster-parameter-group';
import { Id } from '@cdktf/provider-random/lib/id';
import { AURORA_CONFIGS, AuroraSizing, auroraConfigsLocal, SERVERLESS_CLASS } from '../../config/aurora';
import { DATABASE_NAME, DATABASE_PORT, EnvironmentName, MASTER_USERNAME } from '../../config/environments';
import { RESOURCE_SUFFIXES } from '../../config/names';
import { BoundEngine, checkMajorVersion, DatabaseEngine, EngineBindProps } from '../engine';
import { addressOf, config, encodedDocument, ref, serviceTrustPolicy, tf } from '../expressions';
import { addRestoreBlock, CA_CERTIFICATE, REPLICA_SUFFIX, RESTORE_ARGUMENTS } from '../instances';
import { address, NAME_PREFIX, nameTags, prefixed } from '../naming';
import { DEFAULT_ENGINE_MAJOR_VERSION, restorePreconditions, sizingPreconditions } from '../rules';
import { hclChecks, MINIMUM_WINDOW_MINUTES } from '../validation';
import { AURORA_EXCLUDED_ALARMS, AuroraMonitoring } from './aurora-monitoring';

/** `<project>-<env>-cluster`: the cluster's identifier, in CloudWatch, the RDS API and its log group. */
export const CLUSTER_SUFFIX = 'cluster';
/** Aurora PostgreSQL exports one log, the engine's, for the whole cluster. */
export const AURORA_EXPORTED_LOGS = ['postgresql'];
/** Application Auto Scaling's dimension of an Aurora cluster: its number of Aurora replicas. */
export const READER_SCALABLE_DIMENSION = 'rds:cluster:ReadReplicaCount';
export const READER_CPU_METRIC = 'RDSReaderAverageCPUUtilization';
/** Instances Application Auto Scaling adds are named `application-autoscaling-<uuid>`. */
export const AUTOSCALED_READER_PREFIX = 'application-autoscaling-';

/**
 * Parameters the cluster sets otherwise than an RDS instance, or does not have:
 * - shared_buffers and effective_cache_size: Aurora's defaults (about 75 % of memory) fit its storage, which has
 *   no double buffering through the operating system's cache; RDS's 25 % would starve it.
 * - wal_buffers and checkpoint_completion_target: Aurora's storage writes the log, not PostgreSQL's checkpointer.
 * - temp_file_limit: Aurora has no AllocatedStorage; temporary files go to the instance's local storage, about
 *   twice its memory on memory-optimised classes, so 20 % of memory bounds one backend at about 10 % of it.
 */
export const AURORA_PARAMETER_OVERRIDES: Readonly<Record<string, string | null>> = {
  shared_buffers: null,
  effective_cache_size: null,
  wal_buffers: null,
  checkpoint_completion_target: null,
  temp_file_limit: '{DBInstanceClassMemory/5120}',
};
/** Sized from each instance's memory or its own connections: the DB parameter group; the rest is cluster-wide. */
export const AURORA_INSTANCE_PARAMETERS = ['max_connections', 'maintenance_work_mem', 'temp_file_limit'];

/**
 * Deletes the readers Application Auto Scaling added to the cluster (they are not in Terraform's state), and waits
 * until they are gone, so the cluster, and a DB parameter group they belong to, can be deleted. Repeats while a
 * scaling activity still under way adds one. Needs the AWS CLI and the applying identity's credentials.
 */
export const REMOVE_AUTOSCALED_READERS = `set -eu
for round in 1 2 3; do
  readers=$(aws rds describe-db-clusters --db-cluster-identifier "$CLUSTER" --output text \\
    --query "DBClusters[0].DBClusterMembers[?starts_with(DBInstanceIdentifier, '${AUTOSCALED_READER_PREFIX}')].DBInstanceIdentifier") \\
    || exit 0
  if [ -z "$readers" ] || [ "$readers" = None ]; then exit 0; fi
  for reader in $readers; do
    aws rds delete-db-instance --db-instance-identifier "$reader" --skip-final-snapshot >/dev/null || true
  done
  for reader in $readers; do aws rds wait db-instance-deleted --db-instance-identifier "$reader"; done
done
`;

export interface AuroraEngineOptions {
  /** @default '15' */
  readonly majorVersion?: string;
  /**
   * Whether the module scales the readers (a boolean or a Terraform variable). False leaves autoscaling to the
   * caller, who registers `cluster:<cluster_identifier>` with Application Auto Scaling.
   * @default true
   */
  readonly readerAutoscaling?: boolean | IResolvable;
  /** @default AURORA_CONFIGS */
  readonly sizing?: Readonly<Record<EnvironmentName, AuroraSizing>>;
}

/** An Aurora PostgreSQL cluster with a writer, `replicaCount` readers and reader autoscaling above them. */
export function auroraPostgresEngine(options: AuroraEngineOptions = {}): DatabaseEngine {
  const majorVersion = checkMajorVersion(options.majorVersion ?? DEFAULT_ENGINE_MAJOR_VERSION);
  const cluster = `${NAME_PREFIX}-${CLUSTER_SUFFIX}`;
  return {
    engine: 'aurora-postgresql',
    majorVersion,
    parameterGroupFamily: `aurora-postgresql${majorVersion}`,
    logGroupPrefix: '/aws/rds/cluster/',
    logGroupNames: `[for log in ${JSON.stringify(AURORA_EXPORTED_LOGS)} : "${cluster}/\${log}"]`,
    logGroupPatterns: [`${cluster}/*`],
    parameters: { overrides: AURORA_PARAMETER_OVERRIDES, instanceLevel: AURORA_INSTANCE_PARAMETERS },
    bind(scope, id, props) {
      return new AuroraCluster(scope, id, {
        ...props,
        majorVersion,
        readerAutoscaling: options.readerAutoscaling ?? true,
        sizing: options.sizing ?? AURORA_CONFIGS,
      }).bound;
    },
  };
}

interface AuroraClusterProps extends EngineBindProps {
  readonly majorVersion: string;
  readonly readerAutoscaling: boolean | IResolvable;
  readonly sizing: Readonly<Record<EnvironmentName, AuroraSizing>>;
}

/** `local.aurora_config.<attribute>`: one field of the selected environment's Aurora row. */
const aurora = (path: string) => `local.aurora_config.${path}`;

/**
 * The cluster, its instances and their autoscaling. Addresses: `aws_rds_cluster.main`, `aws_rds_cluster_instance`
 * `.writer` and `.reader` (counted), `aws_appautoscaling_target.readers` and `aws_appautoscaling_policy.reader_cpu`.
 */
class AuroraCluster extends Construct {
  public readonly cluster: RdsCluster;
  public readonly writer: RdsClusterInstance;
  public readonly reader: RdsClusterInstance;

  constructor(scope: Construct, id: string, props: AuroraClusterProps) {
    super(scope, id);
    const configs = address(new TerraformLocal(this, 'configs', auroraConfigsLocal(props.sizing)), 'aurora_configs');
    address(new TerraformLocal(this, 'config', tf.any(`${addressOf(configs)}[local.environment]`)), 'aurora_config');
    this.cluster = this.makeCluster(props);
    const instance = this.instanceSettings(props);
    this.writer = address(
      new RdsClusterInstance(this, 'writer', {
        ...instance,
        identifier: prefixed(RESOURCE_SUFFIXES.primary),
        // Failover picks the reader of the lowest tier first; the writer returns to tier 0 when it is one again.
        promotionTier: 0,
        tags: nameTags(RESOURCE_SUFFIXES.primary, { Backup: 'required' }),
      }),
      'writer',
    );
    const zones = addressOf(props.availabilityZones);
    this.reader = address(
      new RdsClusterInstance(this, 'reader', {
        ...instance,
        count: tf.number(config('replicaCount')),
        identifier: prefixed(REPLICA_SUFFIX),
        availabilityZone: tf.string(`${zones}[(count.index + 1) % length(${zones})]`),
        promotionTier: 1,
        // The first instance of a cluster becomes its writer: readers come after it.
        dependsOn: [this.writer],
        tags: nameTags(REPLICA_SUFFIX, { Type: 'read-replica' }),
      }),
      'reader',
    );
    this.addAutoscaling(props);
    new AuroraMonitoring(this, 'monitoring', {
      cluster: ref(this.cluster, 'clusterIdentifier'),
      writer: ref(this.writer, 'identifier'),
      reader: (index) => ref(this.reader, 'identifier', index),
      readers: ref(this.reader, 'identifier', '*'),
      // The database's topic local (the caller's topic, else the module's own), made alongside the engine.
      topic: 'local.alarm_topic_arn',
      aurora,
    });
  }

  /** What the shared parts read: the cluster's endpoints, the instances' identifiers. */
  get bound(): BoundEngine {
    const { cluster, writer, reader } = this;
    const readers = `${config('replicaCount')} > 0`;
    return {
      writer: {
        endpoint: `"\${${ref(cluster, 'endpoint')}}:\${${ref(cluster, 'port')}}"`,
        address: ref(cluster, 'endpoint'),
        port: ref(cluster, 'port'),
        databaseName: ref(cluster, 'databaseName'),
        identifier: ref(writer, 'identifier'),
        // IAM database authentication names the cluster (cluster-...), whichever instance a login reaches.
        resourceId: ref(cluster, 'clusterResourceId'),
        masterSecretArn: `${ref(cluster, 'masterUserSecret')}[0].secret_arn`,
        arn: ref(writer, 'arn'),
        backupTarget: ref(cluster, 'arn'),
      },
      readers: {
        // The reader endpoint balances over every reader, those autoscaling adds included.
        endpoints: `${readers} ? ["\${${ref(cluster, 'readerEndpoint')}}:\${${ref(cluster, 'port')}}"] : []`,
        addresses: `${readers} ? [${ref(cluster, 'readerEndpoint')}] : []`,
        identifiers: ref(reader, 'identifier', '*'),
        resourceIds: '[]',
        identifier: (index) => ref(reader, 'identifier', index),
      },
      metrics: {
        namespace: 'AWS/RDS',
        dimension: 'DBInstanceIdentifier',
        eventSourceType: 'db-instance',
        excludedAlarms: AURORA_EXCLUDED_ALARMS,
      },
    };
  }

  /** The cluster-level parameters: every parameter the instances' DB parameter group does not hold. */
  private clusterParameterGroup(props: AuroraClusterProps): RdsClusterParameterGroup {
    const each = TerraformIterator.fromMap(
      tf.any(
        `{ for name, p in ${addressOf(props.parameters)} : name => p if !contains(${JSON.stringify(AURORA_INSTANCE_PARAMETERS)}, name) }`,
      ),
    );
    return address(
      new RdsClusterParameterGroup(this, 'parameters', {
        // A prefix and create-before-destroy: a new family (a major version) swaps groups without a moment bare.
        namePrefix: `${prefixed('cluster-params')}-`,
        family: `aurora-postgresql${props.majorVersion}`,
        description: `AccessWeaver Aurora PostgreSQL cluster settings for ${NAME_PREFIX}`,
        parameter: each.dynamic({
          name: each.key,
          value: each.getString('value'),
          apply_method: each.getString('apply_method'),
        }),
        lifecycle: { createBeforeDestroy: true },
        tags: nameTags('cluster-params'),
      }),
      'main',
    );
  }

  private makeCluster(props: AuroraClusterProps): RdsCluster {
    const group = this.clusterParameterGroup(props);
    // Stable across plans, unique per cluster lifetime (see DatabaseInstances' final snapshot).
    const suffix = address(
      new Id(this, 'final-snapshot-suffix', { byteLength: 4, keepers: { identifier: prefixed(CLUSTER_SUFFIX) } }),
      'final_snapshot',
    );
    const cluster = address(
      new RdsCluster(this, 'cluster', {
        clusterIdentifier: prefixed(CLUSTER_SUFFIX),
        engine: 'aurora-postgresql',
        engineMode: 'provisioned',
        engineVersion: props.majorVersion,
        allowMajorVersionUpgrade: props.allowMajorVersionUpgrade.asBoolean,
        snapshotIdentifier: props.snapshotIdentifier.asString,
        engineLifecycleSupport: tf.string(config('engineLifecycleSupport')),
        storageType: tf.string(`${aurora('storage_type')} == "aurora-iopt1" ? "aurora-iopt1" : null`),
        storageEncrypted: true,
        kmsKeyId: props.key.arn,
        databaseName: DATABASE_NAME,
        masterUsername: MASTER_USERNAME,
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: props.key.arn,
        port: DATABASE_PORT,
        dbSubnetGroupName: props.subnetGroup.name,
        vpcSecurityGroupIds: [props.databaseSecurityGroup.id],
        iamDatabaseAuthenticationEnabled: true,
        dbClusterParameterGroupName: group.name,
        backupRetentionPeriod: tf.number(config('backupRetentionDays')),
        preferredBackupWindow: props.backupWindow.asString,
        preferredMaintenanceWindow: props.maintenanceWindow.asString,
        copyTagsToSnapshot: true,
        deleteAutomatedBackups: tf.bool(`!${config('protectFromDeletion')}`),
        enabledCloudwatchLogsExports: AURORA_EXPORTED_LOGS,
        databaseInsightsMode: tf.string(config('databaseInsightsMode')),
        performanceInsightsEnabled: tf.bool(`${config('performanceInsightsRetentionDays')} != null`),
        performanceInsightsRetentionPeriod: tf.number(config('performanceInsightsRetentionDays')),
        performanceInsightsKmsKeyId: tf.string(
          `${config('performanceInsightsRetentionDays')} != null ? ${ref(props.key, 'arn')} : null`,
        ),
        applyImmediately: props.applyImmediately.asBoolean,
        deletionProtection: tf.bool(config('protectFromDeletion')),
        skipFinalSnapshot: tf.bool(`!${config('protectFromDeletion')}`),
        finalSnapshotIdentifier: tf.string(
          `${config('protectFromDeletion')} ? "${prefixed('final')}-\${${ref(suffix, 'hex')}}" : null`,
        ),
        dependsOn: [props.logGroups],
        tags: nameTags(CLUSTER_SUFFIX, { Backup: 'required' }),
        lifecycle: { precondition: clusterPreconditions(), ignoreChanges: RESTORE_ARGUMENTS },
      }),
      'main',
    );
    addRestoreBlock(cluster, props.restoreToPointInTime, {
      sourceIdentifier: 'source_cluster_identifier',
      sourceResourceId: 'source_cluster_resource_id',
      restoreTime: 'restore_to_time',
    });
    // The ACU range of Serverless v2 instances, in environments that have them (the binding drops an iterator here).
    cluster.addOverride('dynamic.serverlessv2_scaling_configuration', {
      for_each: tf.any(`${aurora('serverless_capacity')} == null ? [] : [${aurora('serverless_capacity')}]`),
      content: {
        min_capacity: '${serverlessv2_scaling_configuration.value.min_acu}',
        max_capacity: '${serverlessv2_scaling_configuration.value.max_acu}',
      },
    });
    return cluster;
  }

  /** What the writer and the readers share: class, parameter group, monitoring, placement. */
  private instanceSettings(props: AuroraClusterProps) {
    const role = monitoringRole(this, props);
    return {
      clusterIdentifier: this.cluster.id,
      engine: this.cluster.engine,
      engineVersion: this.cluster.engineVersion,
      instanceClass: tf.string(
        `${aurora('serverless_capacity')} == null ? ${aurora('instance_class')} : "${SERVERLESS_CLASS}"`,
      ),
      dbParameterGroupName: props.parameterGroup.name,
      dbSubnetGroupName: props.subnetGroup.name,
      publiclyAccessible: false,
      caCertIdentifier: CA_CERTIFICATE,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      preferredMaintenanceWindow: props.maintenanceWindow.asString,
      monitoringInterval: tf.number(config('monitoringIntervalSeconds')),
      monitoringRoleArn: tf.string(`${config('monitoringIntervalSeconds')} > 0 ? ${ref(role, 'arn', 0)} : null`),
      performanceInsightsEnabled: tf.bool(`${config('performanceInsightsRetentionDays')} != null`),
      performanceInsightsRetentionPeriod: tf.number(config('performanceInsightsRetentionDays')),
      performanceInsightsKmsKeyId: tf.string(
        `${config('performanceInsightsRetentionDays')} != null ? ${ref(props.key, 'arn')} : null`,
      ),
      applyImmediately: props.applyImmediately.asBoolean,
    };
  }

  /**
   * Reader autoscaling, and the two traps of Aurora autoscaling with Terraform:
   * - A scaling target registered while the instances are still being created never brings the cluster to its
   *   minimum (Application Auto Scaling skips a cluster that is not available): the target depends on them.
   * - Readers autoscaling adds are not in the state, so the cluster's destroy fails while they exist ("still
   *   contains DB instances"), and so does deleting a DB parameter group they belong to. `terraform_data`
   *   `.autoscaled_readers` deletes them on destroy: it depends on the cluster, and the target and policy depend on
   *   it, so Terraform removes the target first (no reader is added any more), then the autoscaled readers, then
   *   the module's instances and the cluster. It is replaced, and so runs, when the DB parameter group's family
   *   changes (a major version), before the old group is deleted. It exists whether the module or the caller
   *   scales the readers.
   */
  private addAutoscaling(props: AuroraClusterProps) {
    const parameterGroup = props.parameterGroup;
    const guard = address(
      new DataResource(this, 'autoscaled-readers', {
        // Destroy-time provisioners read only `self`: the cluster and its region are kept in the input.
        input: {
          cluster: this.cluster.clusterIdentifier,
          region: tf.string(`split(":", ${ref(this.cluster, 'arn')})[3]`),
        },
        triggersReplace: { family: parameterGroup.family, name: parameterGroup.name },
        provisioners: [
          {
            type: 'local-exec',
            when: 'destroy',
            interpreter: ['/bin/sh', '-c'],
            command: REMOVE_AUTOSCALED_READERS,
            environment: {
              CLUSTER: '${self.output.cluster}',
              AWS_REGION: '${self.output.region}',
            },
          },
        ],
      }),
      'autoscaled_readers',
    );
    // A local, so a literal and a Terraform variable read the same.
    const switchedOn = address(new TerraformLocal(this, 'scaling', props.readerAutoscaling), 'reader_autoscaling');
    const enabled = tf.number(`${addressOf(switchedOn)} && ${aurora('reader_autoscaling')} != null ? 1 : 0`);
    const target = address(
      new AppautoscalingTarget(this, 'readers', {
        count: enabled,
        serviceNamespace: 'rds',
        scalableDimension: READER_SCALABLE_DIMENSION,
        resourceId: `cluster:${this.cluster.clusterIdentifier}`,
        minCapacity: tf.number(config('replicaCount')),
        maxCapacity: tf.number(aurora('reader_autoscaling.max_readers')),
        dependsOn: [this.writer, this.reader, guard],
      }),
      'readers',
    );
    address(
      new AppautoscalingPolicy(this, 'reader-cpu', {
        count: enabled,
        name: prefixed('reader-cpu'),
        policyType: 'TargetTrackingScaling',
        serviceNamespace: tf.string(ref(target, 'serviceNamespace', 0)),
        scalableDimension: tf.string(ref(target, 'scalableDimension', 0)),
        resourceId: tf.string(ref(target, 'resourceId', 0)),
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: READER_CPU_METRIC },
          targetValue: tf.number(aurora('reader_autoscaling.target_cpu_percent')),
          scaleInCooldown: tf.number(aurora('reader_autoscaling.scale_in_cooldown_seconds')),
          scaleOutCooldown: tf.number(aurora('reader_autoscaling.scale_out_cooldown_seconds')),
        },
      }),
      'reader_cpu',
    );
  }
}

/** The sizing row's rules and the windows' (the DB instance checks the same at plan). */
function clusterPreconditions() {
  const checks = [
    ...sizingPreconditions(),
    ...restorePreconditions(),
    {
      condition: hclChecks.windowDurations,
      errorMessage: `backup_window and maintenance_window must each last at least ${MINIMUM_WINDOW_MINUTES} minutes.`,
    },
    { condition: hclChecks.windowsDisjoint, errorMessage: 'backup_window must not overlap maintenance_window.' },
  ];
  return checks.map(({ condition, errorMessage }) => ({ condition: tf.string(condition), errorMessage }));
}

/** The Enhanced Monitoring role of the cluster's instances, made when the environment monitors them. */
function monitoringRole(scope: Construct, props: AuroraClusterProps): IamRole {
  const count = tf.number(`${config('monitoringIntervalSeconds')} > 0 ? 1 : 0`);
  const role = address(
    new IamRole(scope, 'monitoring-role', {
      count,
      name: prefixed('rds-monitoring-role'),
      assumeRolePolicy: encodedDocument(
        scope,
        'monitoring_role_trust_policy',
        serviceTrustPolicy('monitoring.rds.amazonaws.com'),
      ),
      tags: nameTags('rds-monitoring-role'),
    }),
    'rds_enhanced_monitoring',
  );
  const policyArn = `arn:${props.partition.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`;
  address(
    new IamRolePolicyAttachment(scope, 'monitoring-policy', {
      count,
      role: tf.string(ref(role, 'name', 0)),
      policyArn,
    }),
    'rds_enhanced_monitoring',
  );
  return role;
}
