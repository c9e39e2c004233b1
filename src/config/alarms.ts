/**
 * The CloudWatch alarms on the database, as data: the module creates them from this list. Thresholds that depend on
 * sizing name their field of the environment table, which a module caller's instance_overrides can replace, so the
 * table is not what is deployed: `health-check` reads the CPU alarm's threshold and evaluation periods from the
 * deployed alarm (DescribeAlarms), and judges against this table only when that alarm cannot be read, saying so.
 */
import { DatabaseSizing } from './environments';

/** Every alarm evaluates 5-minute periods. */
export const ALARM_PERIOD_SECONDS = 300;

/** Replica lag (seconds) beyond which reads from a replica are too stale for the authorization checks. */
export const REPLICA_LAG_THRESHOLD_SECONDS = 60;

export type AlarmThreshold =
  /** A field of the environment's sizing row, in the metric's unit. */
  | { readonly field: keyof DatabaseSizing }
  /**
   * `percent` of the allocated storage or of the instance class's memory, in bytes; `percent` is a number or a
   * field of the sizing row.
   */
  | { readonly shareOf: 'storage' | 'memory'; readonly percent: number | keyof DatabaseSizing }
  /** The same value in every environment, in the metric's unit. */
  | { readonly value: number };

export interface AlarmRule {
  /** Terraform address (`aws_cloudwatch_metric_alarm.<logicalId>`) and, hyphenated, the name suffix. */
  readonly logicalId: string;
  readonly metric: string;
  readonly comparison: 'GreaterThanThreshold' | 'LessThanThreshold';
  readonly threshold: AlarmThreshold;
  readonly statistic: 'Average' | 'Maximum' | 'Minimum';
  /** Consecutive periods past the threshold before the alarm fires. */
  readonly evaluationPeriods: number;
  readonly description: string;
  /** Also set on each read replica (their own alarm, named after the replica). */
  readonly onReplicas?: boolean;
  /** Only on burstable (T-family) instance classes. */
  readonly burstableOnly?: boolean;
}

export const CPU_ALARM: AlarmRule = {
  logicalId: 'high_cpu',
  metric: 'CPUUtilization',
  comparison: 'GreaterThanThreshold',
  threshold: { field: 'cpuAlarmThreshold' },
  statistic: 'Average',
  evaluationPeriods: 2,
  description: 'CPU above the environment threshold for 10 minutes',
  onReplicas: true,
};

/** The alarms on the primary in every environment. */
export const PRIMARY_ALARMS: readonly AlarmRule[] = [
  CPU_ALARM,
  {
    logicalId: 'high_connections',
    metric: 'DatabaseConnections',
    comparison: 'GreaterThanThreshold',
    threshold: { field: 'connectionsAlarmThreshold' },
    statistic: 'Average',
    evaluationPeriods: 2,
    description: 'Connections approaching max_connections',
  },
  {
    logicalId: 'low_free_storage',
    metric: 'FreeStorageSpace',
    comparison: 'LessThanThreshold',
    threshold: { shareOf: 'storage', percent: 10 },
    statistic: 'Minimum',
    evaluationPeriods: 1,
    description: 'Less than 10% of the allocated storage free',
    onReplicas: true,
  },
  {
    logicalId: 'low_freeable_memory',
    metric: 'FreeableMemory',
    comparison: 'LessThanThreshold',
    threshold: { shareOf: 'memory', percent: 10 },
    statistic: 'Average',
    evaluationPeriods: 3,
    description: 'Less than 10% of the instance class memory freeable',
    onReplicas: true,
  },
  {
    logicalId: 'high_read_latency',
    metric: 'ReadLatency',
    comparison: 'GreaterThanThreshold',
    threshold: { value: 0.02 },
    statistic: 'Average',
    evaluationPeriods: 3,
    description: 'Average read latency above 20 ms for 15 minutes',
  },
  {
    logicalId: 'high_write_latency',
    metric: 'WriteLatency',
    comparison: 'GreaterThanThreshold',
    threshold: { value: 0.02 },
    statistic: 'Average',
    evaluationPeriods: 3,
    description: 'Average write latency above 20 ms for 15 minutes',
  },
  {
    logicalId: 'high_disk_queue_depth',
    metric: 'DiskQueueDepth',
    comparison: 'GreaterThanThreshold',
    threshold: { value: 20 },
    statistic: 'Average',
    evaluationPeriods: 3,
    description: 'I/O requests queueing on the storage for 15 minutes',
  },
  {
    logicalId: 'high_transaction_ids',
    metric: 'MaximumUsedTransactionIDs',
    comparison: 'GreaterThanThreshold',
    threshold: { field: 'maximumUsedTransactionIdsAlarmThreshold' },
    statistic: 'Maximum',
    evaluationPeriods: 1,
    description: 'Transaction IDs nearing wraparound: autovacuum is not freezing old rows',
  },
  {
    logicalId: 'high_transaction_logs_disk_usage',
    metric: 'TransactionLogsDiskUsage',
    comparison: 'GreaterThanThreshold',
    threshold: { shareOf: 'storage', percent: 'transactionLogsDiskUsageAlarmPercent' },
    statistic: 'Maximum',
    evaluationPeriods: 3,
    description: 'Write-ahead log taking more of the storage than the environment allows, for 15 minutes',
  },
  {
    logicalId: 'high_replication_slot_disk_usage',
    metric: 'ReplicationSlotDiskUsage',
    comparison: 'GreaterThanThreshold',
    threshold: { shareOf: 'storage', percent: 'replicationSlotDiskUsageAlarmPercent' },
    statistic: 'Maximum',
    evaluationPeriods: 3,
    description: 'Write-ahead log retained by a replication slot (a stalled consumer) for 15 minutes',
  },
  {
    logicalId: 'low_cpu_credit_balance',
    metric: 'CPUCreditBalance',
    comparison: 'LessThanThreshold',
    threshold: { field: 'cpuCreditBalanceAlarmThreshold' },
    statistic: 'Minimum',
    evaluationPeriods: 2,
    description: 'CPU credits running out: the burstable instance is about to be throttled or billed for surplus',
    burstableOnly: true,
  },
];
