/**
 * The environment table: the one place where per-environment sizing is written.
 *
 * The RDS module emits this table into `modules/rds` as `local.instance_configs`, selected at plan by
 * `var.environment` (so one module serves every environment), and the TypeScript stacks read it directly.
 */

export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

export const STORAGE_TYPES = ['gp3', 'io1'] as const;
export type StorageType = (typeof STORAGE_TYPES)[number];

/** CloudWatch Database Insights modes: advanced needs Performance Insights kept at least 465 days. */
export const DATABASE_INSIGHTS_MODES = ['standard', 'advanced'] as const;
export type DatabaseInsightsMode = (typeof DATABASE_INSIGHTS_MODES)[number];

/**
 * What RDS does at the end of the major version's standard support (PostgreSQL 15: 28 February 2028): keep
 * running it on paid RDS Extended Support, or (disabled) upgrade the major version itself, in the maintenance
 * window, past the module's pinned version, parameter-group family and tested migrations.
 */
export const ENGINE_LIFECYCLE_SUPPORT = [
  'open-source-rds-extended-support',
  'open-source-rds-extended-support-disabled',
] as const;
export type EngineLifecycleSupport = (typeof ENGINE_LIFECYCLE_SUPPORT)[number];

/** Database sizing and protection for one environment. */
export interface DatabaseSizing {
  /** RDS instance class of the primary and of every replica. */
  readonly instanceClass: string;
  /** Initial storage in GiB. */
  readonly allocatedStorage: number;
  /** Storage autoscaling ceiling in GiB. */
  readonly maxAllocatedStorage: number;
  readonly storageType: StorageType;
  /** Provisioned IOPS (io1 only; null lets gp3 use its baseline). */
  readonly iops: number | null;
  readonly multiAz: boolean;
  /** Automated backup retention in days (also the point-in-time recovery window). */
  readonly backupRetentionDays: number;
  /** Read replicas next to the primary, spread over the other availability zones. */
  readonly replicaCount: number;
  /** Enhanced Monitoring interval in seconds; 0 disables it (and the IAM role). */
  readonly monitoringIntervalSeconds: 0 | 1 | 5 | 10 | 15 | 30 | 60;
  /** Performance Insights retention in days; null disables Performance Insights. */
  readonly performanceInsightsRetentionDays: number | null;
  /** CloudWatch Database Insights mode; advanced needs `performanceInsightsRetentionDays` of 465 or more. */
  readonly databaseInsightsMode: DatabaseInsightsMode;
  /** Extended Support at the end of standard support (billed per vCPU-hour), or RDS's own major upgrade. */
  readonly engineLifecycleSupport: EngineLifecycleSupport;
  /** Deletion protection on, and a final snapshot taken, when the primary is destroyed. */
  readonly protectFromDeletion: boolean;
  /** PostgreSQL max_connections. */
  readonly maxConnections: number;
  /** Days Secrets Manager keeps a deleted secret recoverable (0 deletes at once). */
  readonly secretRecoveryWindowDays: number;
  /** Rotate the application and read-only credentials every 30 days. */
  readonly rotateCredentials: boolean;
  /** CPUUtilization alarm threshold (percent). */
  readonly cpuAlarmThreshold: number;
  /** DatabaseConnections alarm threshold. */
  readonly connectionsAlarmThreshold: number;
  /** MaximumUsedTransactionIDs alarm threshold: transaction IDs not yet frozen (wraparound comes at 2^31). */
  readonly maximumUsedTransactionIdsAlarmThreshold: number;
  /** CPUCreditBalance alarm threshold (credits); the alarm exists only on burstable classes. */
  readonly cpuCreditBalanceAlarmThreshold: number;
  /** TransactionLogsDiskUsage alarm threshold, in percent of the allocated storage. */
  readonly transactionLogsDiskUsageAlarmPercent: number;
  /** ReplicationSlotDiskUsage alarm threshold, in percent of the allocated storage. */
  readonly replicationSlotDiskUsageAlarmPercent: number;
  /** CloudWatch Logs retention in days of the exported PostgreSQL logs (pgaudit's AUDIT lines among them). */
  readonly logRetentionDays: number;
}

