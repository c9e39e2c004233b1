import {
  GetMetricDataCommand,
  type CloudWatchClient,
  type Dimension,
  type GetMetricDataCommandInput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { type Command } from 'commander';
import { awsCall } from './aws';
import { positiveInteger, type GlobalOptions, type Runner } from './command';
import { chosenLogin, resolveConnection, sqlOptions, withDatabase, type LoginOptions } from './connection';
import type { CliDeps } from './context';
import { openDatabase } from './database';
import { CliError, ExitCode } from './exit-codes';
import { renderRecord, renderTable } from './output';
import { busiestTables, databaseOverview, type BusyTable, type DatabaseOverview } from './sql-reports';
import { resolveTarget } from './target';

export interface MonitoringOptions extends GlobalOptions, LoginOptions {
  readonly minutes: number;
  readonly top: number;
  readonly sql: boolean;
  readonly databaseUrl?: string;
  readonly caBundle?: string;
}

type Unit = 'percent' | 'count' | 'bytes' | 'seconds';

/** The RDS metrics of the report; ids are GetMetricData query ids (lowercase first letter). */
export const METRICS: readonly { readonly id: string; readonly name: string; readonly unit: Unit }[] = [
  { id: 'cpu', name: 'CPUUtilization', unit: 'percent' },
  { id: 'connections', name: 'DatabaseConnections', unit: 'count' },
  { id: 'freeable_memory', name: 'FreeableMemory', unit: 'bytes' },
  { id: 'free_storage', name: 'FreeStorageSpace', unit: 'bytes' },
  { id: 'read_latency', name: 'ReadLatency', unit: 'seconds' },
  { id: 'write_latency', name: 'WriteLatency', unit: 'seconds' },
];

// RDS publishes these every minute; one-minute averages make "latest" mean the last minute.
const PERIOD_SECONDS = 60;

export function formatMetric(value: number, unit: Unit): string {
  switch (unit) {
    case 'percent':
      return `${value.toFixed(2)}%`;
    case 'count':
      return value.toFixed(value % 1 === 0 ? 0 : 1);
    case 'bytes':
      return value >= 2 ** 30 ? `${(value / 2 ** 30).toFixed(2)} GiB` : `${(value / 2 ** 20).toFixed(1)} MiB`;
    case 'seconds':
      return `${(value * 1000).toFixed(2)} ms`;
  }
}

export interface MetricFigure {
  readonly metric: string;
  readonly unit: Unit;
  /** Most recent one-minute average, or null when the window has no datapoint. */
  readonly latest: number | null;
  readonly latestAt: Date | null;
  readonly windowAverage: number | null;
  readonly windowMaximum: number | null;
}

export function metricDataInput(dimensions: Dimension[], end: Date, minutes: number): GetMetricDataCommandInput {
  return {
    StartTime: new Date(end.getTime() - minutes * 60_000),
    EndTime: end,
    // Newest first, so the latest value is the first one (CloudWatch orders nothing otherwise).
    ScanBy: 'TimestampDescending',
    MetricDataQueries: METRICS.map((m) => ({
      Id: m.id,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/RDS',
          MetricName: m.name,
          Dimensions: dimensions,
        },
        Period: PERIOD_SECONDS,
        Stat: 'Average',
      },
    })),
  };
}

function figures(results: readonly MetricDataResult[]): MetricFigure[] {
  return METRICS.map((m) => {
    const result = results.find((r) => r.Id === m.id);
    const values = result?.Values ?? [];
    return {
      metric: m.name,
      unit: m.unit,
      latest: values[0] ?? null,
      latestAt: result?.Timestamps?.[0] ?? null,
      windowAverage: values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length,
      windowMaximum: values.length === 0 ? null : Math.max(...values),
    };
  });
}

type DatabaseFigures = DatabaseOverview & { readonly busiestTables: readonly BusyTable[] };

/** One source of the report: its figures, or why they are missing (an AWS or database failure, never bad input). */
type Part<T> = { readonly value: T; readonly error: null } | { readonly value: null; readonly error: CliError };

async function part<T>(fetch: () => Promise<T>): Promise<Part<T>> {
  try {
    return { value: await fetch(), error: null };
  } catch (error) {
    if (!(error instanceof CliError) || error.exitCode === ExitCode.Usage) throw error;
    return { value: null, error };
  }
}

