import { Construct } from 'constructs';
import { TerraformLocal } from 'cdktf';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DbEventSubscription } from '@cdktf/provider-aws/lib/db-event-subscription';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { addressOf, config, expr, HclExpression, ref, tf, toHcl } from './expressions';
import { REPLICA_SUFFIX } from './instances';
import { address, nameTags, prefixed } from './naming';

const GIB = 1024 * 1024 * 1024;

/** One CloudWatch alarm on the primary. */
export interface PrimaryAlarm {
  /** Address (`aws_cloudwatch_metric_alarm.<logicalId>`) and name suffix. */
  readonly logicalId: string;
  readonly metric: string;
  readonly comparison: 'GreaterThanThreshold' | 'LessThanThreshold';
  /** HCL expression of the threshold, in the metric's unit. */
  readonly threshold: string;
  readonly statistic: 'Average' | 'Maximum' | 'Minimum';
  readonly evaluationPeriods: number;
  readonly description: string;
}

/** The alarms every environment gets; thresholds that depend on sizing come from the environment table. */
export const PRIMARY_ALARMS: readonly PrimaryAlarm[] = [
  {
    logicalId: 'high_cpu',
    metric: 'CPUUtilization',
    comparison: 'GreaterThanThreshold',
    threshold: config('cpuAlarmThreshold'),
    statistic: 'Average',
    evaluationPeriods: 2,
    description: 'CPU above the environment threshold for 10 minutes',
  },
  {
    logicalId: 'high_connections',
    metric: 'DatabaseConnections',
    comparison: 'GreaterThanThreshold',
    threshold: config('connectionsAlarmThreshold'),
    statistic: 'Average',
    evaluationPeriods: 2,
    description: 'Connections approaching max_connections',
  },
  {
    logicalId: 'low_free_storage',
    metric: 'FreeStorageSpace',
    comparison: 'LessThanThreshold',
    threshold: `${config('allocatedStorage')} * ${GIB} / 10`,
    statistic: 'Minimum',
    evaluationPeriods: 1,
    description: 'Less than 10% of the allocated storage free',
  },
  {
    logicalId: 'low_freeable_memory',
    metric: 'FreeableMemory',
    comparison: 'LessThanThreshold',
    threshold: `${config('instanceMemoryGiB')} * ${GIB} / 10`,
    statistic: 'Average',
    evaluationPeriods: 3,
    description: 'Less than 10% of the instance memory freeable',
  },
  {
    logicalId: 'high_read_latency',
    metric: 'ReadLatency',
    comparison: 'GreaterThanThreshold',
    threshold: '0.02',
    statistic: 'Average',
    evaluationPeriods: 3,
    description: 'Average read latency above 20 ms for 15 minutes',
  },
  {
    logicalId: 'high_write_latency',
    metric: 'WriteLatency',
    comparison: 'GreaterThanThreshold',
    threshold: '0.02',
    statistic: 'Average',
    evaluationPeriods: 3,
    description: 'Average write latency above 20 ms for 15 minutes',
  },
  {
    logicalId: 'high_disk_queue_depth',
    metric: 'DiskQueueDepth',
    comparison: 'GreaterThanThreshold',
    threshold: '20',
    statistic: 'Average',
    evaluationPeriods: 3,
    description: 'I/O requests queueing on the storage for 15 minutes',
  },
];

/** Replica lag (seconds) beyond which reads from a replica are too stale for the authorization checks. */
export const REPLICA_LAG_THRESHOLD_SECONDS = 60;
export const ALARM_PERIOD_SECONDS = 300;

export const EVENT_CATEGORIES = [
  'availability',
  'deletion',
  'failover',
  'failure',
  'low storage',
  'maintenance',
  'notification',
  'recovery',
  'restoration',
  'configuration change',
];

export interface DatabaseMonitoringProps {
  /** Encrypts the module's own topic. */
  readonly key: KmsKey;
  /** The account allowed to publish to the module's own topic. */
  readonly caller: DataAwsCallerIdentity;
  /** The region the dashboard's widgets read. */
  readonly region: DataAwsRegion;
  readonly primary: DbInstance;
  /** The counted replicas: each gets a lag alarm, a dashboard line and events. */
  readonly replica: DbInstance;
  /** The caller's topic, or null for the module's own (a string). */
  readonly alarmTopicArnInput: TerraformLocal;
  /** The topic alarms and events go to: the caller's, else the module's own (a string). */
  readonly alarmTopicArn: TerraformLocal;
}

/**
 * Alarms, the dashboard and RDS events, all routed to one SNS topic: the caller's (`alarm_sns_topic_arn`) or one
 * this module creates, encrypted with the module's key (the original design referenced a topic it never defined).
 */
export class DatabaseMonitoring extends Construct {
  /** The module's own topic, counted: created only when the caller passes none. */
  public readonly ownTopic: SnsTopic;

