/**
 * Every rule on the database's sizing, written once with its TypeScript check (literal values, at synth) and its HCL
 * condition (a Terraform caller's values, at plan) side by side. Field rules hold for every row of the environment
 * table, for overrides and for stack settings alike; row rules relate the fields of one row. The module's
 * `instance_overrides` validations and the primary's preconditions are generated from these tables, and a test
 * evaluates both sides of each rule on the same values. The module's other checked inputs (the engine's major
 * version, the restore inputs) have their rules here too, below the sizing rules.
 */
import {
  DATABASE_INSIGHTS_MODES,
  DatabaseSizing,
  ENGINE_LIFECYCLE_SUPPORT,
  SIZING_ATTRIBUTES,
  STORAGE_TYPES,
} from '../config/environments';
import { INSTANCE_CLASSES } from '../config/instance-classes';
import { config } from './expressions';
import { LOG_RETENTION_DAYS } from './logs';

/** A rule on one field's value (never null here: null means "unset" where the type allows it). */
export interface FieldRule {
  readonly type: 'string' | 'number' | 'bool';
  /** What a valid value is, for both messages. */
  readonly rule?: string;
  readonly check?: (value: never) => boolean;
  /** The same check in HCL over `v`, an expression of the value. */
  readonly hcl?: (v: string) => string;
}

const whole = (min: number, max: number): FieldRule => ({
  type: 'number',
  rule: `a whole number from ${min} to ${max}`,
  check: (value: number) => Number.isInteger(value) && value >= min && value <= max,
  hcl: (v) => `${v} == floor(${v}) && ${v} >= ${min} && ${v} <= ${max}`,
});
const oneOf = <T extends string | number>(type: 'string' | 'number', values: readonly T[]): FieldRule => ({
  type,
  rule: `one of ${values.join(', ')}`,
  check: (value: T) => values.includes(value),
  hcl: (v) => `contains(${JSON.stringify(values)}, ${v})`,
});
const bool: FieldRule = { type: 'bool' };

/** Performance Insights keeps 7 days (free tier), a whole number of 31-day months up to 23, or 731 days. */
export const PERFORMANCE_INSIGHTS_RETENTION = { free: 7, longest: 731, month: 31, longestInMonths: 713 } as const;
const PI = PERFORMANCE_INSIGHTS_RETENTION;

/** Every sizing field's rule; a new field of DatabaseSizing must be given one here (the type requires it). */
export const FIELD_RULES: Readonly<Record<keyof DatabaseSizing, FieldRule>> = {
  instanceClass: oneOf('string', Object.keys(INSTANCE_CLASSES)),
  allocatedStorage: whole(20, 65536),
  maxAllocatedStorage: whole(20, 65536),
  storageType: oneOf('string', STORAGE_TYPES),
  iops: whole(1000, 256000),
  multiAz: bool,
  // 0 would disable backups, and read replicas need them.
  backupRetentionDays: whole(1, 35),
  replicaCount: whole(0, 5),
  monitoringIntervalSeconds: oneOf('number', [0, 1, 5, 10, 15, 30, 60]),
  performanceInsightsRetentionDays: {
    type: 'number',
    rule: `${PI.free}, ${PI.longest}, or a multiple of ${PI.month} days up to ${PI.longestInMonths}`,
    check: (days: number) =>
      days === PI.free ||
      days === PI.longest ||
      (Number.isInteger(days) && days % PI.month === 0 && days >= PI.month && days <= PI.longestInMonths),
    hcl: (v) =>
      `contains([${PI.free}, ${PI.longest}], ${v}) || (${v} % ${PI.month} == 0 && ${v} >= ${PI.month} && ${v} <= ${PI.longestInMonths})`,
  },
  databaseInsightsMode: oneOf('string', DATABASE_INSIGHTS_MODES),
  engineLifecycleSupport: oneOf('string', ENGINE_LIFECYCLE_SUPPORT),
  protectFromDeletion: bool,
  maxConnections: whole(10, 262143),
  secretRecoveryWindowDays: {
    type: 'number',
    rule: '0 or a whole number from 7 to 30',
    check: (value: number) => value === 0 || (Number.isInteger(value) && value >= 7 && value <= 30),
    hcl: (v) => `${v} == 0 || (${v} == floor(${v}) && ${v} >= 7 && ${v} <= 30)`,
  },
  rotateCredentials: bool,
  cpuAlarmThreshold: whole(1, 100),
  connectionsAlarmThreshold: whole(1, 262143),
  maximumUsedTransactionIdsAlarmThreshold: whole(1, 2147483647),
  cpuCreditBalanceAlarmThreshold: whole(0, 4608),
  transactionLogsDiskUsageAlarmPercent: whole(1, 100),
  replicationSlotDiskUsageAlarmPercent: whole(1, 100),
  logRetentionDays: oneOf('number', LOG_RETENTION_DAYS),
};

