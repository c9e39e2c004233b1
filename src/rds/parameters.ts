import { Construct } from 'constructs';
import { DEFAULT_ENGINE_MAJOR_VERSION } from './rules';
import { TerraformIterator, TerraformLocal } from 'cdktf';
import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group';
import { config } from './expressions';
import { DATABASE_NAME } from '../config/environments';
import { address, NAME_PREFIX, nameTags, prefixed } from './naming';

/**
 * PostgreSQL 15 parameters that take effect only at server start. RDS rejects a parameter group that applies one
 * of them `immediate`, so they always carry `pending-reboot`: the module's own, and any a caller adds.
 */
export const STATIC_PARAMETERS = [
  'autovacuum_freeze_max_age',
  'autovacuum_max_workers',
  'autovacuum_multixact_freeze_max_age',
  'cron.database_name',
  'huge_pages',
  'max_connections',
  'max_locks_per_transaction',
  'max_logical_replication_workers',
  'max_pred_locks_per_transaction',
  'max_prepared_transactions',
  'max_replication_slots',
  'max_wal_senders',
  'max_worker_processes',
  'rds.logical_replication',
  // RDS documents it as taking effect at the next reboot.
  'rds.restrict_password_commands',
  'shared_buffers',
  'shared_preload_libraries',
  'track_activity_query_size',
  'track_commit_timestamp',
  'wal_buffers',
] as const;

export const APPLY_METHODS = ['immediate', 'pending-reboot'] as const;
export type ApplyMethod = (typeof APPLY_METHODS)[number];

/** One entry of the parameter group; `applyMethod` defaults to `pending-reboot` for static parameters. */
export interface DatabaseParameter {
  readonly name: string;
  /** The value as RDS takes it; a `${...}` template is evaluated at plan (max_connections reads the table). */
  readonly value: string;
  readonly applyMethod?: ApplyMethod;
}

/** Checks literal caller parameters; the message names the entry. */
export function validateParameters(parameters: readonly DatabaseParameter[]): void {
  const names = parameters.map((p) => p.name);
  for (const p of parameters) {
    if (!/^[a-z_.]+$/.test(p.name)) throw new Error(`parameters: '${p.name}' is not a PostgreSQL parameter name`);
    if (names.indexOf(p.name) !== names.lastIndexOf(p.name)) throw new Error(`parameters: '${p.name}' is set twice`);
    if (p.applyMethod !== undefined && !APPLY_METHODS.includes(p.applyMethod)) {
      throw new Error(`parameters: '${p.name}' apply_method '${p.applyMethod}' must be ${APPLY_METHODS.join(' or ')}`);
    }
    if (p.applyMethod === 'immediate' && applyMethodOf(p.name) === 'pending-reboot') {
      throw new Error(`parameters: '${p.name}' is static and applies only at a reboot: use pending-reboot`);
    }
  }
}

/** The same checks as validations of the module's `parameters` variable. */
export const PARAMETER_VALIDATIONS = [
  {
    condition: 'alltrue([for p in var.parameters : can(regex("^[a-z_.]+$", p.name))])',
    errorMessage: 'parameters: every name must be a PostgreSQL parameter name (lowercase letters, _ and .).',
  },
  {
    condition: 'length(distinct(var.parameters[*].name)) == length(var.parameters)',
    errorMessage: 'parameters: each parameter may be set once.',
  },
  {
    condition: `alltrue([for p in var.parameters : p.apply_method == null ? true : contains(${JSON.stringify(APPLY_METHODS)}, p.apply_method)])`,
    errorMessage: `parameters: apply_method must be ${APPLY_METHODS.join(' or ')}.`,
  },
  {
    condition: `alltrue([for p in var.parameters : p.apply_method == null ? true : !(p.apply_method == "immediate" && contains(${JSON.stringify(STATIC_PARAMETERS)}, p.name))])`,
    errorMessage: `parameters: static parameters (${STATIC_PARAMETERS.join(', ')}) apply only with pending-reboot.`,
  },
];

/** `pending-reboot` for static parameters, else `immediate` (RDS's default). */
export const applyMethodOf = (name: string): ApplyMethod =>
  (STATIC_PARAMETERS as readonly string[]).includes(name) ? 'pending-reboot' : 'immediate';