  constructor(scope: Construct, id: string, props: DatabaseMonitoringProps) {
    super(scope, id);
    const { primary, replica } = props;

    const ownTopic = tf.number(`${addressOf(props.alarmTopicArnInput)} == null ? 1 : 0`);
    this.ownTopic = address(
      new SnsTopic(this, 'topic', {
        count: ownTopic,
        name: prefixed('rds-alerts'),
        kmsMasterKeyId: props.key.arn,
        tags: nameTags('rds-alerts'),
      }),
      'alerts',
    );
    address(
      new SnsTopicPolicy(this, 'topic-policy', {
        count: ownTopic,
        arn: tf.string(ref(this.ownTopic, 'arn', 0)),
        policy: tf.string(
          `jsonencode(${toHcl({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'AlarmsAndRdsEventsPublish',
                Effect: 'Allow',
                Principal: { Service: ['cloudwatch.amazonaws.com', 'events.rds.amazonaws.com'] },
                Action: 'sns:Publish',
                Resource: expr(ref(this.ownTopic, 'arn', 0)),
                Condition: {
                  StringEquals: { 'aws:SourceAccount': expr(ref(props.caller, 'accountId')) },
                },
              },
            ],
          })})`,
        ),
      }),
      'alerts',
    );

    const actions = [props.alarmTopicArn.asString];
    for (const alarm of PRIMARY_ALARMS) {
      address(
        new CloudwatchMetricAlarm(this, alarm.logicalId, {
          alarmName: prefixed(`rds-${alarm.logicalId.replace(/_/g, '-')}`),
          alarmDescription: alarm.description,
          namespace: 'AWS/RDS',
          metricName: alarm.metric,
          // RDS metrics are keyed by the instance identifier, not the provider's id (the DbiResourceId).
          dimensions: { DBInstanceIdentifier: primary.identifier },
          statistic: alarm.statistic,
          period: ALARM_PERIOD_SECONDS,
          evaluationPeriods: alarm.evaluationPeriods,
          comparisonOperator: alarm.comparison,
          threshold: tf.number(alarm.threshold),
          alarmActions: actions,
          okActions: actions,
          tags: nameTags(`rds-${alarm.logicalId.replace(/_/g, '-')}`),
        }),
        alarm.logicalId,
      );
    }

    address(
      new CloudwatchMetricAlarm(this, 'replica-lag', {
        count: tf.number(config('replicaCount')),
        alarmName: prefixed(`rds-${REPLICA_SUFFIX}-lag`),
        alarmDescription: `Replica more than ${REPLICA_LAG_THRESHOLD_SECONDS} s behind the primary`,
        namespace: 'AWS/RDS',
        metricName: 'ReplicaLag',
        dimensions: { DBInstanceIdentifier: tf.string(ref(replica, 'identifier', 'count.index')) },
        statistic: 'Maximum',
        period: ALARM_PERIOD_SECONDS,
        evaluationPeriods: 3,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: REPLICA_LAG_THRESHOLD_SECONDS,
        // A replica that stops reporting lag has usually stopped replicating.
        treatMissingData: 'breaching',
        alarmActions: actions,
        okActions: actions,
        tags: nameTags(`rds-${REPLICA_SUFFIX}-lag`),
      }),
      'replica_lag',
    );

    address(
      new CloudwatchDashboard(this, 'dashboard', {
        dashboardName: prefixed('rds-dashboard'),
        dashboardBody: tf.string(`jsonencode({ widgets = ${dashboardWidgets(props)} })`),
      }),
      'rds',
    );

    address(
      new DbEventSubscription(this, 'events', {
        name: prefixed('rds-events'),
        snsTopic: props.alarmTopicArn.asString,
        sourceType: 'db-instance',
        sourceIds: tf.list(`concat([${ref(primary, 'identifier')}], ${ref(replica, 'identifier', '*')})`),
        eventCategories: EVENT_CATEGORIES,
        tags: nameTags('rds-events'),
      }),
      'rds',
    );
  }
}

/** The dashboard's widgets as an HCL expression: primary metrics, plus replica lag when there are replicas. */
function dashboardWidgets({ primary: instance, replica, region }: DatabaseMonitoringProps): string {
  const primary = (metric: string, extra: Record<string, unknown> = {}) => [
    'AWS/RDS',
    metric,
    'DBInstanceIdentifier',
    expr(ref(instance, 'identifier')),
    ...(Object.keys(extra).length ? [extra] : []),
  ];
  const widget = (title: string, x: number, y: number, metrics: unknown[] | HclExpression, stat = 'Average') => ({
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    properties: {
      title,
      region: expr(ref(region, 'name')),
      period: ALARM_PERIOD_SECONDS,
      stat,
      view: 'timeSeries',
      metrics,
    },
  });
  const widgets = [
    widget('CPU and connections', 0, 0, [
      primary('CPUUtilization'),
      primary('DatabaseConnections', { yAxis: 'right' }),
    ]),
    widget('Memory and storage', 12, 0, [primary('FreeableMemory'), primary('FreeStorageSpace', { yAxis: 'right' })]),
    widget('Latency', 0, 6, [primary('ReadLatency'), primary('WriteLatency')]),
    widget('Throughput and queue', 12, 6, [
      primary('ReadIOPS'),
      primary('WriteIOPS'),
      primary('DiskQueueDepth', { yAxis: 'right' }),
    ]),
  ];
  const replicaLag = widget(
    'Replica lag',
    0,
    12,
    expr(
      `[for replica in ${addressOf(replica)} : ["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", replica.identifier]]`,
    ),
    'Maximum',
  );
  return `concat(${toHcl(widgets)}, length(${addressOf(replica)}) > 0 ? [${toHcl(replicaLag)}] : [])`;
}