/**
 * The name of each sizing field in the emitted module's `local.instance_configs` rows (the names Terraform callers
 * of the module already know). The module reads a field only through this map.
 */
export const SIZING_ATTRIBUTES: Readonly<Record<keyof DatabaseSizing, string>> = {
  instanceClass: 'instance_class',
  allocatedStorage: 'allocated_storage',
  maxAllocatedStorage: 'max_allocated_storage',
  storageType: 'storage_type',
  iops: 'iops',
  multiAz: 'multi_az',
  backupRetentionDays: 'backup_retention',
  replicaCount: 'replica_count',
  monitoringIntervalSeconds: 'monitoring_interval',
  performanceInsightsRetentionDays: 'performance_insights_retention',
  databaseInsightsMode: 'database_insights_mode',
  engineLifecycleSupport: 'engine_lifecycle_support',
  protectFromDeletion: 'deletion_protection',
  maxConnections: 'max_connections',
  secretRecoveryWindowDays: 'secret_recovery_window_days',
  rotateCredentials: 'rotate_credentials',
  cpuAlarmThreshold: 'cpu_alarm_threshold',
  connectionsAlarmThreshold: 'connections_alarm_threshold',
  maximumUsedTransactionIdsAlarmThreshold: 'maximum_used_transaction_ids_alarm_threshold',
  cpuCreditBalanceAlarmThreshold: 'cpu_credit_balance_alarm_threshold',
  transactionLogsDiskUsageAlarmPercent: 'transaction_logs_disk_usage_alarm_percent',
  replicationSlotDiskUsageAlarmPercent: 'replication_slot_disk_usage_alarm_percent',
  logRetentionDays: 'log_retention_days',
};

/** Network shape of one environment's VPC. */
export interface NetworkSizing {
  /** VPC CIDR; the subnets are carved from it. */
  readonly vpcCidr: string;
  /** Availability zones used for subnets (the database subnet group needs at least two). */
  readonly azCount: number;
  /** 'single' shares one NAT gateway; 'per-az' gives each AZ its own (no cross-AZ egress dependency). */
  readonly natGateways: 'single' | 'per-az';
}

/** One Fargate service of the application tier. */
export interface ServiceSizing {
  readonly desiredCount: number;
  /** Fargate CPU units (256 = 0.25 vCPU). */
  readonly cpu: number;
  /** Fargate memory in MiB. */
  readonly memory: number;
}

/** One scheduled AWS Backup rule of the module's backup plan. */
export interface BackupRule {
  /** Rule name, unique within the plan (letters, digits, hyphens). */
  readonly name: string;
  /** AWS Backup schedule expression, in UTC. */
  readonly schedule: string;
  /** Days each recovery point is kept (1 to 35 for continuous backup; any positive number for snapshots). */
  readonly retentionDays: number;
  /** Copy each recovery point to the disaster-recovery vault, when the module is given one; kept as long. */
  readonly copyToDisasterRecovery: boolean;
}

/** How much data and time a recovery may cost, and the backups that make it possible. */
export interface RecoveryObjectives {
  /**
   * Recovery point objective in minutes: the most recent writes a restore in the primary's region may lose.
   * `accessweaver-rds restore-drill` compares the age of the point it restored against it.
   */
  readonly rpoMinutes: number;
  /**
   * Recovery time objective in minutes: from starting a restore to a verified, usable database.
   * `accessweaver-rds restore-drill` measures it.
   */
  readonly rtoMinutes: number;
  /**
   * AWS Backup continuous backup (point-in-time recovery), kept `database.backupRetentionDays` days. AWS Backup then
   * manages the instance's automated backups and sets their retention to the rule's, so one number serves both.
   */
  readonly continuousBackup: boolean;
  /** Snapshot rules of the backup plan. */
  readonly backupRules: readonly BackupRule[];
}