/**
 * What reaches the exported PostgreSQL log, which is kept in CloudWatch Logs: no statement text and no bind value,
 * since either can hold a password (AWS's rotation function sends ALTER USER ... PASSWORD with a literal) or a
 * tenant's personal data. Statements are audited by pgaudit instead, with passwords redacted.
 * - log_statement 'none': 'mod' logged every write with its values, and 'ddl' would log ALTER ROLE ... PASSWORD.
 * - log_min_duration_statement and auto_explain off (-1): a slow statement is logged with its text, literals
 *   included, and auto_explain's plans carry bind values as constants. Slow queries are found with
 *   pg_stat_statements (normalized text) and Performance Insights; auto_explain stays loaded for a deliberate,
 *   per-session diagnosis.
 * - bind parameters never logged (log_parameter_max_length*, 0), failed statements logged without their text
 *   (log_min_error_statement 'panic') and errors without DETAIL lines, which quote key values (terse).
 */
export const LOGGING_PARAMETERS: readonly DatabaseParameter[] = [
  { name: 'log_statement', value: 'none' },
  { name: 'log_min_duration_statement', value: '-1' },
  { name: 'auto_explain.log_min_duration', value: '-1' },
  { name: 'log_parameter_max_length', value: '0' },
  { name: 'log_parameter_max_length_on_error', value: '0' },
  { name: 'log_min_error_statement', value: 'panic' },
  { name: 'log_error_verbosity', value: 'terse' },
];

/**
 * pgaudit (loaded by shared_preload_libraries; the migrations create the extension and rds_pgaudit): DDL and role
 * changes as session audit lines, passwords redacted by pgaudit, and through rds_pgaudit's grants every write to the
 * authorization tables as object audit lines. Parameters are never logged.
 */
export const AUDIT_PARAMETERS: readonly DatabaseParameter[] = [
  { name: 'pgaudit.log', value: 'ddl,role' },
  { name: 'pgaudit.role', value: 'rds_pgaudit' },
  { name: 'pgaudit.log_parameter', value: '0' },
];

/**
 * Limits one session cannot lift for the others.
 * - rds.restrict_password_commands (static on RDS: it needs a reboot): only members of rds_password (the master user
 *   through rds_superuser) may set passwords, so a login cannot change its own.
 * - idle_in_transaction_session_timeout 60 s: the services' transactions last milliseconds; a session left open in a
 *   transaction holds its locks and blocks vacuum of every tenant's rows until it is ended.
 * - lock_timeout 5 s: a statement queued behind a held lock fails after 5 s instead of waiting, so one stuck lock
 *   cannot pile up every connection of the pool behind it; legitimate row-lock waits last milliseconds.
 * A session can lower or lift the two timeouts for itself (they are user settings), so on their own they bound
 * accidents, not a login running hostile SQL: the login watchdog (sql/0013, run by pg_cron) reads the same two
 * values and ends a login's backend that others wait on for longer than lock_timeout, or that sits idle in a
 * transaction for longer than idle_in_transaction_session_timeout, whatever the login set for itself.
 * - temp_file_limit {AllocatedStorage/10240} kB = 10% of the allocated storage per backend: a superuser setting,
 *   which no login can raise, so one session cannot fill the volume with temporary files and stop every tenant
 *   (ten at once still could: the limit is per backend).
 *   work_mem and hash_mem_multiplier are user settings on PostgreSQL 15 with no ceiling a parameter can impose;
 *   the watchdog removes the values a login stores for itself (ALTER ROLE ... SET), and a session's own SET lasts
 *   only as long as the session.
 */
export const SESSION_LIMIT_PARAMETERS: readonly DatabaseParameter[] = [
  { name: 'rds.restrict_password_commands', value: '1' },
  { name: 'idle_in_transaction_session_timeout', value: '60000' },
  { name: 'lock_timeout', value: '5000' },
  { name: 'temp_file_limit', value: '{AllocatedStorage/10240}' },
];

/**
 * pg_cron runs the login watchdog (sql/repeatable/login_watchdog.sql schedules it). Its extension can exist in one
 * database only, the one cron.database_name names: the module's.
 */
export const SCHEDULER_PARAMETERS: readonly DatabaseParameter[] = [
  { name: 'cron.database_name', value: DATABASE_NAME },
];

