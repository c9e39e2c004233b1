import * as fs from 'fs';
import * as path from 'path';
import { RdsStack, RdsStackProps } from '../../src/stacks/rds-stack';
import { RDS_OUTPUTS } from '../../src/stacks/environment-stack';
import { LOCAL_STATE, PROJECT_ROOT, resourcesOf, synthJson, testApp } from './support';

function rdsStack(environment: string, props: Partial<RdsStackProps> = {}): RdsStack {
  return new RdsStack(testApp(), `rds-${environment}`, { environment, stateBackend: LOCAL_STATE, ...props });
}

function moduleBlock(stack: RdsStack): Record<string, unknown> {
  const block = synthJson(stack).module.rds;
  if (!block) throw new Error('no module "rds" block');
  return block;
}

const VPC = (output: string) => `\${data.terraform_remote_state.vpc.outputs.${output}}`;

/** The outputs the emitted module declares (modules/rds/outputs.tf.json), with their descriptions. */
function moduleOutputs(): Record<string, string> {
  const outputs = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'modules/rds/outputs.tf.json'), 'utf8')) as {
    output: Record<string, { description: string }>;
  };
  return Object.fromEntries(Object.entries(outputs.output).map(([name, output]) => [name, output.description]));
}

describe('rds-<env>', () => {
  test('calls the emitted module as a module block packaged with the stack', () => {
    expect(moduleBlock(rdsStack('dev')).source).toMatch(/^\.\/assets\/__cdktf_module_asset_[0-9A-F]+\/[0-9A-F]+\/rds$/);
  });

  test('feeds the module the environment and the outputs of vpc-<env>', () => {
    expect(moduleBlock(rdsStack('staging'))).toMatchObject({
      project_name: 'accessweaver',
      environment: 'staging',
      vpc_id: VPC('vpc_id'),
      private_subnet_ids: VPC('private_subnet_ids'),
      vpc_cidr: VPC('vpc_cidr'),
    });
  });

  test('reads vpc-<env> from its state file', () => {
    expect(synthJson(rdsStack('prod')).data.terraform_remote_state).toEqual({
      vpc: { backend: 'local', config: { path: '/var/lib/accessweaver-state/terraform.vpc-prod.tfstate' } },
    });
  });

  test('tags the database with the environment tags', () => {
    expect(moduleBlock(rdsStack('dev')).tags).toEqual({
      Project: 'accessweaver',
      Environment: 'dev',
      Stack: 'rds-dev',
      ManagedBy: 'cdktf',
    });
  });

  test('prod takes its own windows and Backup/Monitoring tags', () => {
    expect(moduleBlock(rdsStack('prod'))).toMatchObject({
      backup_window: '02:00-03:00',
      maintenance_window: 'Sun:03:00-Sun:04:00',
      tags: expect.objectContaining({ Backup: 'critical', Monitoring: 'enhanced' }),
    });
  });

  test("dev leaves the windows to the module's defaults", () => {
    const block = moduleBlock(rdsStack('dev'));
    expect([block.backup_window, block.maintenance_window]).toEqual([undefined, undefined]);
  });

  test('takes configured windows', () => {
    expect(
      moduleBlock(rdsStack('staging', { backupWindow: '01:00-02:00', maintenanceWindow: 'Sat:02:00-Sat:03:00' })),
    ).toMatchObject({
      backup_window: '01:00-02:00',
      maintenance_window: 'Sat:02:00-Sat:03:00',
    });
  });

  test('every database setting reaches the module input its declaration names', () => {
    expect(
      moduleBlock(
        rdsStack('dev', {
          backupWindow: '01:00-02:00',
          maintenanceWindow: 'Sat:02:00-Sat:03:00',
          allowedSecurityGroupIds: ['sg-0123456789abcdef0'],
          enableNetworkAcl: true,
          alarmSnsTopicArn: 'arn:aws:sns:eu-west-3:123456789012:alerts',
          instanceOverrides: { instanceClass: 'db.t4g.medium', allocatedStorage: 50 },
          applyImmediately: true,
          parameters: [{ name: 'max_wal_senders', value: '20' }],
        }),
      ),
    ).toMatchObject({
      backup_window: '01:00-02:00',
      maintenance_window: 'Sat:02:00-Sat:03:00',
      allowed_security_groups: ['sg-0123456789abcdef0'],
      enable_network_acl: true,
      alarm_sns_topic_arn: 'arn:aws:sns:eu-west-3:123456789012:alerts',
      instance_overrides: { instance_class: 'db.t4g.medium', allocated_storage: 50 },
      apply_immediately: true,
      parameters: [{ name: 'max_wal_senders', value: '20', apply_method: null }],
    });
  });

  test('without overrides the module gets an empty override object', () => {
    expect(moduleBlock(rdsStack('dev')).instance_overrides).toEqual({});
  });

  test('refuses at synth an override the module would refuse at plan, naming it', () => {
    expect(() => rdsStack('prod', { instanceOverrides: { instanceClass: 'db.r5.large' } })).toThrow(
      'rds-prod: instance_overrides.instance_class "db.r5.large" must be one of db.t3.micro',
    );
    expect(() => rdsStack('prod', { instanceOverrides: { storageType: 'gp3' }, parameters: [] })).not.toThrow();
    expect(() => rdsStack('dev', { instanceOverrides: { allocatedStorage: 200, maxAllocatedStorage: 100 } })).toThrow(
      "rds-dev: environment 'dev' with instance_overrides: maxAllocatedStorage 100 GiB is below " +
        'allocatedStorage 200 GiB',
    );
    expect(() =>
      rdsStack('dev', { parameters: [{ name: 'shared_buffers', value: '1024', applyMethod: 'immediate' }] }),
    ).toThrow("rds-dev: parameters: 'shared_buffers' is static and applies only at a reboot");
  });

  test("refuses windows the module would refuse at plan: overlapping prod's default maintenance window", () => {
    expect(() => rdsStack('prod', { backupWindow: '03:30-04:30' })).toThrow(
      "rds-prod: backup_window '03:30-04:30' overlaps maintenance_window 'Sun:03:00-Sun:04:00'",
    );
  });

  test("names each ECS service's execution role as reader of exactly the secrets it receives", () => {
    const role = (name: string) =>
      `arn:\${data.aws_partition.partition.partition}:iam:` +
      `:\${data.aws_caller_identity.caller.account_id}:` +
      `role/accessweaver-prod-` +
      `${name}-execution`;
    expect(moduleBlock(rdsStack('prod')).secret_readers).toEqual({
      app: [role('auth-service')],
      readonly: [role('pdp-service')],
      tenant_context_key: [role('auth-service')],
    });
  });

  test('adds the setup roles as readers of every secret', () => {
    const setup = 'arn:aws:iam::123456789012:role/db-setup';
    const readers = moduleBlock(rdsStack('dev', { databaseSetupRoleArns: [setup] })).secret_readers as Record<
      string,
      string[]
    >;
    expect(Object.values(readers).map((arns) => arns[arns.length - 1])).toEqual([setup, setup, setup]);
  });

  test('lets no security group in by default: clients join the module client group', () => {
    expect(moduleBlock(rdsStack('prod')).allowed_security_groups).toEqual([]);
  });

  test('passes the opt-in network ACL switch', () => {
    expect(moduleBlock(rdsStack('prod', { enableNetworkAcl: true })).enable_network_acl).toBe(true);
  });

  test("re-exports every output of the module under the module's name and description", () => {
    const outputs = synthJson(rdsStack('dev')).output;
    const reexported = Object.entries(outputs)
      .filter(([name, output]) => output.value === `\${module.rds.${name}}`)
      .map(([name, output]) => [name, output.description]);
    expect(Object.fromEntries(reexported)).toEqual(moduleOutputs());
  });

  test('outputs the reader addresses: the replicas, or the primary without replicas', () => {
    expect(synthJson(rdsStack('dev')).output[RDS_OUTPUTS.readerAddresses]?.value).toBe(
      '${coalescelist(module.rds.replica_addresses, [module.rds.primary_address])}',
    );
  });

  test('every output the ECS stack reads is an output of this stack', () => {
    const outputs = Object.keys(synthJson(rdsStack('dev')).output);
    expect(outputs).toEqual(expect.arrayContaining(Object.values(RDS_OUTPUTS)));
  });
});

