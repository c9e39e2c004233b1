/**
 * What an Aurora cluster adds to the module's alarms and dashboard: CPU by role (the writer, whichever instance holds
 * it after a failover, and the readers on average, the metric reader autoscaling tracks), AuroraReplicaLag, free
 * local storage, deadlocks, and for Serverless v2 the capacity against its ceiling. The module's instance alarms that
 * Aurora does not report, or that are sized from an allocated storage it does not have, are left out
 * (AURORA_EXCLUDED_ALARMS); the others (connections, latency, transaction IDs...) apply to the writer as they are.
 */
import { Construct } from 'constructs';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DbEventSubscription } from '@cdktf/provider-aws/lib/db-event-subscription';
import { ALARM_PERIOD_SECONDS } from '../../config/alarms';
import { config, encodedDocument, expr, tf } from '../expressions';
import { address, nameTags, prefixed } from '../naming';

/** FreeStorageSpace and the storage shares do not exist on Aurora; memory and credits follow the Aurora class. */
export const AURORA_EXCLUDED_ALARMS = [
  // By role below: the writer's CPU follows a failover, the readers' is the one autoscaling tracks.
  'high_cpu',
  'low_free_storage',
  'high_transaction_logs_disk_usage',
  'high_replication_slot_disk_usage',
  'low_freeable_memory',
  'low_cpu_credit_balance',
  'replica_lag',
];

/** RDS event categories of a DB cluster the alarm topic receives. */
export const CLUSTER_EVENT_CATEGORIES = ['creation', 'deletion', 'failover', 'failure', 'maintenance', 'notification'];

export interface AuroraAlarmsProps {
  /** `aws_rds_cluster.main.cluster_identifier` and the instances' identifiers, as HCL. */
  readonly cluster: string;
  readonly writer: string;
  readonly reader: (index: 'count.index') => string;
  readonly readers: string;
  /** The topic alarms go to (the module's `local.alarm_topic_arn`). */
  readonly topic: string;
  /** `local.aurora_config.<path>`. */
  readonly aurora: (path: string) => string;
}

interface AuroraAlarm {
  readonly id: string;
  readonly metric: string;
  readonly description: string;
  readonly dimensions: Record<string, string>;
  readonly threshold: string;
  readonly comparison: 'GreaterThanThreshold' | 'LessThanThreshold';
  readonly statistic: 'Average' | 'Maximum' | 'Minimum';
  readonly count?: string;
  readonly evaluationPeriods?: number;
}

/** The cluster's alarms, thresholds from the environment table and its Aurora columns. */
export function auroraAlarms(props: AuroraAlarmsProps): AuroraAlarm[] {
  const { aurora } = props;
  const gib = (field: string) => `${aurora(field)} * 1073741824`;
  const readers = config('replicaCount');
  const role = (name: 'WRITER' | 'READER') => ({ DBClusterIdentifier: props.cluster, Role: name });
  return [
    {
      id: 'writer_high_cpu',
      metric: 'CPUUtilization',
      description: 'CPU of the writer (whichever instance holds the role) above the threshold',
      dimensions: role('WRITER'),
      threshold: config('cpuAlarmThreshold'),
      comparison: 'GreaterThanThreshold',
      statistic: 'Average',
    },
    {
      // Autoscaling holds the readers at its target; past the threshold it is at its ceiling or cannot keep up.
      id: 'readers_high_cpu',
      metric: 'CPUUtilization',
      description: 'Average CPU of the readers above the threshold: reader autoscaling is at its maximum or too slow',
      dimensions: role('READER'),
      threshold: config('cpuAlarmThreshold'),
      comparison: 'GreaterThanThreshold',
      statistic: 'Average',
      count: `${readers} > 0 ? 1 : 0`,
    },
    {
      id: 'reader_replica_lag',
      metric: 'AuroraReplicaLag',
      description: 'Reader behind the writer by more than the threshold (milliseconds)',
      dimensions: { DBInstanceIdentifier: props.reader('count.index') },
      threshold: aurora('replica_lag_alarm_ms'),
      comparison: 'GreaterThanThreshold',
      statistic: 'Maximum',
      count: readers,
      evaluationPeriods: 3,
    },
    {
      id: 'writer_low_free_local_storage',
      metric: 'FreeLocalStorage',
      description: "Writer's local storage (temporary files, sorts) below the threshold",
      dimensions: { DBInstanceIdentifier: props.writer },
      threshold: gib('free_local_storage_alarm_gib'),
      comparison: 'LessThanThreshold',
      statistic: 'Minimum',
    },
    {
      id: 'reader_low_free_local_storage',
      metric: 'FreeLocalStorage',
      description: "Reader's local storage (temporary files, sorts) below the threshold",
      dimensions: { DBInstanceIdentifier: props.reader('count.index') },
      threshold: gib('free_local_storage_alarm_gib'),
      comparison: 'LessThanThreshold',
      statistic: 'Minimum',
      count: readers,
    },
    {
      // Deadlocks is a rate per second; the table writes it per minute.
      id: 'high_deadlocks',
      metric: 'Deadlocks',
      description: 'Deadlocks on the writer above the threshold (per minute)',
      dimensions: role('WRITER'),
      threshold: `${aurora('deadlocks_alarm_per_minute')} / 60`,
      comparison: 'GreaterThanThreshold',
      statistic: 'Average',
    },
    {
      id: 'high_serverless_capacity',
      metric: 'ServerlessDatabaseCapacity',
      description: 'Serverless v2 capacity (ACU) near the maximum of its range',
      dimensions: { DBClusterIdentifier: props.cluster },
      threshold: `${aurora('serverless_capacity')} == null ? 0 : ${aurora('serverless_capacity')}.max_acu * ${aurora('capacity_alarm_percent')} / 100`,
      comparison: 'GreaterThanThreshold',
      statistic: 'Maximum',
      count: `${aurora('serverless_capacity')} == null ? 0 : 1`,
    },
  ];
}