/**
 * PostgreSQL settings, as RDS accepts them.
 *
 * - Memory settings are integers in the engine's units (8 kB pages for shared_buffers, effective_cache_size and
 *   wal_buffers; kB for maintenance_work_mem), sized from the instance's memory with RDS formulas rather than
 *   fixed strings such as "256MB": one group stays right when an environment changes instance class.
 *     shared_buffers        {DBInstanceClassMemory/32768}    = 25% of memory (RDS's own default)
 *     effective_cache_size  {DBInstanceClassMemory*3/32768}  = 75% of memory (the OS cache the planner may count on)
 *     maintenance_work_mem  GREATEST({DBInstanceClassMemory/63963136*1024},65536) = RDS's default, at least 64 MiB
 *     wal_buffers           2048 pages                       = 16 MiB
 * - max_connections comes from the environment's sizing row (`tostring`: every value is a string).
 */
export const DATABASE_PARAMETERS: readonly DatabaseParameter[] = [
  { name: 'shared_preload_libraries', value: 'pg_stat_statements,auto_explain,pgaudit,pg_cron' },
  { name: 'max_connections', value: `\${tostring(${config('maxConnections')})}` },
  { name: 'shared_buffers', value: '{DBInstanceClassMemory/32768}' },
  { name: 'wal_buffers', value: '2048' },
  { name: 'effective_cache_size', value: '{DBInstanceClassMemory*3/32768}' },
  { name: 'maintenance_work_mem', value: 'GREATEST({DBInstanceClassMemory/63963136*1024},65536)' },
  { name: 'checkpoint_completion_target', value: '0.9' },
  { name: 'default_statistics_target', value: '100' },
  ...LOGGING_PARAMETERS,
  ...AUDIT_PARAMETERS,
  ...SESSION_LIMIT_PARAMETERS,
  ...SCHEDULER_PARAMETERS,
  // "on" is PostgreSQL's default; pinned so nobody turns policies into errors by accident.
  { name: 'row_security', value: 'on' },
  // Credentials cross the network only over TLS.
  { name: 'rds.force_ssl', value: '1' },
];

/**
 * The module's parameters as the map the group iterates, name => { value, apply_method }: one entry a line in the
 * emitted module, so changing a parameter is a one-line diff. An engine's `overrides` replace a value, or drop a
 * parameter the engine does not have (null).
 */
export function moduleParametersLocal(
  overrides: Readonly<Record<string, string | null>> = {},
): Record<string, { value: string; apply_method: ApplyMethod }> {
  return Object.fromEntries(
    DATABASE_PARAMETERS.filter((p) => overrides[p.name] !== null).map((p) => [
      p.name,
      { value: overrides[p.name] ?? p.value, apply_method: p.applyMethod ?? applyMethodOf(p.name) },
    ]),
  );
}

/**
 * The parameters the group applies: the module's, each replaced by a caller entry of the same name, then the
 * caller's others; a caller entry without apply method gets its parameter's (static parameters `pending-reboot`).
 */
export function parametersExpression(moduleParameters: string, callerParameters: string, staticParameters: string) {
  return `merge(${moduleParameters}, { for p in ${callerParameters} : p.name => { value = p.value, apply_method = p.apply_method != null ? p.apply_method : (contains(${staticParameters}, p.name) ? "pending-reboot" : "immediate") } })`;
}

export interface DatabaseParametersProps {
  /** The parameter group family (`postgres15`): the engine's. */
  readonly family: string;
  /** HCL expression of the engine's major version, which names the group. */
  readonly majorVersion: string;
  /** The parameters with their apply methods, name => { value, apply_method } (see parametersExpression). */
  readonly parameters: TerraformLocal;
}

export class DatabaseParameters extends Construct {
  public readonly group: DbParameterGroup;

  constructor(scope: Construct, id: string, props: DatabaseParametersProps) {
    super(scope, id);
    const each = TerraformIterator.fromMap(props.parameters.asAnyMap);
    this.group = address(
      new DbParameterGroup(this, 'group', {
        family: props.family,
        // A group per major version, made before the old one is deleted: a major upgrade moves the instances to the
        // new family's group in the same change, and the old group is deleted only once nothing uses it. The
        // default version keeps the name the group always had, so existing state plans no change.
        name: prefixed(
          `pg\${${props.majorVersion} == "${DEFAULT_ENGINE_MAJOR_VERSION}" ? "" : ${props.majorVersion}}-params`,
        ),
        lifecycle: { createBeforeDestroy: true },
        description: `AccessWeaver PostgreSQL settings for ${NAME_PREFIX}`,
        parameter: each.dynamic({
          name: each.key,
          value: each.getString('value'),
          apply_method: each.getString('apply_method'),
        }),
        tags: nameTags('pg-params'),
      }),
      'main',
    );
  }
}
