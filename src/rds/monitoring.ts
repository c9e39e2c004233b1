import { Construct } from 'constructs';
import { ALARM_PERIOD_SECONDS, AlarmThreshold, PRIMARY_ALARMS, REPLICA_LAG_THRESHOLD_SECONDS } from '../config/alarms';
import { TerraformLocal } from 'cdktf';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import type { BoundEngine } from './engine';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DbEventSubscription } from '@cdktf/provider-aws/lib/db-event-subscription';
import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { addressOf, config, encodedDocument, expr, HclExpression, ref, tf, toTerraformJson } from './expressions';
import { REPLICA_SUFFIX } from './instances';
import { address, nameTags, prefixed } from './naming';

const GIB = 1024 * 1024 * 1024;

/**
 * An alarm's threshold as an HCL expression over the selected sizing row; `memoryGiB` is the HCL expression of
 * the instance class's memory.
 */
export function thresholdExpression(threshold: AlarmThreshold, memoryGiB: string): string {
  if ('field' in threshold) return config(threshold.field);
  if ('shareOf' in threshold) {
    const gib = threshold.shareOf === 'storage' ? config('allocatedStorage') : memoryGiB;
    const percent = typeof threshold.percent === 'number' ? threshold.percent : config(threshold.percent);
    return `${gib} * ${GIB} * ${percent} / 100`;
  }
  return String(threshold.value);
}

const hyphenated = (logicalId: string) => logicalId.replace(/_/g, '-');

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

/**
 * Security Hub RDS.21 and RDS.22: configuration changes of parameter groups, and configuration changes and
 * failures of DB security groups, notified. DB security groups predate VPCs and the module has none, so that
 * subscription covers the account's; the parameter-group one covers the module's group.
 */
export const PARAMETER_GROUP_EVENT_CATEGORIES = ['configuration change'];
export const SECURITY_GROUP_EVENT_CATEGORIES = ['configuration change', 'failure'];

export interface DatabaseMonitoringProps {
  /** Encrypts the module's own topic. */
  readonly key: KmsKey;
  /** The account allowed to publish to the module's own topic. */
  readonly caller: DataAwsCallerIdentity;
  /** The region the dashboard's widgets read. */
  readonly region: DataAwsRegion;
  /** The writer and the readers: each gets alarms, a dashboard line and events. */
  readonly engine: BoundEngine;
  /** The group whose configuration changes are notified. */
  readonly parameterGroup: DbParameterGroup;
  /** The caller's topic, or null for the module's own (a string). */
  readonly alarmTopicArnInput: TerraformLocal;
  /** The topic alarms and events go to: the caller's, else the module's own (a string). */
  readonly alarmTopicArn: TerraformLocal;
  /** The catalogue entry of the instance class (an object with memory_gib and burstable). */
  readonly instanceClass: TerraformLocal;
}

/**
 * Alarms, the dashboard and RDS events, all routed to one SNS topic: the caller's (`alarm_sns_topic_arn`) or one
 * this module creates, encrypted with the module's key, so alarms have somewhere to go without any setup.
 */
export class DatabaseMonitoring extends Construct {
  /** The module's own topic, counted: created only when the caller passes none. */
  public readonly ownTopic: SnsTopic;

  constructor(scope: Construct, id: string, props: DatabaseMonitoringProps) {
    super(scope, id);
    this.ownTopic = this.addOwnTopic(props);
    this.addAlarms(props);
    this.addDashboardAndEvents(props);
  }