/** Creates the alarms and the cluster's dashboard. */
export class AuroraMonitoring extends Construct {
  constructor(scope: Construct, id: string, props: AuroraAlarmsProps) {
    super(scope, id);
    const actions = [tf.string(props.topic)];
    for (const alarm of auroraAlarms(props)) {
      const name = `rds-${alarm.id.replace(/_/g, '-')}`;
      address(
        new CloudwatchMetricAlarm(this, alarm.id, {
          ...(alarm.count === undefined ? {} : { count: tf.number(alarm.count) }),
          alarmName: alarm.count === undefined ? prefixed(name) : prefixed(`${name}-\${count.index + 1}`),
          alarmDescription: alarm.description,
          namespace: 'AWS/RDS',
          metricName: alarm.metric,
          dimensions: Object.fromEntries(Object.entries(alarm.dimensions).map(([k, v]) => [k, hcl(v)])),
          statistic: alarm.statistic,
          period: ALARM_PERIOD_SECONDS,
          evaluationPeriods: alarm.evaluationPeriods ?? 2,
          comparisonOperator: alarm.comparison,
          threshold: tf.number(alarm.threshold),
          alarmActions: actions,
          okActions: actions,
          tags: nameTags(name),
        }),
        alarm.id,
      );
    }
    // Failovers, and the cluster's own failures and maintenance, are cluster events, not instance ones.
    address(
      new DbEventSubscription(this, 'cluster-events', {
        name: prefixed('rds-cluster-events'),
        snsTopic: tf.string(props.topic),
        sourceType: 'db-cluster',
        sourceIds: [tf.string(props.cluster)],
        eventCategories: CLUSTER_EVENT_CATEGORIES,
        tags: nameTags('rds-cluster-events'),
      }),
      'cluster',
    );
    address(
      new CloudwatchDashboard(this, 'dashboard', {
        dashboardName: prefixed('aurora-dashboard'),
        dashboardBody: dashboard(this, props),
      }),
      'aurora',
    );
  }
}

/** A role or a literal stays as written; anything else is an HCL expression. */
const hcl = (value: string) => (/^[A-Z]+$/.test(value) ? value : tf.string(value));

function dashboard(scope: Construct, props: AuroraAlarmsProps): string {
  const cluster = expr(props.cluster);
  const metric = (name: string, ...dimensions: unknown[]) => ['AWS/RDS', name, ...dimensions];
  const widget = (title: string, metrics: unknown, y: number, x: number) => ({
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    // The module's region data source (DatabaseEncryption's).
    properties: { title, metrics, region: expr('data.aws_region.current.name'), period: 60, stat: 'Average' },
  });
  const roles = (name: string) => [
    metric(name, 'DBClusterIdentifier', cluster, 'Role', 'WRITER'),
    metric(name, 'DBClusterIdentifier', cluster, 'Role', 'READER'),
  ];
  const perInstance = (name: string, writer: boolean) =>
    expr(
      `[for id in ${writer ? `concat([${props.writer}], ${props.readers})` : props.readers} : ` +
        `["AWS/RDS", "${name}", "DBInstanceIdentifier", id]]`,
    );
  return encodedDocument(scope, 'aurora_dashboard', {
    widgets: [
      widget('CPU by role (readers: the autoscaling metric)', roles('CPUUtilization'), 0, 0),
      widget('Connections by role', roles('DatabaseConnections'), 0, 12),
      widget('AuroraReplicaLag (ms)', perInstance('AuroraReplicaLag', false), 6, 0),
      widget('FreeLocalStorage (bytes)', perInstance('FreeLocalStorage', true), 6, 12),
      widget('Deadlocks per second', roles('Deadlocks'), 12, 0),
      widget(
        'Serverless v2 capacity (ACU) and utilisation (%)',
        [
          metric('ServerlessDatabaseCapacity', 'DBClusterIdentifier', cluster),
          metric('ACUUtilization', 'DBClusterIdentifier', cluster),
        ],
        12,
        12,
      ),
    ],
  });
}
