import { Token } from 'cdktf';
import { DatabaseSizing, ENVIRONMENTS, UNKNOWN_ENVIRONMENT_MESSAGE } from '../config/environments';
import { isValidProjectName, PROJECT_NAME_RULE } from '../config/names';
import { INSTANCE_CLASSES, instanceClass } from '../config/instance-classes';
import { config } from './expressions';

const instanceClassList = () => Object.keys(INSTANCE_CLASSES).join(', ');

/**
 * Checks of the module's inputs, written twice on purpose: in TypeScript (so a stack with literal values fails at
 * synth, naming the bad value, before anything is written) and as HCL (so a Terraform caller gets the same rule
 * at plan). Each TypeScript check below has its HCL twin next to it; the tests run both.
 */

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;
/** RDS refuses backup and maintenance windows shorter than 30 minutes. */
export const MINIMUM_WINDOW_MINUTES = 30;

/** A window as [start, end) minutes; end > start (wrapping windows are unrolled past midnight / Sunday). */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/**
 * The two window formats RDS accepts, each written once in the regular-expression syntax JavaScript's RegExp and
 * Terraform's regex() (RE2) share; the maintenance pattern is matched against the lowercased value.
 */
const HCL_TIME = '([01][0-9]|2[0-3]):[0-5][0-9]';
const HCL_DAY = `(${DAYS.join('|')})`;
export const WINDOW_FORMATS = {
  backup: {
    input: 'backup_window',
    pattern: `^${HCL_TIME}-${HCL_TIME}$`,
    format: 'hh24:mi-hh24:mi in UTC',
    example: '03:00-04:00',
  },
  maintenance: {
    input: 'maintenance_window',
    pattern: `^${HCL_DAY}:${HCL_TIME}-${HCL_DAY}:${HCL_TIME}$`,
    format: 'ddd:hh24:mi-ddd:hh24:mi in UTC',
    example: 'Sun:04:00-Sun:05:00',
  },
} as const;
export type WindowKind = keyof typeof WINDOW_FORMATS;

/** Checks `value` against the window format of `kind`; throws a message naming the input and the value. */
function checkWindowFormat(kind: WindowKind, value: string): void {
  const { input, pattern, format, example } = WINDOW_FORMATS[kind];
  if (!new RegExp(pattern).test(value.toLowerCase())) {
    throw new Error(`${input} '${value}' is malformed: expected ${format}, e.g. ${example}`);
  }
}

function checkWindowLength(kind: WindowKind, value: string, window: Window): Window {
  const minutes = window.end - window.start;
  if (minutes < MINIMUM_WINDOW_MINUTES) {
    throw new Error(
      `${WINDOW_FORMATS[kind].input} '${value}' lasts ${minutes} minutes; RDS requires at least ${MINIMUM_WINDOW_MINUTES}`,
    );
  }
  return window;
}

/** Parses an RDS backup window `hh24:mi-hh24:mi` (UTC, daily). */
export function parseBackupWindow(value: string): Window {
  checkWindowFormat('backup', value);
  const [start, end] = value.split('-').map((time) => {
    const [hours, minutes] = time.split(':');
    return Number(hours) * 60 + Number(minutes);
  });
  return checkWindowLength('backup', value, { start, end: end <= start ? end + MINUTES_PER_DAY : end });
}

/** Parses an RDS maintenance window `ddd:hh24:mi-ddd:hh24:mi` (UTC, weekly). */
export function parseMaintenanceWindow(value: string): Window {
  checkWindowFormat('maintenance', value);
  const [start, end] = value
    .toLowerCase()
    .split('-')
    .map((time) => {
      const [day, hours, minutes] = time.split(':');
      return DAYS.indexOf(day as (typeof DAYS)[number]) * MINUTES_PER_DAY + Number(hours) * 60 + Number(minutes);
    });
  return checkWindowLength('maintenance', value, { start, end: end <= start ? end + MINUTES_PER_WEEK : end });
}

/** True when the daily backup window meets the weekly maintenance window on any day (RDS rejects that). */
export function windowsOverlap(backup: Window, maintenance: Window): boolean {
  // Day -1 and days 7-8 catch a backup window crossing midnight and a maintenance window crossing Sunday night.
  for (let day = -1; day <= 8; day++) {
    const start = day * MINUTES_PER_DAY + backup.start;
    const end = day * MINUTES_PER_DAY + backup.end;
    if (start < maintenance.end && maintenance.start < end) return true;
  }
  return false;
}

/** Throws when either window is malformed, too short, or when they overlap. Tokens are left to the HCL checks. */
export function validateWindows(backupWindow: string, maintenanceWindow: string): void {
  if (Token.isUnresolved(backupWindow) || Token.isUnresolved(maintenanceWindow)) return;
  const backup = parseBackupWindow(backupWindow);
  const maintenance = parseMaintenanceWindow(maintenanceWindow);
  if (windowsOverlap(backup, maintenance)) {
    throw new Error(
      `backup_window '${backupWindow}' overlaps maintenance_window '${maintenanceWindow}'; RDS requires them to be disjoint`,
    );
  }
}

