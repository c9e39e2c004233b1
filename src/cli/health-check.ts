import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import type { DBInstance } from '@aws-sdk/client-rds';
import type { Command } from 'commander';
import { awsCall, describeInstance } from './aws';
import type { GlobalOptions, Runner } from './command';
import { resolveConnection, withDatabase } from './connection';
import type { CliDeps } from './context';
import { CliError, ExitCode } from './exit-codes';
import { renderRecord, renderTable } from './output';
import { resolveTarget } from './target';

export interface HealthCheckOptions {
  readonly connect: boolean;
  readonly databaseUrl?: string;
  readonly caBundle?: string;
}

export interface CheckResult {
  readonly check: string;
  readonly status: 'ok' | 'fail' | 'skipped';
  readonly detail: string;
}

function instanceSummary(instance: DBInstance) {
  return {
    identifier: instance.DBInstanceIdentifier ?? null,
    status: instance.DBInstanceStatus ?? null,
    engine: `${instance.Engine ?? '?'} ${instance.EngineVersion ?? ''}`.trim(),
    instanceClass: instance.DBInstanceClass ?? null,
    multiAz: instance.MultiAZ ?? null,
    endpoint: instance.Endpoint?.Address === undefined ? null : `${instance.Endpoint.Address}:${instance.Endpoint.Port ?? ''}`,
    storageGiB: instance.AllocatedStorage ?? null,
    replicas: instance.ReadReplicaDBInstanceIdentifiers ?? [],
  };
}

/**
 * The seed's rds-health-check.sh as checks with a verdict: instance status, security groups, CPU
 * over the last hour against the environment's alarm threshold, and a connection as the application
 * login. Exit 0 when every check passes, 1 when one fails, 4 when the instance does not exist.
 */
export function registerHealthCheck(program: Command, deps: CliDeps, run: Runner): void {
  program
    .command('health-check')
    .description('instance status, security groups, CPU over the last hour, and a connection test as the application login')
    .option('--database-url <url>', 'connection test against this URL instead of the app secret (also DATABASE_URL)')
    .option('--ca-bundle <file>', 'RDS CA bundle for TLS verification (also PGSSLROOTCERT)')
    .option('--no-connect', 'skip the connection test (e.g. when outside the VPC)')
    .action(
      run<HealthCheckOptions>(async (options, reporter) => {
        const target = resolveTarget(options);
        const { rds, cloudwatch } = deps.aws(options.region);
        const instance = await describeInstance(rds, target.primaryIdentifier);
        const checks: CheckResult[] = [];

        const status = instance.DBInstanceStatus ?? 'unknown';
        checks.push({ check: 'instance status', status: status === 'available' ? 'ok' : 'fail', detail: status });

        const groups = instance.VpcSecurityGroups ?? [];
        const inactive = groups.filter((g) => g.Status !== 'active');
        checks.push({
          check: 'security groups',
          status: groups.length > 0 && inactive.length === 0 ? 'ok' : 'fail',
          detail: groups.length === 0 ? 'none attached' : groups.map((g) => `${g.VpcSecurityGroupId} ${g.Status}`).join(', '),
        });

        const end = deps.clock.now();
        const metrics = await awsCall('GetMetricStatistics CPUUtilization', () =>
          cloudwatch.send(
            new GetMetricStatisticsCommand({
              Namespace: 'AWS/RDS',
              MetricName: 'CPUUtilization',
              Dimensions: [{ Name: 'DBInstanceIdentifier', Value: target.primaryIdentifier }],
              StartTime: new Date(end.getTime() - 3_600_000),
              EndTime: end,
              Period: 3600,
              Statistics: ['Average', 'Maximum'],
            }),
          ),
        );
        // CloudWatch returns datapoints in no particular order: take the latest explicitly.
        const latest = [...(metrics.Datapoints ?? [])].sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0))[0];
        const threshold = target.config.database.cpuAlarmThreshold;
        if (latest?.Average === undefined) {
          checks.push({ check: 'cpu (last hour)', status: 'skipped', detail: 'no datapoints' });
        } else {
          const peak = latest.Maximum ?? latest.Average;
          checks.push({
            check: 'cpu (last hour)',
            status: peak < threshold ? 'ok' : 'fail',
            detail: `average ${latest.Average.toFixed(2)}%, maximum ${peak.toFixed(2)}% (alarm threshold ${threshold}%)`,
          });
        }

        if (!options.connect) {
          checks.push({ check: 'connection', status: 'skipped', detail: '--no-connect' });
        } else {
          checks.push(await connectionCheck(options, deps));
        }

        const healthy = checks.every((c) => c.status !== 'fail');
        reporter.result({ target: target.primaryIdentifier, instance: instanceSummary(instance), checks, healthy }, () => {
          const s = instanceSummary(instance);
          return (
            `RDS health check for ${target.primaryIdentifier}\n\n` +
            renderRecord([
              ['Status', s.status],
              ['Engine', s.engine],
              ['Class', s.instanceClass],
              ['Multi-AZ', s.multiAz],
              ['Endpoint', s.endpoint],
              ['Storage (GiB)', s.storageGiB],
              ['Replicas', s.replicas.join(', ') || 'none'],
            ]) +
            '\n' +
            renderTable(
              [
                { header: 'CHECK', value: (c: CheckResult) => c.check },
                { header: 'RESULT', value: (c: CheckResult) => c.status },
                { header: 'DETAIL', value: (c: CheckResult) => c.detail },
              ],
              checks,
            ) +
            `\n${healthy ? 'Healthy.' : 'Unhealthy: see the failed checks above.'}\n`
          );
        });
        return healthy ? ExitCode.Ok : ExitCode.Failed;
      }),
    );
}

async function connectionCheck(options: HealthCheckOptions & GlobalOptions, deps: CliDeps): Promise<CheckResult> {
  try {
    const connection = await resolveConnection(options, 'app', deps);
    const row = await withDatabase(connection, async (client) => {
      const { rows } = await client.query<{ database: string; version: string }>(
        'SELECT current_database() AS database, version() AS version',
      );
      return rows[0];
    });
    return { check: 'connection', status: 'ok', detail: `${connection.display}: ${row.version.split(',')[0]}` };
  } catch (error) {
    // A missing CA bundle is the operator's input to fix, not a finding about the database.
    if (error instanceof CliError && error.exitCode === ExitCode.Usage) throw error;
    return { check: 'connection', status: 'fail', detail: (error as Error).message };
  }
}