/** Every page of GetMetricData, the series of each metric joined. */
async function fetchMetrics(cloudwatch: CloudWatchClient, input: GetMetricDataCommandInput): Promise<MetricFigure[]> {
  const results: MetricDataResult[] = [];
  let nextToken: string | undefined;
  do {
    const output = await awsCall('GetMetricData', () =>
      cloudwatch.send(
        new GetMetricDataCommand({ ...input, ...(nextToken === undefined ? {} : { NextToken: nextToken }) }),
      ),
    );
    for (const result of output.MetricDataResults ?? []) {
      const seen = results.find((r) => r.Id === result.Id);
      if (seen === undefined) results.push({ ...result });
      else {
        seen.Values = [...(seen.Values ?? []), ...(result.Values ?? [])];
        seen.Timestamps = [...(seen.Timestamps ?? []), ...(result.Timestamps ?? [])];
      }
    }
    nextToken = output.NextToken;
  } while (nextToken !== undefined);
  return figures(results);
}

const show = (value: number | null, unit: Unit) => (value === null ? 'no data' : formatMetric(value, unit));

function renderMetrics(metrics: readonly MetricFigure[]): string {
  return renderTable<MetricFigure>(
    [
      { header: 'METRIC', value: (f) => f.metric },
      { header: 'LATEST', value: (f) => show(f.latest, f.unit), align: 'right' },
      { header: 'WINDOW AVG', value: (f) => show(f.windowAverage, f.unit), align: 'right' },
      { header: 'WINDOW MAX', value: (f) => show(f.windowMaximum, f.unit), align: 'right' },
      { header: 'AT', value: (f) => f.latestAt },
    ],
    metrics,
  );
}

function renderDatabase(database: DatabaseFigures): string {
  return (
    renderRecord([
      ['Database', database.database],
      ['Size', database.size],
      ['Connections', `${database.connections} (${database.activeConnections} active)`],
    ]) +
    `\nTop tables by activity:\n` +
    renderTable<BusyTable>(
      [
        { header: 'TABLE', value: (t) => t.table },
        { header: 'CHANGES', value: (t) => t.totalChanges, align: 'right' },
        { header: 'LIVE ROWS', value: (t) => t.liveRows, align: 'right' },
        { header: 'SIZE', value: (t) => t.size, align: 'right' },
      ],
      database.busiestTables,
    )
  );
}

/**
 * The monitoring report: CloudWatch figures of the primary, then database size, sessions and
 * busiest tables. The SQL part connects as the IAM operator login (an IAM token, no secret). Each source is
 * reported on its own: when CloudWatch or the database cannot be reached, the other's figures are still
 * printed, the missing part is named on stderr, and the exit code is that failure's (4 when unreachable).
 */
export function registerMonitoring(program: Command, deps: CliDeps, run: Runner): void {
  sqlOptions(program.command('monitoring'), 'operator')
    .description('CloudWatch figures of the primary, plus database size, connections and busiest tables')
    .option('--minutes <n>', 'CloudWatch window in minutes', positiveInteger, 10)
    .option('--top <n>', 'how many tables to list', positiveInteger, 5)
    .option('--no-sql', 'CloudWatch figures only (no database connection)')
    .action(
      run<MonitoringOptions>(async (options, reporter) => {
        const db = openDatabase(resolveTarget(options), options.region, deps);
        const input = metricDataInput(db.writerDimensions(), deps.clock.now(), options.minutes);
        const metrics = await part(() => fetchMetrics(deps.aws(options.region).cloudwatch, input));
        const database: Part<DatabaseFigures | null> = options.sql
          ? await part(async () => {
              const connection = await resolveConnection(options, chosenLogin(options), deps);
              return withDatabase(connection, async (client) => ({
                ...(await databaseOverview(client)),
                busiestTables: await busiestTables(client, options.top),
              }));
            })
          : { value: null, error: null };

        reporter.result(
          {
            instance: db.identifier,
            windowMinutes: options.minutes,
            metrics: metrics.value,
            metricsError: metrics.error?.message ?? null,
            database: database.value,
            databaseError: database.error?.message ?? null,
          },
          () =>
            `RDS monitoring for ${db.identifier} (last ${options.minutes} min, ${PERIOD_SECONDS}s ` +
            `averages)\n\n` +
            (metrics.value === null ? 'CloudWatch figures unavailable (see below).\n' : renderMetrics(metrics.value)) +
            (database.value === null ? '' : `\n${renderDatabase(database.value)}`),
        );
        if (metrics.error !== null) reporter.warn(`CloudWatch figures unavailable: ${metrics.error.message}`);
        if (database.error !== null) reporter.warn(`database figures unavailable: ${database.error.message}`);
        return (metrics.error ?? database.error)?.exitCode ?? ExitCode.Ok;
      }),
    );
}
