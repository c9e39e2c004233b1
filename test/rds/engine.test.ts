import { Testing } from 'cdktf';
import { AccessWeaverDatabase } from '../../src/rds/database';
import { DatabaseEngine, postgresInstanceEngine } from '../../src/rds/engine';
import { auroraPostgresEngine } from '../../src/rds/engines/aurora-cluster';

const synth = (engine: DatabaseEngine) =>
  JSON.parse(
    Testing.synthScope((scope) => {
      new AccessWeaverDatabase(scope, 'database', {
        projectName: 'accessweaver',
        environment: 'prod',
        vpcId: 'vpc-0123456789abcdef0',
        privateSubnetIds: ['subnet-0aaa', 'subnet-0bbb'],
        engine,
      });
    }),
  );

test('the parameter group family and the instances follow the engine major version', () => {
  const json = synth(postgresInstanceEngine('16'));
  expect(json.resource.aws_db_parameter_group.main.family).toBe('postgres16');
  expect(json.resource.aws_db_instance.main.engine_version).toBe('16');
});

// The shared parts take what they watch and protect from the engine: another engine's names reach them unchanged.
describe('alarms, events and backup read the bound engine', () => {
  const base = postgresInstanceEngine();
  const json = synth({
    ...base,
    bind: (scope, id, props) => {
      const bound = base.bind(scope, id, props);
      return {
        ...bound,
        writer: { ...bound.writer, identifier: 'local.writer_id', backupTarget: 'local.writer_arn' },
        metrics: { namespace: 'AWS/Other', dimension: 'DBClusterIdentifier', eventSourceType: 'db-cluster' },
      };
    },
  });
  const alarms = Object.values(json.resource.aws_cloudwatch_metric_alarm) as any[];

  test('every alarm uses the engine namespace and dimension', () => {
    expect(new Set(alarms.map((a) => a.namespace))).toEqual(new Set(['AWS/Other']));
    expect(alarms.every((a) => Object.keys(a.dimensions).join() === 'DBClusterIdentifier')).toBe(true);
    expect(json.resource.aws_cloudwatch_metric_alarm.high_cpu.dimensions.DBClusterIdentifier).toBe(
      '${local.writer_id}',
    );
  });

  test('events come from the engine source type and the writer', () => {
    expect(json.resource.aws_db_event_subscription.rds.source_type).toBe('db-cluster');
    expect(json.resource.aws_db_event_subscription.rds.source_ids).toMatch(/^\$\{concat\(\[local\.writer_id\], /);
  });

  test('AWS Backup protects the engine backup target', () => {
    expect(json.resource.aws_backup_selection.primary.resources).toEqual(['${local.writer_arn}']);
  });
});

test('a literal major version outside the rule fails at synth, for both engines, with the plan-time wording', () => {
  expect(() => postgresInstanceEngine('14')).toThrow('engine_major_version "14" must be one of 15, 16, 17');
  expect(() => auroraPostgresEngine({ majorVersion: '17.2' })).toThrow('must be one of 15, 16, 17');
  expect(auroraPostgresEngine({ majorVersion: '17' }).parameterGroupFamily).toBe('aurora-postgresql17');
});

test('literal restore inputs that exclude each other fail at synth', () => {
  expect(
    () =>
      new AccessWeaverDatabase(Testing.app().node.root as never, 'database', {
        projectName: 'accessweaver',
        environment: 'prod',
        vpcId: 'vpc-0123456789abcdef0',
        privateSubnetIds: ['subnet-0aaa', 'subnet-0bbb'],
        snapshotIdentifier: 'accessweaver-prod-final-0a1b2c3d',
        restoreToPointInTime: { sourceIdentifier: 'accessweaver-prod-primary', useLatestRestorableTime: true },
      }),
  ).toThrow('snapshot_identifier and restore_to_point_in_time are exclusive');
});
