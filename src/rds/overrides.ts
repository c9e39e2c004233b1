/**
 * Caller overrides of the environment's sizing row: any field of DatabaseSizing, each with its Terraform type and
 * the rule its value must follow. The same rule is checked in TypeScript for literal overrides (at synth) and as
 * a validation of the module's `instance_overrides` variable (at plan), and both messages name the field.
 */
import { LOG_RETENTION_DAYS } from './logs';
import {
  DATABASE_INSIGHTS_MODES,
  DatabaseSizing,
  ENGINE_LIFECYCLE_SUPPORT,
  SIZING_ATTRIBUTES,
  STORAGE_TYPES,
} from '../config/environments';
import { INSTANCE_CLASSES } from '../config/instance-classes';
import {
  isValidPerformanceInsightsRetention,
  PERFORMANCE_INSIGHTS_RETENTION as PI,
  PERFORMANCE_INSIGHTS_RETENTION_RULE,
} from './validation';

/** Overrides as TypeScript callers write them: DatabaseSizing keys, each optional. */
export type SizingOverrides = { readonly [K in keyof DatabaseSizing]?: DatabaseSizing[K] };

interface FieldRule {
  readonly type: 'string' | 'number' | 'bool';
  /** What a valid value is, for both messages. */
  readonly rule?: string;
  readonly check?: (value: never) => boolean;
  /** The same check in HCL over `v`, an expression of the value (never null here). */
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

/** Every sizing field's rule; a new field of DatabaseSizing must be given one here (the type requires it). */
export const OVERRIDE_RULES: Readonly<Record<keyof DatabaseSizing, FieldRule>> = {
  instanceClass: oneOf('string', Object.keys(INSTANCE_CLASSES)),
  allocatedStorage: whole(20, 65536),
  maxAllocatedStorage: whole(20, 65536),
  storageType: oneOf('string', STORAGE_TYPES),
  iops: whole(1000, 256000),
  multiAz: bool,
  backupRetentionDays: whole(1, 35),
  replicaCount: whole(0, 5),
  monitoringIntervalSeconds: oneOf('number', [0, 1, 5, 10, 15, 30, 60]),
  performanceInsightsRetentionDays: {
    type: 'number',
    rule: PERFORMANCE_INSIGHTS_RETENTION_RULE,
    check: (value: number) => isValidPerformanceInsightsRetention(value),
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

const FIELDS = Object.keys(OVERRIDE_RULES) as (keyof DatabaseSizing)[];

/** The module input's Terraform type: an object of optional attributes, named as in `local.instance_configs`. */
export const OVERRIDES_HCL_TYPE = `object({ ${FIELDS.map(
  (field) => `${SIZING_ATTRIBUTES[field]} = optional(${OVERRIDE_RULES[field].type})`,
).join(', ')} })`;

/** One validation per checked field of `var.<variable>`, whose message names the field. */
export function overrideValidations(variable: string): { condition: string; errorMessage: string }[] {
  return FIELDS.filter((field) => OVERRIDE_RULES[field].hcl).map((field) => {
    const v = `var.${variable}.${SIZING_ATTRIBUTES[field]}`;
    return {
      condition: `${v} == null ? true : (${OVERRIDE_RULES[field].hcl?.(v)})`,
      errorMessage: `${variable}.${SIZING_ATTRIBUTES[field]} must be ${OVERRIDE_RULES[field].rule}.`,
    };
  });
}

/** Checks literal overrides field by field; the message names the field as the module does. */
export function validateOverrides(overrides: SizingOverrides, variable = 'instance_overrides'): void {
  for (const [field, value] of Object.entries(overrides) as [keyof DatabaseSizing, unknown][]) {
    const rule = OVERRIDE_RULES[field];
    if (rule === undefined) throw new Error(`${variable} has no field '${field}'`);
    if (value === undefined) continue;
    const name = `${variable}.${SIZING_ATTRIBUTES[field]}`;
    const expected = { string: 'string', number: 'number', bool: 'boolean' }[rule.type];
    if (typeof value !== expected) throw new Error(`${name} ${JSON.stringify(value)} must be a ${expected}`);
    if (rule.check && !rule.check(value as never)) {
      throw new Error(`${name} ${JSON.stringify(value)} must be ${rule.rule}`);
    }
  }
}

/** The overrides as the module's `instance_overrides` object (attributes named as in `local.instance_configs`). */
export function overridesObject(overrides: SizingOverrides): Record<string, unknown> {
  return Object.fromEntries(
    (Object.entries(overrides) as [keyof DatabaseSizing, unknown][])
      .filter(([, value]) => value !== undefined)
      .map(([field, value]) => [SIZING_ATTRIBUTES[field], value]),
  );
}

/** The row with the overrides applied; overriding storageType without iops drops the row's iops. */
export function applyOverrides(row: DatabaseSizing, overrides: SizingOverrides): DatabaseSizing {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const iops = overrides.storageType !== undefined && overrides.iops === undefined ? { iops: null } : {};
  return { ...row, ...defined, ...iops };
}
