import { DescribeAlarmsCommand, GetMetricStatisticsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { Option, type Command } from 'commander';
import type { Client } from 'pg';
import { ALARM_PERIOD_SECONDS, CPU_ALARM } from '../config/alarms';
import { awsCall, awsError } from './aws';
import type { GlobalOptions, Runner } from './command';
import {
  chosenLogin,
  LOGINS,
  MASTER_SECRET_HELP,
  resolveCaBundle,
  resolveConnection,
  withDatabase,
  type LoginOptions,
} from './connection';
import type { CliDeps } from './context';
import { openDatabase } from './database';
import type { DatabaseState, DeployedDatabase } from './engine';
import { CliError, ExitCode, type ExitCodeValue } from './exit-codes';
import { describeLoginSetting, isExpectedLoginSetting, loginSettings } from './login-settings';
import { renderRecord, renderTable, type Reporter } from './output';
import { resolveTarget, type Target } from './target';
import { keyAgeCheck } from './tenant-context-key';

export interface HealthCheckOptions extends LoginOptions {
  readonly connect: boolean;
  readonly databaseUrl?: string;
  readonly caBundle?: string;
}

export interface CheckResult {
  readonly check: string;
  readonly status: 'ok' | 'fail' | 'skipped';
  readonly detail: string;
}

function summary(state: DatabaseState) {
  return {
    identifier: state.identifier,
    status: state.status,
    engine: `${state.engine} ${state.engineVersion ?? ''}`.trim(),
    instanceClass: state.writerClass ?? null,
    multiAz: state.multiAz ?? null,
    endpoint: state.writer === undefined ? null : `${state.writer.host}:${state.writer.port}`,
    storageGiB: state.storageGiB ?? null,
    replicas: state.readers,
  };
}

function stateChecks(db: DeployedDatabase, state: DatabaseState): CheckResult[] {
  const groups = state.securityGroups;
  const inactive = groups.filter((g) => g.status !== 'active');
  return [
    { check: `${db.noun} status`, status: state.status === 'available' ? 'ok' : 'fail', detail: state.status },
    {
      check: 'security groups',
      status: groups.length > 0 && inactive.length === 0 ? 'ok' : 'fail',
      detail: groups.length === 0 ? 'none attached' : groups.map((g) => `${g.id} ${g.status}`).join(', '),
    },
  ];
}

function renderHealth(identifier: string, state: DatabaseState, checks: CheckResult[], healthy: boolean): string {
  const s = summary(state);
  const record = renderRecord([
    ['Status', s.status],
    ['Engine', s.engine],
    ['Class', s.instanceClass],
    ['Multi-AZ', s.multiAz],
    ['Endpoint', s.endpoint],
    ['Storage (GiB)', s.storageGiB],
    ['Replicas', s.replicas.join(', ') || 'none'],
  ]);
  const table = renderTable(
    [
      { header: 'CHECK', value: (c: CheckResult) => c.check },
      { header: 'RESULT', value: (c: CheckResult) => c.status },
      { header: 'DETAIL', value: (c: CheckResult) => c.detail },
    ],
    checks,
  );
  const verdict = healthy ? 'Healthy.' : 'Unhealthy: see the failed checks above.';
  return `RDS health check for ${identifier}\n\n${record}\n${table}\n${verdict}\n`;
}

async function healthCheck(
  options: HealthCheckOptions & GlobalOptions,
  deps: CliDeps,
  reporter: Reporter,
): Promise<ExitCodeValue> {
  const target = resolveTarget(options);
  // The connection test's CA bundle is the operator's input: checked before any AWS call (runbook, TLS).
  const url = options.databaseUrl ?? deps.env.DATABASE_URL;
  if (options.connect && (url === undefined || url === '')) resolveCaBundle(options.caBundle, deps.env);
  const db = openDatabase(target, options.region, deps);
  const state = await db.describe();
  const checks = stateChecks(db, state);
  checks.push(await cpuCheck(deps.aws(options.region).cloudwatch, db, target, deps.clock.now()));
  checks.push(await keyAgeCheck(deps.aws(options.region).secrets, target.tenantContextKeySecretName, deps.clock.now()));
  if (!options.connect) {
    checks.push({ check: 'connection', status: 'skipped', detail: '--no-connect' });
  } else {
    checks.push(...(await connectionCheck(options, deps)));
  }
  const healthy = checks.every((c) => c.status !== 'fail');
  reporter.result({ target: db.identifier, instance: summary(state), checks, healthy }, () =>
    renderHealth(db.identifier, state, checks, healthy),
  );
  return healthy ? ExitCode.Ok : ExitCode.Failed;
}

/**
 * The health check, as checks with a verdict: instance status, security groups, CPU over the last hour against
 * the deployed CPU alarm, the tenant-context key's age against KEY_MAX_AGE_DAYS, and a connection test (as the IAM
 * operator login by default; `--login app` tests the auth service's login); once connected, the settings the
 * logins stored for themselves, whether pg_cron runs the login watchdog, and what the watchdog would end now. Exit
 * 0 when every check passes, 1 when one fails, 4 when the instance does not exist.
 */
export function registerHealthCheck(program: Command, deps: CliDeps, run: Runner): void {
  program
    .command('health-check')
    .description(
      'instance status, security groups, CPU over the last hour, the tenant-context key age, and a connection test ' +
        '(IAM operator login by default)',
    )
    .option('--database-url <url>', 'connection test against this URL instead of the app secret (also DATABASE_URL)')
    .option('--ca-bundle <file>', 'RDS CA bundle for TLS verification (also PGSSLROOTCERT)')
    .option('--no-connect', 'skip the connection test (e.g. when outside the VPC)')
    .addOption(
      new Option('--login <login>', 'connection test as: operator (IAM token), app or readonly (their secrets)')
        .choices(LOGINS)
        .default('operator'),
    )
    .option('--master-secret', MASTER_SECRET_HELP)
    .action(run<HealthCheckOptions>((options, reporter) => healthCheck(options, deps, reporter)));
}

/** The condition the CPU alarm fires on: above `threshold` for `evaluationPeriods` periods. */
interface CpuCondition {
  readonly threshold: number;
  readonly evaluationPeriods: number;
  /** Where the condition comes from, when not the deployed alarm: said in the check's detail. */
  readonly note?: string;
}

/**
 * The deployed alarm's condition, which honours the module caller's instance_overrides; the environment table's
 * value only when the alarm cannot be read, and then the check says so.
 */
async function deployedCpuCondition(cloudwatch: CloudWatchClient, target: Target): Promise<CpuCondition> {
  const fromTable = (why: string): CpuCondition => ({
    threshold: target.config.database.cpuAlarmThreshold,
    evaluationPeriods: CPU_ALARM.evaluationPeriods,
    note: `${why}; judged against the environment table's ${target.config.database.cpuAlarmThreshold}%`,
  });
  let alarms;
  try {
    const output = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [target.cpuAlarmName] }));
    alarms = output.MetricAlarms ?? [];
  } catch (error) {
    // AWS answered with a refusal (e.g. no cloudwatch:DescribeAlarms): the check goes on, saying on what basis.
    if ((error as { $metadata?: unknown }).$metadata === undefined) throw awsError(error, 'DescribeAlarms');
    return fromTable(awsError(error, `DescribeAlarms ${target.cpuAlarmName}`).message);
  }
  const alarm = alarms[0];
  if (alarm?.Threshold === undefined) return fromTable(`alarm ${target.cpuAlarmName} not found`);
  return { threshold: alarm.Threshold, evaluationPeriods: alarm.EvaluationPeriods ?? CPU_ALARM.evaluationPeriods };
}