export function validateProjectName(projectName: string): void {
  if (Token.isUnresolved(projectName)) return;
  if (!isValidProjectName(projectName)) {
    throw new Error(`project_name '${projectName}' must be ${PROJECT_NAME_RULE.description}`);
  }
}

export function validateEnvironment(environment: string): void {
  if (Token.isUnresolved(environment)) return;
  if (!(ENVIRONMENTS as readonly string[]).includes(environment)) {
    throw new Error(`${UNKNOWN_ENVIRONMENT_MESSAGE} Got '${environment}'.`);
  }
}

/** The DB subnet group needs subnets in at least two availability zones, so at least two subnets. */
export function validateSubnets(subnetIds: string[]): void {
  if (Token.isUnresolved(subnetIds)) return;
  const known = subnetIds.filter((id) => !Token.isUnresolved(id));
  if (known.length !== subnetIds.length) return;
  if (subnetIds.length < 2) {
    throw new Error(
      `private_subnet_ids [${subnetIds.join(', ')}] has ${subnetIds.length} subnet(s); the DB subnet group needs at least two, in different availability zones`,
    );
  }
  const duplicates = subnetIds.filter((id, i) => subnetIds.indexOf(id) !== i);
  if (duplicates.length > 0) {
    throw new Error(`private_subnet_ids lists ${duplicates.join(', ')} more than once`);
  }
}

/** io1 accepts 0.5 to 50 provisioned IOPS per GiB. */
export const IO1_IOPS_PER_GIB = { min: 0.5, max: 50 } as const;
export const IO1_RATIO_MESSAGE = `io1 storage needs ${IO1_IOPS_PER_GIB.min} to ${IO1_IOPS_PER_GIB.max} provisioned IOPS per GiB of allocated storage.`;

/** Performance Insights keeps 7 days (free tier), a whole number of 31-day months up to 23, or 731 days. */
export const PERFORMANCE_INSIGHTS_RETENTION = { free: 7, longest: 731, month: 31, longestInMonths: 713 } as const;
const PI = PERFORMANCE_INSIGHTS_RETENTION;
export const PERFORMANCE_INSIGHTS_RETENTION_RULE =
  `${PI.free}, ${PI.longest}, or a multiple of ` + `${PI.month} days up to ${PI.longestInMonths}`;

/** Database Insights' advanced mode needs Performance Insights kept at least 15 months. */
export const ADVANCED_INSIGHTS_MINIMUM_RETENTION_DAYS = 465;
export const ADVANCED_INSIGHTS_MESSAGE = `database_insights_mode "advanced" needs Performance Insights retention of at least ${ADVANCED_INSIGHTS_MINIMUM_RETENTION_DAYS} days.`;

export function isValidPerformanceInsightsRetention(days: number): boolean {
  return (
    days === PI.free ||
    days === PI.longest ||
    (Number.isInteger(days) && days % PI.month === 0 && days >= PI.month && days <= PI.longestInMonths)
  );
}

/** Validates one environment's sizing; the message names the environment and the bad value. */
export function validateSizing(environment: string, sizing: DatabaseSizing, context = ''): void {
  const where = `environment '${environment}'${context}`;
  if (!instanceClass(sizing.instanceClass)) {
    throw new Error(`${where}: instanceClass '${sizing.instanceClass}' is not one of ${instanceClassList()}`);
  }
  if (!Number.isInteger(sizing.allocatedStorage) || sizing.allocatedStorage < 20) {
    throw new Error(
      `${where}: allocatedStorage ${sizing.allocatedStorage} GiB is below the RDS PostgreSQL minimum of 20`,
    );
  }
  if (sizing.maxAllocatedStorage < sizing.allocatedStorage) {
    throw new Error(
      `${where}: maxAllocatedStorage ${sizing.maxAllocatedStorage} GiB is below allocatedStorage ${sizing.allocatedStorage} GiB`,
    );
  }
  if (sizing.storageType === 'io1') {
    if (sizing.iops === null) throw new Error(`${where}: io1 storage needs iops`);
    const ratio = sizing.iops / sizing.allocatedStorage;
    if (ratio < IO1_IOPS_PER_GIB.min || ratio > IO1_IOPS_PER_GIB.max) {
      throw new Error(
        `${where}: io1 iops ${sizing.iops} for ${sizing.allocatedStorage} GiB is ${ratio} IOPS/GiB; RDS accepts ${IO1_IOPS_PER_GIB.min} to ${IO1_IOPS_PER_GIB.max}`,
      );
    }
  } else if (sizing.iops !== null) {
    // gp3 below 400 GiB has a fixed 3000 IOPS baseline; setting iops there is rejected, so the table keeps it null.
    throw new Error(
      `${where}: iops ${sizing.iops} is only managed for io1 here; leave it null for ${sizing.storageType}`,
    );
  }
  if (
    sizing.performanceInsightsRetentionDays !== null &&
    !isValidPerformanceInsightsRetention(sizing.performanceInsightsRetentionDays)
  ) {
    throw new Error(
      `${where}: Performance Insights retention ${sizing.performanceInsightsRetentionDays} days is invalid; use ${PERFORMANCE_INSIGHTS_RETENTION_RULE}`,
    );
  }
  if (
    sizing.databaseInsightsMode === 'advanced' &&
    (sizing.performanceInsightsRetentionDays ?? 0) < ADVANCED_INSIGHTS_MINIMUM_RETENTION_DAYS
  ) {
    throw new Error(
      `${where}: ${ADVANCED_INSIGHTS_MESSAGE.replace(/\.$/, '')}, not ${sizing.performanceInsightsRetentionDays ?? 'off'}`,
    );
  }
  if (!Number.isInteger(sizing.replicaCount) || sizing.replicaCount < 0 || sizing.replicaCount > 5) {
    throw new Error(`${where}: replicaCount ${sizing.replicaCount} must be a whole number from 0 to 5`);
  }
  if (sizing.backupRetentionDays < 1 || sizing.backupRetentionDays > 35) {
    // 0 would disable backups, and read replicas need them.
    throw new Error(`${where}: backupRetentionDays ${sizing.backupRetentionDays} must be from 1 to 35`);
  }
}