describe('rds-<env> bad input', () => {
  test('an unknown environment', () => {
    expect(() => rdsStack('test')).toThrow("Environment must be dev, staging, or prod. Got 'test'.");
  });

  test('a backup window that is not hh24:mi-hh24:mi', () => {
    expect(() => rdsStack('dev', { backupWindow: '3am-4am' })).toThrow(
      "rds-dev: backup_window '3am-4am' is malformed: expected hh24:mi-hh24:mi in UTC, e.g. 03:00-04:00.",
    );
  });

  test('a maintenance window without days', () => {
    expect(() => rdsStack('dev', { maintenanceWindow: '04:00-05:00' })).toThrow(
      "rds-dev: maintenance_window '04:00-05:00' is malformed: expected ddd:hh24:mi-ddd:hh24:mi in UTC, e.g. " +
        'Sun:04:00-Sun:05:00.',
    );
  });

  test('an allowed security group that is not a security group id', () => {
    expect(() => rdsStack('dev', { allowedSecurityGroupIds: ['api-gateway'] })).toThrow(
      "rds-dev: allowedSecurityGroupIds entry 'api-gateway' is not a security group id.",
    );
  });
});

describe('rds-<env> disaster recovery', () => {
  test('prod creates a vault and its key in eu-west-1 through a second provider, and passes them to the module', () => {
    const synth = synthJson(rdsStack('prod'));
    expect(synth.provider.aws.map((p) => [p.alias ?? null, p.region])).toEqual([
      [null, 'eu-west-3'],
      ['dr', 'eu-west-1'],
    ]);
    const [vaultName, vault] = Object.entries(resourcesOf(synth, 'aws_backup_vault'))[0];
    const [keyName, key] = Object.entries(resourcesOf(synth, 'aws_kms_key'))[0];
    expect(vault).toMatchObject({
      provider: 'aws.dr',
      name: 'accessweaver-prod-backup-dr',
      kms_key_arn: `\${aws_kms_key.${keyName}.arn}`,
    });
    expect(key).toMatchObject({ provider: 'aws.dr', enable_key_rotation: true, deletion_window_in_days: 30 });
    expect(moduleBlock(rdsStack('prod'))).toMatchObject({
      backup_copy_vault_arn: `\${aws_backup_vault.${vaultName}.arn}`,
      backup_copy_kms_key_arn: `\${aws_kms_key.${keyName}.arn}`,
    });
  });

  test('the DR region is a setting', () => {
    const synth = synthJson(rdsStack('prod', { disasterRecoveryRegion: 'eu-central-1' }));
    expect(synth.provider.aws.find((p) => p.alias === 'dr')?.region).toBe('eu-central-1');
  });

  test('dev and staging copy nothing: no second provider, no DR vault, no copy inputs', () => {
    for (const env of ['dev', 'staging']) {
      const synth = synthJson(rdsStack(env));
      expect(synth.provider.aws).toHaveLength(1);
      expect(resourcesOf(synth, 'aws_backup_vault')).toEqual({});
      expect(moduleBlock(rdsStack(env))).not.toHaveProperty('backup_copy_vault_arn');
    }
  });

  test.each([
    [{ disasterRecoveryRegion: 'eu-west-3' }, "disasterRecoveryRegion eu-west-3 is the primary's own region"],
    [{ disasterRecoveryRegion: 'europe' }, "disasterRecoveryRegion 'europe' is not an AWS region name"],
    [
      { disasterRecoveryRegion: 'eu-west-9' },
      "disasterRecoveryRegion 'eu-west-9' is not a region of any AWS partition",
    ],
    [{ region: 'eu-west-9' }, "region 'eu-west-9' is not a region of any AWS partition"],
    [{ region: 'ap-south-2' }, 'no default disaster-recovery region next to ap-south-2; set disasterRecoveryRegion'],
  ])('refuses %j', (props, message) => {
    expect(() => rdsStack('prod', props)).toThrow(message);
  });
});
