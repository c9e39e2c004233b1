import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Testing } from 'cdktf';
import { AccessWeaverDatabase } from '../../../src/rds/database';
import {
  AUTOSCALED_READER_PREFIX,
  auroraPostgresEngine,
  REMOVE_AUTOSCALED_READERS,
} from '../../../src/rds/engines/aurora-cluster';

const synth = (readerAutoscaling: boolean) =>
  JSON.parse(
    Testing.synthScope((scope) => {
      new AccessWeaverDatabase(scope, 'database', {
        projectName: 'accessweaver',
        environment: 'prod',
        vpcId: 'vpc-0123456789abcdef0',
        privateSubnetIds: ['subnet-0aaa', 'subnet-0bbb'],
        engine: auroraPostgresEngine({ readerAutoscaling }),
      });
    }),
  );

describe('the Aurora engine', () => {
  const json = synth(true);

  test('the shared parts read the cluster: backup covers it, IAM authentication names its resource ID', () => {
    expect(json.resource.aws_backup_selection.primary.resources).toEqual(['${aws_rds_cluster.main.arn}']);
    expect(JSON.stringify(json.locals)).toContain('aws_rds_cluster.main.cluster_resource_id');
    expect(json.resource.aws_db_instance).toBeUndefined();
  });

  test('the DB parameter group holds the instance-level parameters only; the cluster group the others', () => {
    expect(json.locals.instance_parameters).toContain('if contains(');
    expect(json.resource.aws_db_parameter_group.main.parameter).toBeUndefined();
    expect(json.resource.aws_db_parameter_group.main.dynamic.parameter.for_each).toBe('${local.instance_parameters}');
    expect(json.resource.aws_rds_cluster_parameter_group.main.dynamic.parameter.for_each).toMatch(/if !contains\(/);
  });

  test('parameters Aurora does not have are not sent to it', () => {
    expect(Object.keys(json.locals.module_parameters)).not.toContain('wal_buffers');
    expect(json.locals.module_parameters.temp_file_limit.value).toBe('{DBInstanceClassMemory/5120}');
  });

  test('the scaling target waits for the instances, so the cluster reaches its minimum', () => {
    expect(json.resource.aws_appautoscaling_target.readers.depends_on).toEqual(
      expect.arrayContaining(['aws_rds_cluster_instance.writer', 'aws_rds_cluster_instance.reader']),
    );
  });

  test('the autoscaled readers are removed after the scaling target and before the cluster', () => {
    // Destroy runs in reverse dependency order: the target (depending on the guard) goes first, the cluster (which
    // the guard depends on through its input) last.
    expect(json.resource.aws_appautoscaling_target.readers.depends_on).toContain('terraform_data.autoscaled_readers');
    const guard = json.resource.terraform_data.autoscaled_readers;
    expect(guard.input.cluster).toBe('${aws_rds_cluster.main.cluster_identifier}');
    expect(guard.provisioner[0]['local-exec']).toMatchObject({ when: 'destroy', command: REMOVE_AUTOSCALED_READERS });
    expect(guard.triggers_replace.family).toBe('${aws_db_parameter_group.main.family}');
  });

  test("the instance alarms Aurora does not report are left out; the cluster's are by role and per reader", () => {
    const alarms = json.resource.aws_cloudwatch_metric_alarm;
    expect(alarms.low_free_storage).toBeUndefined();
    expect(alarms.replica_lag.count).toBe('${0}'); // ReplicaLag is RDS's; Aurora reports AuroraReplicaLag
    expect(alarms.high_connections.metric_name).toBe('DatabaseConnections');
    expect(alarms.readers_high_cpu.dimensions).toEqual({
      DBClusterIdentifier: '${aws_rds_cluster.main.cluster_identifier}',
      Role: 'READER',
    });
    expect(alarms.reader_replica_lag).toMatchObject({
      metric_name: 'AuroraReplicaLag',
      count: '${local.config.replica_count}',
      dimensions: { DBInstanceIdentifier: '${aws_rds_cluster_instance.reader[count.index].identifier}' },
    });
  });

  test('failovers reach the alarm topic as cluster events', () => {
    expect(json.resource.aws_db_event_subscription.cluster).toMatchObject({
      source_type: 'db-cluster',
      source_ids: ['${aws_rds_cluster.main.cluster_identifier}'],
      sns_topic: '${local.alarm_topic_arn}',
    });
    expect(json.resource.aws_db_event_subscription.cluster.event_categories).toContain('failover');
  });

  test('the cluster refuses at plan what the DB instance refuses: overlapping windows, an inconsistent row', () => {
    const messages = json.resource.aws_rds_cluster.main.lifecycle.precondition.map((p: any) => p.error_message);
    expect(messages).toContain('backup_window must not overlap maintenance_window.');
  });

  test('switched off, the module registers no scaling but keeps the destroy step', () => {
    const off = synth(false);
    expect(off.locals.reader_autoscaling).toBe(false);
    expect(off.resource.aws_appautoscaling_target.readers.count).toBe(
      '${local.reader_autoscaling && local.aurora_config.reader_autoscaling != null ? 1 : 0}',
    );
    expect(off.resource.terraform_data.autoscaled_readers.count).toBeUndefined();
  });
});

/**
 * The destroy step against a stand-in `aws` command: the cluster's members are a file; describe lists them as the
 * CLI's text output does, delete removes one, and a scaling activity may add a reader after the first deletion.
 */
describe('removing the autoscaled readers', () => {
  let dir: string;
  const run = (members: string[], opts: { addAfterDelete?: string; describeFails?: boolean } = {}) => {
    writeFileSync(path.join(dir, 'members'), members.join('\n') + '\n');
    writeFileSync(path.join(dir, 'calls'), '');
    writeFileSync(path.join(dir, 'pending'), opts.addAfterDelete ?? '');
    writeFileSync(
      path.join(dir, 'aws'),
      `#!/bin/sh
d=${JSON.stringify(dir)}
echo "$*" >> "$d/calls"
case "$2" in
  describe-db-clusters)
    ${opts.describeFails ? 'exit 254' : ''}
    grep '^${AUTOSCALED_READER_PREFIX}' "$d/members" | tr '\\n' '\\t' | sed 's/\\t$//'; echo ;;
  delete-db-instance)
    grep -v "^$4\\$" "$d/members" > "$d/m2"; mv "$d/m2" "$d/members"
    if [ -s "$d/pending" ]; then cat "$d/pending" >> "$d/members"; echo >> "$d/members"; : > "$d/pending"; fi ;;
esac
`,
    );
    chmodSync(path.join(dir, 'aws'), 0o755);
    execFileSync('/bin/sh', ['-c', REMOVE_AUTOSCALED_READERS], {
      env: { PATH: `${dir}:/usr/bin:/bin`, CLUSTER: 'accessweaver-prod-cluster', AWS_REGION: 'eu-west-3' },
    });
    return {
      calls: readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n').filter(Boolean),
      members: readFileSync(path.join(dir, 'members'), 'utf8').split('\n').filter(Boolean),
    };
  };
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'autoscaled-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('deletes only the readers autoscaling added, and waits until each is gone', () => {
    const a = `${AUTOSCALED_READER_PREFIX}1111`;
    const { calls, members } = run(['accessweaver-prod-primary', 'accessweaver-prod-replica-1', a]);
    expect(members).toEqual(['accessweaver-prod-primary', 'accessweaver-prod-replica-1']);
    expect(calls.filter((c) => !c.startsWith('rds describe'))).toEqual([
      `rds delete-db-instance --db-instance-identifier ${a} --skip-final-snapshot`,
      `rds wait db-instance-deleted --db-instance-identifier ${a}`,
    ]);
  });

  test('a reader a scaling activity adds meanwhile is deleted in the next round', () => {
    const late = `${AUTOSCALED_READER_PREFIX}2222`;
    const { members } = run(['accessweaver-prod-primary', `${AUTOSCALED_READER_PREFIX}1111`], {
      addAfterDelete: late,
    });
    expect(members).toEqual(['accessweaver-prod-primary']);
  });

  test('with no autoscaled reader, or no cluster any more, it deletes nothing and succeeds', () => {
    expect(run(['accessweaver-prod-primary']).calls.filter((c) => c.includes('delete'))).toEqual([]);
    expect(run([`${AUTOSCALED_READER_PREFIX}1`], { describeFails: true }).calls).toHaveLength(1);
  });
});