/**
 * CPU over the last hour, judged the way the deployed alarm judges it, so the health check and the
 * alarm agree; the hour's average and peak are reported alongside.
 */
async function cpuCheck(
  cloudwatch: CloudWatchClient,
  db: DeployedDatabase,
  target: Target,
  end: Date,
): Promise<CheckResult> {
  const { threshold, evaluationPeriods, note } = await deployedCpuCondition(cloudwatch, target);
  const metrics = await awsCall(`GetMetricStatistics ${CPU_ALARM.metric}`, () =>
    cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/RDS',
        MetricName: CPU_ALARM.metric,
        Dimensions: db.writerDimensions(),
        StartTime: new Date(end.getTime() - 3_600_000),
        EndTime: end,
        Period: ALARM_PERIOD_SECONDS,
        Statistics: ['Average', 'Maximum'],
      }),
    ),
  );
  // CloudWatch returns datapoints in no particular order: newest first, explicitly.
  const points = (metrics.Datapoints ?? [])
    .filter((p) => p.Average !== undefined && p.Timestamp !== undefined)
    .sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0));
  if (points.length === 0) return { check: 'cpu (last hour)', status: 'skipped', detail: 'no datapoints' };
  const averages = points.map((p) => p.Average ?? 0);
  const hourAverage = averages.reduce((a, b) => a + b, 0) / averages.length;
  const hourMaximum = Math.max(...points.map((p) => p.Maximum ?? p.Average ?? 0));
  const alarming =
    averages.length >= evaluationPeriods && averages.slice(0, evaluationPeriods).every((a) => a > threshold);
  return {
    check: 'cpu (last hour)',
    status: alarming ? 'fail' : 'ok',
    detail:
      `latest 5-min average ${averages[0].toFixed(2)}%, hour average ${hourAverage.toFixed(2)}%, hour maximum ` +
      `${hourMaximum.toFixed(2)}% ` +
      `(alarm: average above ${threshold}% for ${(evaluationPeriods * ALARM_PERIOD_SECONDS) / 60} min)` +
      (note === undefined ? '' : `; ${note}`),
  };
}