  /** The module's own topic, encrypted with its key, which CloudWatch and RDS events of the account may publish to. */
  private addOwnTopic(props: DatabaseMonitoringProps): SnsTopic {
    const ownTopic = tf.number(`${addressOf(props.alarmTopicArnInput)} == null ? 1 : 0`);
    const topic = address(
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
        arn: tf.string(ref(topic, 'arn', 0)),
        policy: encodedDocument(this, 'alerts_topic_policy', {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AlarmsAndRdsEventsPublish',
              Effect: 'Allow',
              Principal: { Service: ['cloudwatch.amazonaws.com', 'events.rds.amazonaws.com'] },
              Action: 'sns:Publish',
              // one(): the local is evaluated even without the module's own topic.
              Resource: expr(`one(${addressOf(topic)}[*].arn)`),
              Condition: { StringEquals: { 'aws:SourceAccount': expr(ref(props.caller, 'accountId')) } },
            },
          ],
        }),
      }),
      'alerts',
    );
    return topic;
  }

  /** The writer's alarms, each reader's, and the readers' lag, with thresholds from the selected row. */
  private addAlarms(props: DatabaseMonitoringProps): void {
    const { writer, readers, metrics } = props.engine;
    const actions = [props.alarmTopicArn.asString];
    const instanceClass = addressOf(props.instanceClass);
    const memoryGiB = `${instanceClass}.memory_gib`;
    const alarms = PRIMARY_ALARMS.filter((a) => !metrics.excludedAlarms?.includes(a.logicalId));
    for (const alarm of alarms) {
      address(
        new CloudwatchMetricAlarm(this, alarm.logicalId, {
          ...(alarm.burstableOnly ? { count: tf.number(`${instanceClass}.burstable ? 1 : 0`) } : {}),
          alarmName: prefixed(`rds-${hyphenated(alarm.logicalId)}`),
          alarmDescription: alarm.description,
          namespace: metrics.namespace,
          metricName: alarm.metric,
          // RDS metrics are keyed by the identifier, not the provider's id (the DbiResourceId).
          dimensions: { [metrics.dimension]: tf.string(writer.identifier) },
          statistic: alarm.statistic,
          period: ALARM_PERIOD_SECONDS,
          evaluationPeriods: alarm.evaluationPeriods,
          comparisonOperator: alarm.comparison,
          threshold: tf.number(thresholdExpression(alarm.threshold, memoryGiB)),
          alarmActions: actions,
          okActions: actions,
          tags: nameTags(`rds-${hyphenated(alarm.logicalId)}`),
        }),
        alarm.logicalId,
      );
    }

    // Each replica has its own CPU, memory and storage: the same rules, on its own identifier.
    for (const alarm of alarms.filter((a) => a.onReplicas)) {
      const name = `rds-${REPLICA_SUFFIX}-${hyphenated(alarm.logicalId)}`;
      address(
        new CloudwatchMetricAlarm(this, `replica-${alarm.logicalId}`, {
          count: tf.number(config('replicaCount')),
          alarmName: prefixed(name),
          alarmDescription: `${alarm.description} (read replica)`,
          namespace: metrics.namespace,
          metricName: alarm.metric,
          dimensions: { [metrics.dimension]: tf.string(readers.identifier('count.index')) },
          statistic: alarm.statistic,
          period: ALARM_PERIOD_SECONDS,
          evaluationPeriods: alarm.evaluationPeriods,
          comparisonOperator: alarm.comparison,
          threshold: tf.number(thresholdExpression(alarm.threshold, memoryGiB)),
          alarmActions: actions,
          okActions: actions,
          tags: nameTags(name),
        }),
        `replica_${alarm.logicalId}`,
      );
    }

    address(
      new CloudwatchMetricAlarm(this, 'replica-lag', {
        count: tf.number(metrics.excludedAlarms?.includes('replica_lag') ? '0' : config('replicaCount')),
        alarmName: prefixed(`rds-${REPLICA_SUFFIX}-lag`),
        alarmDescription: `Replica more than ${REPLICA_LAG_THRESHOLD_SECONDS} s behind the primary`,
        namespace: metrics.namespace,
        metricName: 'ReplicaLag',
        dimensions: { [metrics.dimension]: tf.string(readers.identifier('count.index')) },
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
  }

  private addDashboardAndEvents(props: DatabaseMonitoringProps): void {
    const { writer, readers, metrics } = props.engine;
    address(
      new CloudwatchDashboard(this, 'dashboard', {
        dashboardName: prefixed('rds-dashboard'),
        dashboardBody: dashboardBody(this, props),
      }),
      'rds',
    );

    address(
      new DbEventSubscription(this, 'events', {
        name: prefixed('rds-events'),
        snsTopic: props.alarmTopicArn.asString,
        sourceType: metrics.eventSourceType,
        sourceIds: tf.list(`concat([${writer.identifier}], ${readers.identifiers})`),
        eventCategories: EVENT_CATEGORIES,
        tags: nameTags('rds-events'),
      }),
      'rds',
    );
    address(
      new DbEventSubscription(this, 'parameter-group-events', {
        name: prefixed('rds-parameter-group-events'),
        snsTopic: props.alarmTopicArn.asString,
        sourceType: 'db-parameter-group',
        sourceIds: [props.parameterGroup.name],
        eventCategories: PARAMETER_GROUP_EVENT_CATEGORIES,
        tags: nameTags('rds-parameter-group-events'),
      }),
      'parameter_group',
    );
    address(
      new DbEventSubscription(this, 'security-group-events', {
        name: prefixed('rds-security-group-events'),
        snsTopic: props.alarmTopicArn.asString,
        sourceType: 'db-security-group',
        eventCategories: SECURITY_GROUP_EVENT_CATEGORIES,
        tags: nameTags('rds-security-group-events'),
      }),
      'security_group',
    );
  }
}

/**
 * The dashboard: the primary's widgets and, when there are replicas, their lag; each widget a local of the module
 * written one field a line, encoded where the dashboard uses them.
 */
function dashboardBody(scope: Construct, { engine, region }: DatabaseMonitoringProps): string {
  const { writer, readers, metrics } = engine;
  const primary = (metric: string, extra: Record<string, unknown> = {}) => [
    metrics.namespace,
    metric,
    metrics.dimension,
    expr(writer.identifier),
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
      `[for id in ${readers.identifiers} : [${JSON.stringify(metrics.namespace)}, "ReplicaLag", ${JSON.stringify(metrics.dimension)}, id]]`,
    ),
    'Maximum',
  );
  const primaryWidgets = addressOf(dashboardLocal(scope, 'dashboard_widgets', widgets));
  const lagWidget = addressOf(dashboardLocal(scope, 'dashboard_replica_lag_widget', replicaLag));
  return tf.string(
    `jsonencode({ widgets = concat(${primaryWidgets}, length(${readers.identifiers}) > 0 ? [${lagWidget}] : []) })`,
  );
}

function dashboardLocal(scope: Construct, name: string, value: unknown): TerraformLocal {
  const local = new TerraformLocal(scope, name, toTerraformJson(value));
  local.overrideLogicalId(name);
  return local;
}
