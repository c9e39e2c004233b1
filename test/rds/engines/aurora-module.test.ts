/**
 * modules/rds-aurora: generated from the constructs, within the provider range, and planned offline through
 * Terraform for each example caller and for the design document's production configuration.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENVIRONMENTS } from '../../../src/config/environments';
import { exampleNetwork } from '../../../src/rds/emit';
import { auroraModuleFiles } from '../../../src/rds/engines/aurora-module';
import { providerOverride, startAwsStandIn } from '../../../scripts/offline/aws-stand-in';
import { planExamples } from '../../support/module-plan';
import {
  argumentUses,
  attributeReferences,
  missingArguments,
  missingReferences,
  readJsiiProviderSchema,
} from '../../support/provider-schema';
import { describeWithTerraform, offlineModuleCopy, terraformOk } from '../../support/terraform';

jest.setTimeout(10 * 60 * 1000);

const MODULE_DIR = path.resolve(__dirname, '../../../modules/rds-aurora');
const REGION = 'eu-west-3';

test('modules/rds-aurora is what the constructs generate (npm run modules)', () => {
  for (const [relative, content] of Object.entries(auroraModuleFiles())) {
    expect({ file: relative, content: readFileSync(path.join(MODULE_DIR, relative), 'utf8') }).toEqual({
      file: relative,
      content,
    });
  }
});

describe('provider range of modules/rds-aurora', () => {
  const document = Object.assign(
    {},
    ...readdirSync(MODULE_DIR)
      .filter((f) => f.endsWith('.tf.json'))
      .map((f) => JSON.parse(readFileSync(path.join(MODULE_DIR, f), 'utf8'))),
  );
  const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));
  test.each(['@cdktf/provider-aws', '@cdktf/provider-aws-v6'])(
    'every aws type, argument and attribute it uses exists in the schema of %s',
    (binding) => {
      const schema = readJsiiProviderSchema(packageDir(binding));
      const uses = argumentUses(document, schema).filter((u) => u.type.startsWith('aws_'));
      const references = attributeReferences(document).filter((r) => r.type.startsWith('aws_'));
      expect(uses.map((u) => u.type)).toEqual(expect.arrayContaining(['aws_rds_cluster', 'aws_appautoscaling_policy']));
      expect({ missing: missingArguments(uses, schema), unread: missingReferences(references, schema) }).toEqual({
        missing: [],
        unread: [],
      });
    },
  );
});

type Change = { address: string; after: Record<string, any> };

describeWithTerraform('modules/rds-aurora with terraform', () => {
  let plans: Record<string, { resources: Change[] }>;
  const after = (environment: string, address: string) => {
    const change = plans[environment].resources.find((r) => r.address === `module.rds.${address}`);
    if (!change) throw new Error(`${address} is not in the ${environment} plan`);
    return change.after;
  };
  const addresses = (environment: string) => plans[environment].resources.map((r) => r.address);

  beforeAll(async () => {
    plans = (await planExamples(MODULE_DIR)) as never;
  });

  test('prod: the cluster, its writer and two readers, on I/O-Optimized storage, protected', () => {
    expect(after('prod', 'aws_rds_cluster.main')).toMatchObject({
      cluster_identifier: 'accessweaver-prod-cluster',
      engine: 'aurora-postgresql',
      engine_version: '15',
      storage_type: 'aurora-iopt1',
      storage_encrypted: true,
      iam_database_authentication_enabled: true,
      manage_master_user_password: true,
      deletion_protection: true,
      skip_final_snapshot: false,
      enabled_cloudwatch_logs_exports: ['postgresql'],
    });
    expect(addresses('prod').filter((a) => a.includes('aws_rds_cluster_instance'))).toEqual([
      'module.rds.aws_rds_cluster_instance.reader[0]',
      'module.rds.aws_rds_cluster_instance.reader[1]',
      'module.rds.aws_rds_cluster_instance.writer',
    ]);
    expect(after('prod', 'aws_rds_cluster_instance.reader[1]').instance_class).toBe('db.r6g.large');
  });

  test('prod: 2 to 5 readers, tracking their average CPU at 70 %', () => {
    expect(after('prod', 'aws_appautoscaling_target.readers[0]')).toMatchObject({
      min_capacity: 2,
      max_capacity: 5,
      resource_id: 'cluster:accessweaver-prod-cluster',
      scalable_dimension: 'rds:cluster:ReadReplicaCount',
      service_namespace: 'rds',
    });
    const policy = after('prod', 'aws_appautoscaling_policy.reader_cpu[0]');
    expect(policy.policy_type).toBe('TargetTrackingScaling');
    expect(policy.target_tracking_scaling_policy_configuration[0]).toMatchObject({
      target_value: 70,
      predefined_metric_specification: [{ predefined_metric_type: 'RDSReaderAverageCPUUtilization' }],
    });
  });

  test('dev: one Serverless v2 writer, no reader, no autoscaling, nothing kept on destroy', () => {
    expect(after('dev', 'aws_rds_cluster.main')).toMatchObject({
      serverlessv2_scaling_configuration: [{ min_capacity: 0.5, max_capacity: 4 }],
      deletion_protection: false,
      skip_final_snapshot: true,
    });
    expect(after('dev', 'aws_rds_cluster_instance.writer').instance_class).toBe('db.serverless');
    expect(addresses('dev').filter((a) => /cluster_instance\.reader|appautoscaling/.test(a))).toEqual([]);
  });

  test('every environment: the cluster parameters carry pgaudit and no statement text; the log group is made', () => {
    for (const environment of ENVIRONMENTS) {
      const parameters = Object.fromEntries(
        after(environment, 'aws_rds_cluster_parameter_group.main').parameter.map((p: any) => [p.name, p.value]),
      );
      expect(parameters).toMatchObject({ 'pgaudit.log': 'ddl,role', log_statement: 'none', 'rds.force_ssl': '1' });
      expect(addresses(environment)).toContain(
        `module.rds.aws_cloudwatch_log_group.rds["accessweaver-${environment}-cluster/postgresql"]`,
      );
    }
  });

  test('a caller on PostgreSQL 17 creating the cluster from a cluster snapshot plans it', async () => {
    const plan = (await planExamples(
      MODULE_DIR,
      ['dev'],
      'module "rds" {\n  engine_major_version = "17"\n  allow_major_version_upgrade = true\n' +
        '  snapshot_identifier = "accessweaver-dev-cluster-final-0a1b2c3d"\n}\n',
    )) as unknown as Record<string, { resources: Change[] }>;
    const changes = plan.dev!.resources;
    const afterOf = (address: string) => changes.find((c) => c.address === `module.rds.${address}`)?.after;
    expect(afterOf('aws_rds_cluster.main')).toMatchObject({
      engine_version: '17',
      allow_major_version_upgrade: true,
      snapshot_identifier: 'accessweaver-dev-cluster-final-0a1b2c3d',
      restore_to_point_in_time: [],
    });
    expect(afterOf('aws_rds_cluster_parameter_group.main')?.family).toBe('aurora-postgresql17');
    expect(afterOf('aws_db_parameter_group.main')).toMatchObject({
      family: 'aurora-postgresql17',
      name: 'accessweaver-dev-pg17-params',
    });
  });

  test("a caller restoring the cluster to another's latest restorable time plans the restore block", async () => {
    const plan = (await planExamples(
      MODULE_DIR,
      ['dev'],
      'module "rds" {\n  restore_to_point_in_time = { source_resource_id = "cluster-ABCDEFGHIJKLMNOP", ' +
        'use_latest_restorable_time = true }\n}\n',
    )) as unknown as Record<string, { resources: Change[] }>;
    const cluster = plan.dev!.resources.find((c) => c.address === 'module.rds.aws_rds_cluster.main')?.after;
    expect(cluster?.restore_to_point_in_time).toEqual([
      expect.objectContaining({
        source_cluster_identifier: null,
        source_cluster_resource_id: 'cluster-ABCDEFGHIJKLMNOP',
        restore_to_time: null,
        use_latest_restorable_time: true,
      }),
    ]);
    expect(cluster?.snapshot_identifier).toBeNull();
  });

  test("the design document's production configuration plans, its own autoscaling in place of the module's", async () => {
    const workdir = mkdtempSync(path.join(os.tmpdir(), 'rds-aurora-design-'));
    const network = exampleNetwork('prod');
    const standIn = await startAwsStandIn({
      subnets: Object.fromEntries(Object.entries(network.subnets).map(([zone, id]) => [id, `${REGION}${zone}`])),
      region: REGION,
    });
    try {
      offlineModuleCopy(MODULE_DIR, path.join(workdir, 'modules', 'rds'));
      const caller = path.join(workdir, 'environments', 'prod');
      mkdirSync(caller, { recursive: true });
      cpSync(path.join(__dirname, 'design-prod'), caller, { recursive: true });
      writeFileSync(path.join(caller, 'offline_override.tf'), providerOverride(standIn.endpoint, REGION));
      await terraformOk(caller, ['init', '-backend=false', '-input=false']);
      await terraformOk(caller, ['plan', '-input=false', '-out=plan.bin']);
      const shown = JSON.parse(await terraformOk(caller, ['show', '-json', 'plan.bin']));
      const changes: Change[] = shown.resource_changes.map((rc: any) => ({
        address: rc.address,
        after: rc.change.after,
      }));
      const target = changes.find((c) => c.address === 'aws_appautoscaling_target.rds_replica');
      expect(target?.after).toMatchObject({
        min_capacity: 2,
        max_capacity: 5,
        resource_id: 'cluster:accessweaver-prod-cluster',
      });
      expect(changes.map((c) => c.address).filter((a) => a.includes('appautoscaling'))).toEqual([
        'aws_appautoscaling_policy.rds_replica_scaling',
        'aws_appautoscaling_target.rds_replica',
      ]);
      expect(changes.map((c) => c.address)).toContain('module.rds.terraform_data.autoscaled_readers');
    } finally {
      await standIn.close();
      rmSync(workdir, { recursive: true, force: true });
    }
  });
});