export const SIZING_FIELDS = Object.keys(FIELD_RULES) as (keyof DatabaseSizing)[];

/** io1 accepts 0.5 to 50 provisioned IOPS per GiB. */
export const IO1_IOPS_PER_GIB = { min: 0.5, max: 50 } as const;
/** Database Insights' advanced mode needs Performance Insights kept at least 15 months. */
export const ADVANCED_INSIGHTS_MINIMUM_RETENTION_DAYS = 465;

/** A rule across the fields of one row. */
export interface RowRule {
  /** What the rule requires: the plan-time message. */
  readonly message: string;
  /** Why a literal row breaks the rule, naming its values; undefined when it holds. */
  readonly problem: (row: DatabaseSizing) => string | undefined;
  /** The same rule in HCL; `field(f)` is the expression of field f (null where the type allows). */
  readonly hcl: (field: (f: keyof DatabaseSizing) => string) => string;
}

// HCL's || and && do not short-circuit and a field may be null, so the conditions below use conditionals.
export const ROW_RULES: readonly RowRule[] = [
  {
    message: `io1 storage needs ${IO1_IOPS_PER_GIB.min} to ${IO1_IOPS_PER_GIB.max} provisioned IOPS per GiB of allocated storage.`,
    problem: ({ storageType, iops, allocatedStorage }) => {
      if (storageType !== 'io1') return undefined;
      if (iops === null) return 'io1 storage needs iops';
      const ratio = iops / allocatedStorage;
      return ratio < IO1_IOPS_PER_GIB.min || ratio > IO1_IOPS_PER_GIB.max
        ? `io1 iops ${iops} for ${allocatedStorage} GiB is ${ratio} IOPS/GiB; RDS accepts ${IO1_IOPS_PER_GIB.min} to ${IO1_IOPS_PER_GIB.max}`
        : undefined;
    },
    hcl: (f) =>
      `${f('storageType')} != "io1" ? true : ${f('iops')} == null ? false : (${f('iops')} / ${f('allocatedStorage')} >= ${IO1_IOPS_PER_GIB.min} && ${f('iops')} / ${f('allocatedStorage')} <= ${IO1_IOPS_PER_GIB.max})`,
  },
  {
    message: 'iops is only managed for io1 storage: leave it unset for the other storage types.',
    // gp3 below 400 GiB has a fixed 3000 IOPS baseline; setting iops there is rejected, so the table keeps it null.
    problem: ({ storageType, iops }) =>
      storageType !== 'io1' && iops !== null
        ? `iops ${iops} is only managed for io1 here; leave it null for ${storageType}`
        : undefined,
    hcl: (f) => `${f('storageType')} == "io1" ? true : ${f('iops')} == null`,
  },
  {
    message: 'max_allocated_storage must be at least allocated_storage.',
    problem: ({ maxAllocatedStorage, allocatedStorage }) =>
      maxAllocatedStorage < allocatedStorage
        ? `maxAllocatedStorage ${maxAllocatedStorage} GiB is below allocatedStorage ${allocatedStorage} GiB`
        : undefined,
    hcl: (f) => `${f('maxAllocatedStorage')} >= ${f('allocatedStorage')}`,
  },
  {
    message: `database_insights_mode "advanced" needs Performance Insights retention of at least ${ADVANCED_INSIGHTS_MINIMUM_RETENTION_DAYS} days.`,
    problem: ({ databaseInsightsMode, performanceInsightsRetentionDays: days }) =>
      databaseInsightsMode === 'advanced' && (days ?? 0) < ADVANCED_INSIGHTS_MINIMUM_RETENTION_DAYS
        ? `database_insights_mode "advanced" needs Performance Insights retention of at least ${ADVANCED_INSIGHTS_MINIMUM_RETENTION_DAYS} days, not ${days ?? 'off'}`
        : undefined,
    hcl: (f) =>
      `${f('databaseInsightsMode')} != "advanced" ? true : ${f('performanceInsightsRetentionDays')} == null ? false : ${f('performanceInsightsRetentionDays')} >= ${ADVANCED_INSIGHTS_MINIMUM_RETENTION_DAYS}`,
  },
];

const JS_TYPES = { string: 'string', number: 'number', bool: 'boolean' } as const;

