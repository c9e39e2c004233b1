/**
 * modules/rds through Terraform itself: `terraform validate`, and an offline `terraform plan` of each example
 * caller (written like the original environments/<env>/main.tf), asserting the values the plan resolves.
 *
 * Offline means: hashicorp/aws from the machine's provider mirror, a loopback stand-in for the two read APIs the
 * data sources call, and hashicorp/random (not available offline) replaced by terraform_data stand-ins in a copy
 * of the module (see offlineModuleCopy).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENVIRONMENTS, EnvironmentName } from '../../src/config/environments';
import { exampleNetwork } from '../../src/rds/emit';
import { AwsStandIn, providerOverride, startAwsStandIn } from '../support/aws-stand-in';
import { describeWithTerraform, offlineModuleCopy, terraform, terraformOk } from '../support/terraform';

const MODULE_DIR = path.resolve(__dirname, '../../modules/rds');
const REGION = 'eu-west-3';
type Env = EnvironmentName;

jest.setTimeout(10 * 60 * 1000);

interface PlannedChange {
  address: string;
  after: Record<string, any>;
}

describeWithTerraform('modules/rds with terraform', () => {
  let workdir: string;
  let moduleCopy: string;
  let standIn: AwsStandIn;

  beforeAll(async () => {
    workdir = mkdtempSync(path.join(os.tmpdir(), 'rds-terraform-'));
    moduleCopy = path.join(workdir, 'rds');
    offlineModuleCopy(MODULE_DIR, moduleCopy);
    const subnets: Record<string, string> = {};
    for (const environment of ENVIRONMENTS) {
      for (const [zone, id] of Object.entries(exampleNetwork(environment).subnets)) subnets[id] = `${REGION}${zone}`;
    }
    standIn = await startAwsStandIn({ subnets, region: REGION });
  });

  afterAll(async () => {
    await standIn?.close();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  /** Prepares examples/<env> of the copy for offline planning, with `tfvarsOverride` merged into the module block. */
  async function prepare(env: Env): Promise<string> {
    const dir = path.join(moduleCopy, 'examples', env);
    writeFileSync(path.join(dir, 'offline_override.tf'), providerOverride(standIn.endpoint, REGION));
    await terraformOk(dir, ['init', '-backend=false', '-input=false']);
    return dir;
  }

  async function plan(dir: string): Promise<PlannedChange[]> {
    await terraformOk(dir, ['plan', '-input=false', '-out=plan.bin']);
    const shown = JSON.parse(await terraformOk(dir, ['show', '-json', 'plan.bin']));
    return shown.resource_changes.map((rc: any) => ({ address: rc.address, after: rc.change.after ?? {} }));
  }

  const find = (changes: PlannedChange[], address: string) => {
    const change = changes.find((c) => c.address === address);
    if (!change) throw new Error(`${address} is not in the plan`);
    return change.after;
  };

  test('terraform validate accepts the module', async () => {
    await terraformOk(moduleCopy, ['init', '-backend=false', '-input=false']);
    expect(await terraformOk(moduleCopy, ['validate'])).toContain('Success! The configuration is valid.');
  });

  describe.each([
    [
      'dev',
      {
        instance_class: 'db.t3.micro',
        allocated_storage: 20,
        max_allocated_storage: 100,
        storage_type: 'gp3',
        multi_az: false,
        backup_retention_period: 1,
        monitoring_interval: 0,
        performance_insights_enabled: false,
        deletion_protection: false,
        skip_final_snapshot: true,
      },
      0,
    ],
    [
      'staging',
      {
        instance_class: 'db.t3.small',
        allocated_storage: 100,
        max_allocated_storage: 500,
        storage_type: 'gp3',
        multi_az: true,
        backup_retention_period: 7,
        monitoring_interval: 60,
        performance_insights_enabled: true,
        performance_insights_retention_period: 7,
        deletion_protection: false,
        skip_final_snapshot: true,
      },
      1,
    ],
    [
      'prod',
      {
        instance_class: 'db.r6g.large',
        allocated_storage: 500,
        max_allocated_storage: 2000,
        storage_type: 'gp3',
        multi_az: true,
        backup_retention_period: 30,
        monitoring_interval: 60,
        performance_insights_enabled: true,
        performance_insights_retention_period: 731,
        deletion_protection: true,
        skip_final_snapshot: false,
      },
      2,
    ],
  ] as const)('the %s caller plans offline', (env, primaryValues, replicaCount) => {
    let changes: PlannedChange[];

    beforeAll(async () => {
      changes = await plan(await prepare(env));
    });

    test("the primary has the table's sizing and protection", () => {
      expect(find(changes, 'module.rds.aws_db_instance.main')).toMatchObject({
        identifier: `accessweaver-${env}-primary`,
        engine: 'postgres',
        engine_version: '15',
        storage_encrypted: true,
        publicly_accessible: false,
        manage_master_user_password: true,
        backup_window: '02:00-03:00',
        ...primaryValues,
      });
    });

    test(`${replicaCount} replica(s), each in another zone than the previous`, () => {
      const replicas = changes.filter((c) => c.address.startsWith('module.rds.aws_db_instance.replica['));
      expect(replicas.map((r) => r.after.identifier)).toEqual(
        Array.from({ length: replicaCount }, (_, i) => `accessweaver-${env}-replica-${i + 1}`),
      );
      expect(replicas.map((r) => r.after.availability_zone)).toEqual(
        Array.from({ length: replicaCount }, (_, i) => `${REGION}${'abc'[(i + 1) % 3]}`),
      );
    });

    test("a single-AZ primary sits in its first subnet's zone; Multi-AZ leaves the choice to RDS", () => {
      // A value RDS chooses is unknown at plan, so the plan's "after" leaves it out.
      expect(find(changes, 'module.rds.aws_db_instance.main').availability_zone).toBe(
        primaryValues.multi_az ? undefined : `${REGION}a`,
      );
    });

    test('enhanced monitoring role exists exactly when the interval is set', () => {
      const roles = changes.filter((c) => c.address.startsWith('module.rds.aws_iam_role.rds_enhanced_monitoring'));
      expect(roles).toHaveLength(primaryValues.monitoring_interval > 0 ? 1 : 0);
    });

    test('credential rotation only in prod', () => {
      const rotations = changes.filter((c) => c.address.includes('aws_secretsmanager_secret_rotation'));
      expect(rotations).toHaveLength(env === 'prod' ? 2 : 0);
    });

    test("the data sources called nothing but the stand-in's two APIs", () => {
      expect(standIn.unexpected).toEqual([]);
    });
  });

  describe("bad input is refused at plan, with the module's message", () => {
    async function planWith(env: Env, overrides: Record<string, string>): Promise<string> {
      const dir = path.join(moduleCopy, 'examples', env);
      const overrideFile = path.join(dir, 'bad_input_override.tf');
      const body = Object.entries(overrides)
        .map(([k, v]) => `  ${k} = ${v}`)
        .join('\n');
      writeFileSync(overrideFile, `module "rds" {\n${body}\n}\n`);
      try {
        const result = await terraform(dir, ['plan', '-input=false']);
        expect(result.status).not.toBe(0);
        return result.stderr.replace(/\s+/g, ' ');
      } finally {
        rmSync(overrideFile, { force: true });
      }
    }

    test('unknown environment', async () => {
      expect(await planWith('dev', { environment: '"qa"' })).toContain('Environment must be dev, staging, or prod.');
    });

    test('a single subnet', async () => {
      expect(await planWith('dev', { private_subnet_ids: `["${exampleNetwork('dev').subnets.a}"]` })).toContain(
        'needs at least two distinct subnets',
      );
    });

    test('overlapping windows', async () => {
      expect(
        await planWith('dev', { backup_window: '"03:00-04:00"', maintenance_window: '"Sun:03:30-Sun:04:30"' }),
      ).toContain('backup_window must not overlap maintenance_window');
    });

    test('malformed backup window', async () => {
      expect(await planWith('dev', { backup_window: '"3am-4am"' })).toContain('backup_window must be hh24:mi-hh24:mi');
    });

    test('network ACL without a VPC CIDR', async () => {
      expect(await planWith('dev', { enable_network_acl: 'true' })).toContain('enable_network_acl needs vpc_cidr');
    });
  });
});
