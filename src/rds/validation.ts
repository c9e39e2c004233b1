import { Token } from 'cdktf';
import { ENVIRONMENTS, UNKNOWN_ENVIRONMENT_MESSAGE } from '../config/environments';
import { isValidProjectName, PROJECT_NAME_RULE } from '../config/names';

/**
 * Checks of the module's inputs other than the sizing (rules.ts): names, subnets and windows, in TypeScript (so a
 * stack with literal values fails at synth, naming the bad value) and as HCL (so a Terraform caller gets the same
 * rule at plan).
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

/* ----------------------------------------------------------------------------------------------------------------
 * HCL twins. Each returns an expression (without ${}) over the module's variables and locals.
 * -------------------------------------------------------------------------------------------------------------- */

export const hclChecks = {
  environment: `contains([${ENVIRONMENTS.map((e) => JSON.stringify(e)).join(', ')}], var.environment)`,
  subnetCount:
    'length(var.private_subnet_ids) >= 2 && length(distinct(var.private_subnet_ids)) == length(var.private_subnet_ids)',
  backupWindowFormat: `can(regex("${WINDOW_FORMATS.backup.pattern}", var.backup_window))`,
  maintenanceWindowFormat: `can(regex("${WINDOW_FORMATS.maintenance.pattern}", lower(var.maintenance_window)))`,
  /** Locals computing both windows as unrolled [start, end) minutes. */
  windowLocals: {
    backup_window_minutes: `[for t in split("-", local.backup_window) : tonumber(split(":", t)[0]) * 60 + tonumber(split(":", t)[1])]`,
    maintenance_window_minutes: `[for t in split("-", lower(local.maintenance_window)) : index(${JSON.stringify(DAYS)}, split(":", t)[0]) * ${MINUTES_PER_DAY} + tonumber(split(":", t)[1]) * 60 + tonumber(split(":", t)[2])]`,
    backup_window_span: `{ start = local.backup_window_minutes[0], end = local.backup_window_minutes[1] > local.backup_window_minutes[0] ? local.backup_window_minutes[1] : local.backup_window_minutes[1] + ${MINUTES_PER_DAY} }`,
    maintenance_window_span: `{ start = local.maintenance_window_minutes[0], end = local.maintenance_window_minutes[1] > local.maintenance_window_minutes[0] ? local.maintenance_window_minutes[1] : local.maintenance_window_minutes[1] + ${MINUTES_PER_WEEK} }`,
  },
  windowDurations: `local.backup_window_span.end - local.backup_window_span.start >= ${MINIMUM_WINDOW_MINUTES} && local.maintenance_window_span.end - local.maintenance_window_span.start >= ${MINIMUM_WINDOW_MINUTES}`,
  windowsDisjoint: `!anytrue([for day in range(-1, 9) : day * ${MINUTES_PER_DAY} + local.backup_window_span.start < local.maintenance_window_span.end && local.maintenance_window_span.start < day * ${MINUTES_PER_DAY} + local.backup_window_span.end])`,
};