/** Why `value` breaks the rule of `field`, or undefined; null (unset) passes. */
export function fieldProblem(field: keyof DatabaseSizing, value: unknown): string | undefined {
  const rule = FIELD_RULES[field];
  if (rule === undefined) return 'is not a sizing field';
  if (value === null || value === undefined) return undefined;
  if (typeof value !== JS_TYPES[rule.type]) return `${JSON.stringify(value)} must be a ${JS_TYPES[rule.type]}`;
  if (rule.check && !rule.check(value as never)) return `${JSON.stringify(value)} must be ${rule.rule}`;
  return undefined;
}

/** Checks one row: every field, then every row rule; the message names the environment and the bad value. */
export function validateSizing(environment: string, row: DatabaseSizing, context = ''): void {
  const where = `environment '${environment}'${context}`;
  for (const field of SIZING_FIELDS) {
    const problem = fieldProblem(field, row[field]);
    if (problem) throw new Error(`${where}: ${field} ${problem}`);
  }
  for (const rule of ROW_RULES) {
    const problem = rule.problem(row);
    if (problem) throw new Error(`${where}: ${problem}`);
  }
}

/** Checks literal overrides field by field; the message names the field as the module does. */
export function validateOverrides(
  overrides: { readonly [K in keyof DatabaseSizing]?: unknown },
  variable = 'instance_overrides',
): void {
  for (const [field, value] of Object.entries(overrides) as [keyof DatabaseSizing, unknown][]) {
    if (FIELD_RULES[field] === undefined) throw new Error(`${variable} has no field '${field}'`);
    const problem = fieldProblem(field, value);
    if (problem) throw new Error(`${variable}.${SIZING_ATTRIBUTES[field]} ${problem}`);
  }
}

/** The row with the overrides applied; overriding storageType without iops drops the row's iops. */
export function applyOverrides(
  row: DatabaseSizing,
  overrides: { readonly [K in keyof DatabaseSizing]?: DatabaseSizing[K] },
): DatabaseSizing {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const iops = overrides.storageType !== undefined && overrides.iops === undefined ? { iops: null } : {};
  return { ...row, ...defined, ...iops };
}

/** Overrides checked field by field, then the row they make checked as a whole; returns that row. */
export function validateOverriddenRow(
  environment: string,
  row: DatabaseSizing,
  overrides: { readonly [K in keyof DatabaseSizing]?: DatabaseSizing[K] },
): DatabaseSizing {
  validateOverrides(overrides);
  const overridden = applyOverrides(row, overrides);
  validateSizing(environment, overridden, ' with instance_overrides');
  return overridden;
}

/** One validation per checked field of `var.<variable>`, whose message names the field. */
export function overrideValidations(variable: string): { condition: string; errorMessage: string }[] {
  return SIZING_FIELDS.filter((field) => FIELD_RULES[field].hcl).map((field) => {
    const v = `var.${variable}.${SIZING_ATTRIBUTES[field]}`;
    return {
      condition: `${v} == null ? true : (${FIELD_RULES[field].hcl?.(v)})`,
      errorMessage: `${variable}.${SIZING_ATTRIBUTES[field]} must be ${FIELD_RULES[field].rule}.`,
    };
  });
}

/** The row rules as preconditions over the selected row (`local.config`, the table row with the overrides). */
export function sizingPreconditions(): { condition: string; errorMessage: string }[] {
  return ROW_RULES.map((rule) => ({ condition: rule.hcl(config), errorMessage: rule.message }));
}

/** The PostgreSQL major versions the module runs: RDS and Aurora both offer them; 15 is the default. */
export const ENGINE_MAJOR_VERSIONS = ['15', '16', '17'] as const;
export const DEFAULT_ENGINE_MAJOR_VERSION = '15';

/** Rules on the module's inputs outside the sizing row, by variable name. */
export const INPUT_RULES = {
  engine_major_version: oneOf('string', ENGINE_MAJOR_VERSIONS),
} as const satisfies Readonly<Record<string, FieldRule>>;

/** Why a literal value of `variable` breaks its rule, or undefined; a token passes (the plan checks it). */
export function inputProblem(variable: keyof typeof INPUT_RULES, value: unknown): string | undefined {
  const rule: FieldRule = INPUT_RULES[variable];
  if (typeof value !== JS_TYPES[rule.type]) return `${variable} ${JSON.stringify(value)} must be a ${rule.type}`;
  return rule.check?.(value as never) ? undefined : `${variable} ${JSON.stringify(value)} must be ${rule.rule}`;
}

/** The variable's validation, from its rule. */
export function inputValidations(variable: keyof typeof INPUT_RULES): { condition: string; errorMessage: string }[] {
  const rule: FieldRule = INPUT_RULES[variable];
  return [{ condition: rule.hcl!(`var.${variable}`), errorMessage: `${variable} must be ${rule.rule}.` }];
}