/** Connects as the chosen login; once connected, also judges the per-role settings stored for the logins. */
async function connectionCheck(options: HealthCheckOptions & GlobalOptions, deps: CliDeps): Promise<CheckResult[]> {
  try {
    const connection = await resolveConnection(options, chosenLogin(options), deps);
    return await withDatabase(connection, async (client) => {
      const { rows } = await client.query<{ database: string; version: string }>(
        'SELECT current_database() AS database, version() AS version',
      );
      const connected: CheckResult = {
        check: 'connection',
        status: 'ok',
        detail: `${connection.display}: ${rows[0].version.split(',')[0]}`,
      };
      return [connected, await loginSettingsCheck(client, rows[0].database), ...(await loginWatchdogChecks(client))];
    });
  } catch (error) {
    // A missing CA bundle is the operator's input to fix, not a finding about the database.
    if (error instanceof CliError && error.exitCode === ExitCode.Usage) throw error;
    return [{ check: 'connection', status: 'fail', detail: (error as Error).message }];
  }
}

async function loginSettingsCheck(client: Client, database: string): Promise<CheckResult> {
  const unexpected = (await loginSettings(client)).filter((setting) => !isExpectedLoginSetting(setting, database));
  return {
    check: 'login settings',
    status: unexpected.length === 0 ? 'ok' : 'fail',
    detail:
      unexpected.length === 0
        ? 'only the settings the migrations make'
        : `unexpected per-role settings: ${unexpected.map(describeLoginSetting).join('; ')}`,
  };
}

// No such function (42883) or schema (3F000): the migrations that install the login watchdog have not run here.
const NOT_MIGRATED = ['42883', '3F000'];

/**
 * The login watchdog (sql/0013): whether pg_cron runs it here and how its last run went, and what it would end or
 * reset now (a login others wait on beyond lock_timeout, one idle in a transaction beyond
 * idle_in_transaction_session_timeout, a memory or time limit a login stored for itself).
 */
async function loginWatchdogChecks(client: Client): Promise<CheckResult[]> {
  try {
    const schedule = await client.query<{ schedule: string; active: boolean; last_status: string | null }>(
      'SELECT schedule, active, last_status FROM accessweaver.login_watchdog_schedule()',
    );
    const findings = await client.query<{ login: string; finding: string; seconds: number | null; detail: string }>(
      'SELECT pid, login, finding, seconds, detail FROM accessweaver.login_limit_findings() ORDER BY login, pid',
    );
    return [watchdogScheduleCheck(schedule.rows), loginLimitsCheck(findings.rows)];
  } catch (error) {
    if (!NOT_MIGRATED.includes((error as { code?: string }).code ?? '')) throw error;
    const detail = 'the database has not been migrated to a version with the login watchdog';
    return [
      { check: 'login watchdog', status: 'skipped', detail },
      { check: 'login limits', status: 'skipped', detail },
    ];
  }
}

function watchdogScheduleCheck(rows: { schedule: string; active: boolean; last_status: string | null }[]): CheckResult {
  const job = rows[0];
  if (job === undefined) {
    return {
      check: 'login watchdog',
      status: 'fail',
      detail:
        'not scheduled: the parameter group must preload pg_cron and name this database in cron.database_name ' +
        '(then reboot and migrate); until then a login can hold locks as long as it likes',
    };
  }
  const lastRun = job.last_status === null ? 'no run yet' : `last run ${job.last_status}`;
  return {
    check: 'login watchdog',
    status: job.active && job.last_status !== 'failed' ? 'ok' : 'fail',
    detail: `pg_cron schedule '${job.schedule}', ${job.active ? 'active' : 'inactive'}, ${lastRun}`,
  };
}

function loginLimitsCheck(rows: { login: string; finding: string; seconds: number | null; detail: string }[]) {
  const described = rows.map(
    (row) => `${row.login}: ${row.finding}${row.seconds === null ? '' : ` for ${row.seconds} s`} (${row.detail})`,
  );
  const result: CheckResult = {
    check: 'login limits',
    status: rows.length === 0 ? 'ok' : 'fail',
    detail:
      rows.length === 0
        ? 'no login is waited on or idle in a transaction beyond the bounds, none stores a raised limit'
        : described.join('; '),
  };
  return result;
}