export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  readonly database: DatabaseSizing;
  readonly recovery: RecoveryObjectives;
  readonly network: NetworkSizing;
  readonly services: {
    readonly apiGateway: ServiceSizing;
    readonly authService: ServiceSizing;
    readonly pdpService: ServiceSizing;
  };
  /** CloudWatch Logs retention in days for the application's log groups. */
  readonly logRetentionDays: number;
}

// Snapshot rules start at 00:00 UTC, at least an hour clear of the default backup (03:00-04:00) and maintenance
// (Sun 04:00-05:00) windows and of the examples' (02:00-03:00, Sun 03:00-04:00): AWS Backup advises keeping RDS
// snapshot jobs away from both.
const DAILY = 'cron(0 0 * * ? *)';
const MONTHLY = 'cron(0 0 1 * ? *)';

export const ENVIRONMENT_CONFIGS: Readonly<Record<EnvironmentName, EnvironmentConfig>> = {
  dev: {
    name: 'dev',
    database: {
      instanceClass: 'db.t3.micro',
      allocatedStorage: 20,
      maxAllocatedStorage: 100,
      storageType: 'gp3',
      iops: null,
      multiAz: false,
      backupRetentionDays: 1,
      replicaCount: 0,
      monitoringIntervalSeconds: 0,
      performanceInsightsRetentionDays: null,
      databaseInsightsMode: 'standard',
      engineLifecycleSupport: 'open-source-rds-extended-support',
      protectFromDeletion: false,
      maxConnections: 100,
      secretRecoveryWindowDays: 0,
      rotateCredentials: false,
      cpuAlarmThreshold: 90,
      connectionsAlarmThreshold: 80,
      maximumUsedTransactionIdsAlarmThreshold: 1_000_000_000,
      cpuCreditBalanceAlarmThreshold: 30,
      transactionLogsDiskUsageAlarmPercent: 20,
      replicationSlotDiskUsageAlarmPercent: 10,
      logRetentionDays: 7,
    },
    recovery: {
      rpoMinutes: 1440,
      rtoMinutes: 60,
      continuousBackup: false,
      backupRules: [{ name: 'daily', schedule: DAILY, retentionDays: 7, copyToDisasterRecovery: false }],
    },
    network: { vpcCidr: '10.10.0.0/16', azCount: 3, natGateways: 'single' },
    services: {
      apiGateway: { desiredCount: 1, cpu: 256, memory: 512 },
      authService: { desiredCount: 1, cpu: 256, memory: 512 },
      pdpService: { desiredCount: 1, cpu: 256, memory: 512 },
    },
    logRetentionDays: 7,
  },
  staging: {
    name: 'staging',
    database: {
      instanceClass: 'db.t3.small',
      allocatedStorage: 100,
      maxAllocatedStorage: 500,
      storageType: 'gp3',
      iops: null,
      multiAz: true,
      backupRetentionDays: 7,
      replicaCount: 1,
      monitoringIntervalSeconds: 60,
      performanceInsightsRetentionDays: 7,
      databaseInsightsMode: 'standard',
      engineLifecycleSupport: 'open-source-rds-extended-support',
      protectFromDeletion: false,
      maxConnections: 100,
      secretRecoveryWindowDays: 0,
      rotateCredentials: false,
      cpuAlarmThreshold: 90,
      connectionsAlarmThreshold: 80,
      maximumUsedTransactionIdsAlarmThreshold: 1_000_000_000,
      cpuCreditBalanceAlarmThreshold: 60,
      transactionLogsDiskUsageAlarmPercent: 10,
      replicationSlotDiskUsageAlarmPercent: 10,
      logRetentionDays: 30,
    },
    recovery: {
      rpoMinutes: 60,
      rtoMinutes: 30,
      continuousBackup: true,
      backupRules: [{ name: 'daily', schedule: DAILY, retentionDays: 14, copyToDisasterRecovery: false }],
    },
    network: { vpcCidr: '10.20.0.0/16', azCount: 3, natGateways: 'single' },
    services: {
      apiGateway: { desiredCount: 2, cpu: 512, memory: 1024 },
      authService: { desiredCount: 2, cpu: 512, memory: 1024 },
      pdpService: { desiredCount: 2, cpu: 512, memory: 1024 },
    },
    logRetentionDays: 30,
  },
  prod: {
    name: 'prod',
    database: {
      instanceClass: 'db.r6g.large',
      allocatedStorage: 500,
      maxAllocatedStorage: 2000,
      storageType: 'gp3',
      iops: null,
      multiAz: true,
      backupRetentionDays: 30,
      replicaCount: 2,
      monitoringIntervalSeconds: 60,
      performanceInsightsRetentionDays: 731,
      databaseInsightsMode: 'advanced',
      engineLifecycleSupport: 'open-source-rds-extended-support',
      protectFromDeletion: true,
      maxConnections: 200,
      secretRecoveryWindowDays: 30,
      rotateCredentials: true,
      cpuAlarmThreshold: 80,
      connectionsAlarmThreshold: 150,
      maximumUsedTransactionIdsAlarmThreshold: 1_000_000_000,
      cpuCreditBalanceAlarmThreshold: 50,
      transactionLogsDiskUsageAlarmPercent: 5,
      replicationSlotDiskUsageAlarmPercent: 5,
      logRetentionDays: 400,
    },
    recovery: {
      rpoMinutes: 15,
      rtoMinutes: 15,
      continuousBackup: true,
      backupRules: [
        { name: 'daily', schedule: DAILY, retentionDays: 35, copyToDisasterRecovery: true },
        { name: 'monthly', schedule: MONTHLY, retentionDays: 365, copyToDisasterRecovery: true },
      ],
    },
    network: { vpcCidr: '10.30.0.0/16', azCount: 3, natGateways: 'per-az' },
    services: {
      apiGateway: { desiredCount: 3, cpu: 1024, memory: 2048 },
      authService: { desiredCount: 3, cpu: 1024, memory: 2048 },
      pdpService: { desiredCount: 3, cpu: 1024, memory: 2048 },
    },
    logRetentionDays: 365,
  },
};