/** Where the database starts from: a snapshot, a point in time of another database, or (both null) empty. */
export interface RestoreSource {
  readonly snapshotIdentifier: string | null;
  readonly restoreToPointInTime: PointInTimeRestore | null;
}

/** A point-in-time restore, as the module's `restore_to_point_in_time` object takes it. */
export interface PointInTimeRestore {
  /** The source DB instance (modules/rds) or cluster (modules/rds-aurora) identifier. */
  readonly sourceIdentifier?: string | null;
  /** Or its resource ID (`db-...`, `cluster-...`), which outlives a deleted or renamed source. */
  readonly sourceResourceId?: string | null;
  /** The time to restore to, RFC 3339 UTC (`2026-12-06T10:15:00Z`). */
  readonly restoreTime?: string | null;
  /** Or the latest time the source can be restored to. */
  readonly useLatestRestorableTime?: boolean | null;
}

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A rule on the restore inputs; `hcl` receives the expressions of the snapshot and of the point-in-time object. */
export interface RestoreRule {
  /** The plan-time message. */
  readonly message: string;
  /** Whether the rule reads only `restore_to_point_in_time` (a variable validation) or both inputs (a precondition). */
  readonly scope: 'restore_to_point_in_time' | 'both';
  readonly holds: (source: RestoreSource) => boolean;
  readonly hcl: (snapshot: string, pitr: string) => string;
}

const given = (value: unknown) => value !== null && value !== undefined;

// HCL's || and && do not short-circuit: a null object is tested by a conditional before its attributes are read.
export const RESTORE_RULES: readonly RestoreRule[] = [
  {
    message: 'snapshot_identifier and restore_to_point_in_time are exclusive: set one of them, or neither.',
    scope: 'both',
    holds: (s) => !(given(s.snapshotIdentifier) && given(s.restoreToPointInTime)),
    hcl: (snapshot, pitr) => `${snapshot} == null || ${pitr} == null`,
  },
  {
    message: 'restore_to_point_in_time needs exactly one of source_identifier and source_resource_id.',
    scope: 'restore_to_point_in_time',
    holds: ({ restoreToPointInTime: p }) => !p || given(p.sourceIdentifier) !== given(p.sourceResourceId),
    hcl: (_, p) => `${p} == null ? true : (${p}.source_identifier == null) != (${p}.source_resource_id == null)`,
  },
  {
    message: 'restore_to_point_in_time needs exactly one of restore_time and use_latest_restorable_time = true.',
    scope: 'restore_to_point_in_time',
    holds: ({ restoreToPointInTime: p }) => !p || given(p.restoreTime) !== (p.useLatestRestorableTime === true),
    hcl: (_, p) => `${p} == null ? true : (${p}.restore_time != null) != (${p}.use_latest_restorable_time == true)`,
  },
  {
    message: 'restore_to_point_in_time.restore_time must be an RFC 3339 UTC time, e.g. 2026-12-06T10:15:00Z.',
    scope: 'restore_to_point_in_time',
    holds: ({ restoreToPointInTime: p }) =>
      !p || !given(p.restoreTime) || (RFC3339_UTC.test(p.restoreTime!) && !Number.isNaN(Date.parse(p.restoreTime!))),
    hcl: (_, p) =>
      `${p} == null ? true : ${p}.restore_time == null ? true : ` +
      `can(regex(${JSON.stringify(RFC3339_UTC.source)}, ${p}.restore_time)) && ` +
      `can(formatdate("YYYY", ${p}.restore_time))`,
  },
];

/** Checks literal restore inputs at synth; the message is the module's. */
export function validateRestore(source: RestoreSource): void {
  for (const rule of RESTORE_RULES) if (!rule.holds(source)) throw new Error(rule.message);
}

/** The rules reading `restore_to_point_in_time` alone, as its validations. */
export function pointInTimeValidations(variable: string): { condition: string; errorMessage: string }[] {
  return RESTORE_RULES.filter((r) => r.scope === 'restore_to_point_in_time').map((rule) => ({
    condition: rule.hcl(`var.snapshot_identifier`, `var.${variable}`),
    errorMessage: rule.message,
  }));
}

/** The rules across both restore inputs, as preconditions of the primary or the cluster over their locals. */
export function restorePreconditions(): { condition: string; errorMessage: string }[] {
  return RESTORE_RULES.filter((r) => r.scope === 'both').map((rule) => ({
    condition: rule.hcl(`local.${RESTORE_LOCALS.snapshot}`, `local.${RESTORE_LOCALS.pointInTime}`),
    errorMessage: rule.message,
  }));
}

/** The locals holding the restore inputs, literal or variable alike. */
export const RESTORE_LOCALS = { snapshot: 'snapshot_identifier', pointInTime: 'restore_to_point_in_time' } as const;