/* ----------------------------------------------------------------------------------------------------------------
 * HCL twins. Each returns an expression (without ${}) over the module's variables and locals.
 * -------------------------------------------------------------------------------------------------------------- */

export const hclChecks = {
  instanceClass: `contains(keys(local.instance_classes), ${config('instanceClass')})`,
  environment: `contains([${ENVIRONMENTS.map((e) => JSON.stringify(e)).join(', ')}], var.environment)`,
  subnetCount:
    'length(var.private_subnet_ids) >= 2 && length(distinct(var.private_subnet_ids)) == length(var.private_subnet_ids)',
  backupWindowFormat: `can(regex("${WINDOW_FORMATS.backup.pattern}", var.backup_window))`,
  maintenanceWindowFormat: `can(regex("${WINDOW_FORMATS.maintenance.pattern}", lower(var.maintenance_window)))`,
  /** Locals computing both windows as unrolled [start, end) minutes. */
  windowLocals: {
    backup_window_minutes:
      `[for t in split("-", local.backup_window) : tonumber(split(":", t)[0]) * 60 + tonumber(split(":", ` + `t)[1])]`,
    maintenance_window_minutes: `[for t in split("-", lower(local.maintenance_window)) : index(${JSON.stringify(DAYS)}, split(":", t)[0]) * ${MINUTES_PER_DAY} + tonumber(split(":", t)[1]) * 60 + tonumber(split(":", t)[2])]`,
    backup_window_span: `{ start = local.backup_window_minutes[0], end = local.backup_window_minutes[1] > local.backup_window_minutes[0] ? local.backup_window_minutes[1] : local.backup_window_minutes[1] + ${MINUTES_PER_DAY} }`,
    maintenance_window_span: `{ start = local.maintenance_window_minutes[0], end = local.maintenance_window_minutes[1] > local.maintenance_window_minutes[0] ? local.maintenance_window_minutes[1] : local.maintenance_window_minutes[1] + ${MINUTES_PER_WEEK} }`,
  },
  windowDurations: `local.backup_window_span.end - local.backup_window_span.start >= ${MINIMUM_WINDOW_MINUTES} && local.maintenance_window_span.end - local.maintenance_window_span.start >= ${MINIMUM_WINDOW_MINUTES}`,
  windowsDisjoint: `!anytrue([for day in range(-1, 9) : day * ${MINUTES_PER_DAY} + local.backup_window_span.start < local.maintenance_window_span.end && local.maintenance_window_span.start < day * ${MINUTES_PER_DAY} + local.backup_window_span.end])`,
  io1Ratio:
    // HCL's || does not short-circuit, so the null cases are conditionals.
    `${config('storageType')} != "io1" ? true : ${config('iops')} == null ? false : (${config('iops')} / ${config('allocatedStorage')} >= ${IO1_IOPS_PER_GIB.min} && ${config('iops')} / ${config('allocatedStorage')} <= ${IO1_IOPS_PER_GIB.max})`,
  iopsOnlyForIo1: `${config('storageType')} == "io1" ? true : ${config('iops')} == null`,
  storageCeiling: `${config('maxAllocatedStorage')} >= ${config('allocatedStorage')}`,
  performanceInsightsRetention: `${config('performanceInsightsRetentionDays')} == null ? true : contains([${PI.free}, ${PI.longest}], ${config('performanceInsightsRetentionDays')}) || (${config('performanceInsightsRetentionDays')} % ${PI.month} == 0 && ${config('performanceInsightsRetentionDays')} >= ${PI.month} && ${config('performanceInsightsRetentionDays')} <= ${PI.longestInMonths})`,
  // Conditionals, not ||: HCL evaluates both sides and the retention may be null.
  advancedInsightsRetention: `${config('databaseInsightsMode')} != "advanced" ? true : ${config('performanceInsightsRetentionDays')} == null ? false : ${config('performanceInsightsRetentionDays')} >= ${ADVANCED_INSIGHTS_MINIMUM_RETENTION_DAYS}`,
};