export function isEnvironmentName(value: string): value is EnvironmentName {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}

/** The message for an unknown environment, the same at plan (HCL validation) and at synth (TypeScript). */
export const UNKNOWN_ENVIRONMENT_MESSAGE = 'Environment must be dev, staging, or prod.';

export function environmentConfig(name: string): EnvironmentConfig {
  if (!isEnvironmentName(name)) {
    throw new Error(`${UNKNOWN_ENVIRONMENT_MESSAGE} Got '${name}'.`);
  }
  return ENVIRONMENT_CONFIGS[name];
}

/** Resource names live with the project name rule; re-exported for the modules that read both. */
export { naming } from './names';

export const DEFAULT_PROJECT_NAME = 'accessweaver';
export const DATABASE_NAME = 'accessweaver';
export const DATABASE_PORT = 5432;
export const MASTER_USERNAME = 'accessweaver_admin';
export const APP_LOGIN = 'accessweaver_app';
export const READONLY_LOGIN = 'accessweaver_readonly';
/**
 * AWS's PostgreSQL multi-user rotation function alternates each secret between a login and this
 * login plus `_clone`; the migrations create both.
 */
export const ROTATION_CLONE_SUFFIX = '_clone';
export const APP_CLONE_LOGIN = `${APP_LOGIN}${ROTATION_CLONE_SUFFIX}`;
export const READONLY_CLONE_LOGIN = `${READONLY_LOGIN}${ROTATION_CLONE_SUFFIX}`;
/** The login people use through IAM database authentication (rds_iam); acts as accessweaver_operator. */
export const IAM_OPERATOR_LOGIN = 'accessweaver_iam_operator';
