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
import { DATABASE_PARAMETERS } from '../../src/rds/parameters';
import { exampleNetwork, exampleRole } from '../../src/rds/emit';
import { AwsStandIn, providerOverride, STAND_IN_ACCOUNT, startAwsStandIn } from '../../scripts/offline/aws-stand-in';
import { describeWithTerraform, offlineModuleCopy, terraform, terraformOk } from '../support/terraform';

const MODULE_DIR = path.resolve(__dirname, '../../modules/rds');
const REGION = 'eu-west-3';
type Env = EnvironmentName;

jest.setTimeout(10 * 60 * 1000);

const DR_VAULT = 'arn:aws:backup:eu-west-1:123456789012:backup-vault:accessweaver-prod-backup-dr';
const DR_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-4987-8a6b-5c4d3e2f1a0b';

/** The backup plan's rules as planned: name, schedule, continuous, retention, copies (vault, retention). */
const BACKUP_RULES: Record<Env, unknown[]> = {
  dev: [{ name: 'daily', schedule: 'cron(0 0 * * ? *)', continuous: false, deleteAfter: 7, copies: [] }],
  staging: [
    { name: 'continuous', schedule: 'cron(0 12 * * ? *)', continuous: true, deleteAfter: 7, copies: [] },
    { name: 'daily', schedule: 'cron(0 0 * * ? *)', continuous: false, deleteAfter: 14, copies: [] },
  ],
  // The prod example passes the DR vault: the daily and monthly points are copied there, kept as long.
  prod: [
    { name: 'continuous', schedule: 'cron(0 12 * * ? *)', continuous: true, deleteAfter: 30, copies: [] },
    { name: 'daily', schedule: 'cron(0 0 * * ? *)', continuous: false, deleteAfter: 35, copies: [[DR_VAULT, 35]] },
    { name: 'monthly', schedule: 'cron(0 0 1 * ? *)', continuous: false, deleteAfter: 365, copies: [[DR_VAULT, 365]] },
  ],
};

interface PlannedChange {
  address: string;
  mode: 'managed' | 'data';
  after: Record<string, any>;
  /** The references of each argument as written in the module (values a plan cannot know yet, such as IDs). */
  references: Record<string, string[]>;
  afterUnknown: Record<string, any>;
}

/** Values each environment's plan must resolve, written out: the environment table is what is under test. */
const PLANNED: Record<
  Env,
  { maxConnections: string; secretRecoveryWindowDays: number; alarmThresholds: Record<string, number>; rules: string[] }
> = {
  dev: {
    maxConnections: '100',
    secretRecoveryWindowDays: 0,
    alarmThresholds: {
      high_connections: 80,
      high_cpu: 90,
      high_disk_queue_depth: 20,
      high_read_latency: 0.02,
      high_replication_slot_disk_usage: 2147483648, // 10% of 20 GiB
      high_transaction_ids: 1000000000,
      high_transaction_logs_disk_usage: 4294967296, // 20% of 20 GiB
      high_write_latency: 0.02,
      'low_cpu_credit_balance[0]': 30, // db.t3.micro is burstable
      low_free_storage: 2147483648, // 10% of 20 GiB
      low_freeable_memory: 107374182.4, // 10% of 1 GiB
    },
    rules: [
      'egress rds_client_to_rds: rds_client tcp 5432-5432 to aws_security_group.rds',
      'ingress rds_from_allowed[0]: rds tcp 5432-5432 from sg-010e0000000000000',
      'ingress rds_from_clients: rds tcp 5432-5432 from aws_security_group.rds_client',
    ],
  },
  staging: {
    maxConnections: '100',
    secretRecoveryWindowDays: 0,
    alarmThresholds: {
      high_connections: 80,
      high_cpu: 90,
      high_disk_queue_depth: 20,
      high_read_latency: 0.02,
      high_replication_slot_disk_usage: 10737418240, // 10% of 100 GiB
      high_transaction_ids: 1000000000,
      high_transaction_logs_disk_usage: 10737418240, // 10% of 100 GiB
      high_write_latency: 0.02,
      'low_cpu_credit_balance[0]': 60, // db.t3.small is burstable
      low_free_storage: 10737418240, // 10% of 100 GiB
      low_freeable_memory: 214748364.8, // 10% of 2 GiB
      'replica_high_cpu[0]': 90,
      'replica_lag[0]': 60,
      'replica_low_free_storage[0]': 10737418240,
      'replica_low_freeable_memory[0]': 214748364.8,
    },
    rules: [
      'egress rds_client_to_rds: rds_client tcp 5432-5432 to aws_security_group.rds',
      'ingress rds_from_allowed[0]: rds tcp 5432-5432 from sg-020e0000000000000',
      'ingress rds_from_clients: rds tcp 5432-5432 from aws_security_group.rds_client',
    ],
  },
  prod: {
    maxConnections: '200',
    secretRecoveryWindowDays: 30,
    alarmThresholds: {
      high_connections: 150,
      high_cpu: 80,
      high_disk_queue_depth: 20,
      high_read_latency: 0.02,
      high_replication_slot_disk_usage: 26843545600, // 5% of 500 GiB
      high_transaction_ids: 1000000000,
      high_transaction_logs_disk_usage: 26843545600, // 5% of 500 GiB
      high_write_latency: 0.02,
      low_free_storage: 53687091200, // 10% of 500 GiB
      low_freeable_memory: 1717986918.4, // 10% of 16 GiB
      'replica_high_cpu[0]': 80,
      'replica_high_cpu[1]': 80,
      'replica_lag[0]': 60,
      'replica_lag[1]': 60,
      'replica_low_free_storage[0]': 53687091200,
      'replica_low_free_storage[1]': 53687091200,
      'replica_low_freeable_memory[0]': 1717986918.4,
      'replica_low_freeable_memory[1]': 1717986918.4,
    },
    rules: [
      'egress rds_client_to_rds: rds_client tcp 5432-5432 to aws_security_group.rds',
      'egress rotation_to_rds[0]: rotation tcp 5432-5432 to aws_security_group.rds',
      'egress rotation_to_secrets_manager[0]: rotation tcp 443-443 to 0.0.0.0/0',
      'ingress rds_from_allowed[0]: rds tcp 5432-5432 from sg-030e0000000000000',
      'ingress rds_from_clients: rds tcp 5432-5432 from aws_security_group.rds_client',
      'ingress rds_from_rotation[0]: rds tcp 5432-5432 from aws_security_group.rotation',
    ],
  },
};

/** Every parameter of the group, as each plan must resolve it (only max_connections differs by environment). */
const plannedParameters = (maxConnections: string) => [
  { name: 'auto_explain.log_min_duration', value: '-1', apply_method: 'immediate' },
  { name: 'checkpoint_completion_target', value: '0.9', apply_method: 'immediate' },
  { name: 'cron.database_name', value: 'accessweaver', apply_method: 'pending-reboot' },
  { name: 'default_statistics_target', value: '100', apply_method: 'immediate' },
  { name: 'effective_cache_size', value: '{DBInstanceClassMemory*3/32768}', apply_method: 'immediate' },
  { name: 'idle_in_transaction_session_timeout', value: '60000', apply_method: 'immediate' },
  { name: 'lock_timeout', value: '5000', apply_method: 'immediate' },
  { name: 'log_error_verbosity', value: 'terse', apply_method: 'immediate' },
  { name: 'log_min_duration_statement', value: '-1', apply_method: 'immediate' },
  { name: 'log_min_error_statement', value: 'panic', apply_method: 'immediate' },
  { name: 'log_parameter_max_length', value: '0', apply_method: 'immediate' },
  { name: 'log_parameter_max_length_on_error', value: '0', apply_method: 'immediate' },
  { name: 'log_statement', value: 'none', apply_method: 'immediate' },
  {
    name: 'maintenance_work_mem',
    value: 'GREATEST({DBInstanceClassMemory/63963136*1024},65536)',
    apply_method: 'immediate',
  },
  { name: 'max_connections', value: maxConnections, apply_method: 'pending-reboot' },
  { name: 'pgaudit.log', value: 'ddl,role', apply_method: 'immediate' },
  { name: 'pgaudit.log_parameter', value: '0', apply_method: 'immediate' },
  { name: 'pgaudit.role', value: 'rds_pgaudit', apply_method: 'immediate' },
  { name: 'rds.force_ssl', value: '1', apply_method: 'immediate' },
  { name: 'rds.restrict_password_commands', value: '1', apply_method: 'pending-reboot' },
  { name: 'row_security', value: 'on', apply_method: 'immediate' },
  { name: 'shared_buffers', value: '{DBInstanceClassMemory/32768}', apply_method: 'pending-reboot' },
  {
    name: 'shared_preload_libraries',
    value: 'pg_stat_statements,auto_explain,pgaudit,pg_cron',
    apply_method: 'pending-reboot',
  },
  { name: 'temp_file_limit', value: '{AllocatedStorage/10240}', apply_method: 'immediate' },
  { name: 'wal_buffers', value: '2048', apply_method: 'pending-reboot' },
];

/** Retention of the exported PostgreSQL logs per environment, in days (the environment table's logRetentionDays). */
const DATABASE_LOG_RETENTION: Record<Env, number> = { dev: 7, staging: 30, prod: 400 };
/** Every change to a secret, as each secret's policy denies it. */
const SECRET_CHANGES = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:RotateSecret',
  'secretsmanager:CancelRotateSecret',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:PutResourcePolicy',
  'secretsmanager:DeleteResourcePolicy',
  'secretsmanager:TagResource',
  'secretsmanager:UntagResource',
  'secretsmanager:ReplicateSecretToRegions',
  'secretsmanager:RemoveRegionsFromReplication',
  'secretsmanager:StopReplicationToReplica',
];

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

  /** The module's configured arguments, as the plan records them (values Terraform only knows at apply). */
  let configuration: Record<string, Record<string, any>> = {};

  async function plan(dir: string): Promise<PlannedChange[]> {
    await terraformOk(dir, ['plan', '-input=false', '-out=plan.bin']);
    const shown = JSON.parse(await terraformOk(dir, ['show', '-json', 'plan.bin']));
    configuration = Object.fromEntries(
      shown.configuration.root_module.module_calls.rds.module.resources.map((r: any) => [r.address, r.expressions]),
    );
    const written = new Map<string, Record<string, { references?: string[] }>>(Object.entries(configuration));
    return shown.resource_changes.map((rc: any) => {
      const expressions = written.get(rc.address.replace(/^module\.rds\./, '').replace(/\[[^\]]+\]$/, '')) ?? {};
      const references = Object.fromEntries(
        Object.entries(expressions).map(([argument, expression]) => [argument, expression.references ?? []]),
      );
      return {
        address: rc.address,
        mode: rc.mode,
        after: rc.change.after ?? {},
        afterUnknown: rc.change.after_unknown ?? {},
        references,
      };
    });
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

    test('replica alarms watch their own replica', () => {
      const replicaCpu = changes.filter((c) =>
        c.address.startsWith('module.rds.aws_cloudwatch_metric_alarm.replica_high_cpu['),
      );
      expect(replicaCpu.map((c) => c.after.dimensions)).toEqual(
        Array.from({ length: replicaCount }, (_, i) => ({
          DBInstanceIdentifier: `accessweaver-${env}-replica-${i + 1}`,
        })),
      );
    });

    test('credential rotation only in prod', () => {
      const rotations = changes.filter((c) => c.address.includes('aws_secretsmanager_secret_rotation'));
      expect(rotations).toHaveLength(env === 'prod' ? 2 : 0);
    });

    test('the parameter group: every value, and max_connections from the table', () => {
      const parameters = find(changes, 'module.rds.aws_db_parameter_group.main').parameter;
      expect([...parameters].sort((a: any, b: any) => a.name.localeCompare(b.name))).toEqual(
        plannedParameters(PLANNED[env].maxConnections),
      );
    });

    test('both credential secrets stay recoverable for the recovery window of the table', () => {
      expect(
        ['app_credentials', 'readonly_credentials'].map(
          (name) => find(changes, `module.rds.aws_secretsmanager_secret.${name}`).recovery_window_in_days,
        ),
      ).toEqual([PLANNED[env].secretRecoveryWindowDays, PLANNED[env].secretRecoveryWindowDays]);
    });

    test('every alarm threshold', () => {
      const prefix = 'module.rds.aws_cloudwatch_metric_alarm.';
      const alarms = changes.filter((c) => c.address.startsWith(prefix));
      expect(Object.fromEntries(alarms.map((c) => [c.address.slice(prefix.length), c.after.threshold]))).toEqual(
        PLANNED[env].alarmThresholds,
      );
    });

    // A group created by the plan has no ID yet: a rule names it by the reference the module writes.
    test('every security-group rule: group, protocol, ports and peer', () => {
      const group = (change: PlannedChange, argument: string) =>
        change.after[argument] ?? change.references[argument]?.[1]?.replace(/\[\d+\]$/, '');
      const rules = changes
        .map((c) => ({ c, match: /^module\.rds\.aws_vpc_security_group_(ingress|egress)_rule\.(.+)$/.exec(c.address) }))
        .filter(({ match }) => match)
        .map(({ c, match }) => {
          const [, direction, name] = match!;
          const peer = c.after.cidr_ipv4 ?? group(c, 'referenced_security_group_id');
          const owner = group(c, 'security_group_id').replace(/^aws_security_group\./, '');
          const { ip_protocol, from_port, to_port } = c.after;
          const toOrFrom = direction === 'ingress' ? 'from' : 'to';
          return `${direction} ${name}: ${owner} ${ip_protocol} ${from_port}-${to_port} ${toOrFrom} ${peer}`;
        });
      expect(rules.sort()).toEqual(PLANNED[env].rules);
      expect(find(changes, 'module.rds.aws_security_group.rds').egress).toEqual([]);
    });

    const ACCOUNT = `arn:aws:iam::${STAND_IN_ACCOUNT}`;
    const callerTags = {
      Backup: env === 'prod' ? 'critical' : 'standard',
      Monitoring: env === 'dev' ? 'basic' : 'enhanced',
    };

    test("the caller's tags win on every taggable resource; Name, Project and Environment stay the module's", () => {
      const tagged = changes.filter((c) => c.mode === 'managed' && 'tags' in c.after);
      expect(tagged.length).toBeGreaterThan(20);
      for (const change of tagged) {
        expect({ address: change.address, tags: change.after.tags }).toEqual({
          address: change.address,
          tags: expect.objectContaining({
            ...callerTags,
            Project: 'accessweaver',
            Environment: env,
            ManagedBy: 'terraform',
            Name: expect.stringMatching(new RegExp(`^accessweaver-${env}-`)),
          }),
        });
      }
      expect(find(changes, 'module.rds.aws_db_instance.main').tags).toEqual({
        ...callerTags,
        Project: 'accessweaver',
        Environment: env,
        ManagedBy: 'terraform',
        Name: `accessweaver-${env}-primary`,
      });
    });

    test(
      'AWS Backup: a vault under the module key, the ' +
        "table's rules, the primary selected (Security Hub " +
        'RDS.26)',
      () => {
        expect(find(changes, 'module.rds.aws_backup_vault.main')).toMatchObject({
          name: `accessweaver-${env}-backup`,
          force_destroy: env !== 'prod',
        });
        const plan = find(changes, 'module.rds.aws_backup_plan.main');
        expect(plan.name).toBe(`accessweaver-${env}-backup-plan`);
        const rules = [...plan.rule]
          .sort((a: any, b: any) => a.rule_name.localeCompare(b.rule_name))
          .map((rule: any) => ({
            name: rule.rule_name,
            schedule: rule.schedule,
            continuous: rule.enable_continuous_backup,
            deleteAfter: rule.lifecycle[0].delete_after,
            copies: rule.copy_action.map((copy: any) => [copy.destination_vault_arn, copy.lifecycle[0].delete_after]),
          }));
        expect(rules).toEqual(BACKUP_RULES[env]);
        expect(plan.rule.map((rule: any) => rule.target_vault_name)).toEqual(
          plan.rule.map(() => `accessweaver-${env}-backup`),
        );
        expect(find(changes, 'module.rds.aws_backup_selection.primary')).toMatchObject({
          name: `accessweaver-${env}-primary`,
        });
      },
    );

    test("the backup role has AWS's managed backup and restore policies; the DR key policy only with a DR key", () => {
      expect(find(changes, 'module.rds.aws_iam_role.backup').name).toBe(`accessweaver-${env}-backup-role`);
      const attached = changes
        .filter((c) => c.address.startsWith('module.rds.aws_iam_role_policy_attachment.backup'))
        .map((c) => c.after.policy_arn)
        .sort();
      expect(attached).toEqual([
        'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup',
        'arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores',
      ]);
      const keyPolicies = changes.filter((c) => c.address.startsWith('module.rds.aws_iam_role_policy.backup_copy_key'));
      expect(keyPolicies.map((c) => JSON.parse(c.after.policy).Statement[0].Resource)).toEqual(
        env === 'prod' ? [DR_KEY] : [],
      );
    });

    test('IAM database authentication is on on every instance', () => {
      const instances = changes.filter((c) => c.address.startsWith('module.rds.aws_db_instance.'));
      expect(instances.map((i) => [i.address, i.after.iam_database_authentication_enabled])).toEqual(
        [
          'module.rds.aws_db_instance.main',
          ...Array.from({ length: replicaCount }, (_, i) => `module.rds.aws_db_instance.replica[${i}]`),
        ].map((address) => [address, true]),
      );
    });

    /**
     * The statements of the key policy: rendered at plan, or (prod) the base the key is created with, rendered at
     * plan, followed by the documents naming the rotation role and the key users, read at apply.
     */
    function keyPolicyStatements(): { sid: string; principals: unknown }[] {
      const attached = find(changes, 'module.rds.aws_kms_key_policy.rds');
      if (typeof attached.policy === 'string') {
        return JSON.parse(attached.policy).Statement.map((s: any) => ({ sid: s.Sid, principals: s.Principal }));
      }
      const base = JSON.parse(find(changes, 'module.rds.aws_kms_key.rds').policy).Statement.map((s: any) => ({
        sid: s.Sid,
        principals: Object.entries(s.Principal).map(([type, ids]) => ({ type, identifiers: [ids].flat().sort() })),
      }));
      return base.concat(
        changes
          .filter((c) => /data\.aws_iam_policy_document\.rds_key_(rotation_function|users)/.test(c.address))
          .flatMap((c) => c.after.statement.map((s: any) => ({ sid: s.sid, principals: s.principals }))),
      );
    }

    test('no statement of the key policy has a wildcard principal; each names who may use the key', () => {
      const statements = keyPolicyStatements();
      expect(JSON.stringify(statements.map((s) => s.principals))).not.toContain('"*"');
      if (env === 'prod') {
        expect(statements).toEqual([
          {
            sid: 'AccountAdministersKeyThroughIam',
            principals: [{ type: 'AWS', identifiers: [`${ACCOUNT}:root`] }],
          },
          {
            sid: 'AlarmsAndEventsPublishToEncryptedTopic',
            principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com', 'events.rds.amazonaws.com'] }],
          },
          {
            sid: 'CloudWatchLogsEncryptsDatabaseLogGroups',
            principals: [{ type: 'Service', identifiers: ['logs.eu-west-3.amazonaws.com'] }],
          },
          // The rotation function's role: known once its stack exists.
          { sid: 'RotationFunctionUsesKeyThroughSecretsManager', principals: [{ type: 'AWS', identifiers: [null] }] },
        ]);
      } else {
        expect(statements).toEqual([
          { sid: 'AccountAdministersKeyThroughIam', principals: { AWS: `${ACCOUNT}:root` } },
          {
            sid: 'AlarmsAndEventsPublishToEncryptedTopic',
            principals: { Service: ['events.rds.amazonaws.com', 'cloudwatch.amazonaws.com'] },
          },
          { sid: 'CloudWatchLogsEncryptsDatabaseLogGroups', principals: { Service: 'logs.eu-west-3.amazonaws.com' } },
        ]);
      }
    });

    test('each secret has a resource policy: its named readers read it, only the deployer and root change it', () => {
      const readers = {
        app_credentials: [exampleRole(env, 'auth-service-execution'), exampleRole(env, 'database-setup')],
        readonly_credentials: [exampleRole(env, 'pdp-service-execution'), exampleRole(env, 'database-setup')],
        tenant_context_key: [exampleRole(env, 'auth-service-execution'), exampleRole(env, 'database-setup')],
      };
      // Always allowed: the rotation function (prod, for the secrets it rotates; its role is known at apply), the
      // account's root user, and the identity applying the module (the stand-in's user).
      const always = [`${ACCOUNT}:root`, `${ACCOUNT}:user/offline`];
      for (const [secret, named] of Object.entries(readers)) {
        const rotated = env === 'prod' && secret !== 'tenant_context_key';
        const writers = [...(rotated ? [null] : []), ...always];
        const attached = find(changes, `module.rds.aws_secretsmanager_secret_policy.${secret}`);
        // Actions are a set: the plan and the policy JSON list them in an order of their own.
        const sorted = (s: any) => {
          if (Array.isArray(s.Action)) return { ...s, Action: [...s.Action].sort() };
          return Array.isArray(s.actions) ? { ...s, actions: [...s.actions].sort() } : s;
        };
        const statement = (
          typeof attached.policy === 'string'
            ? JSON.parse(attached.policy).Statement
            : find(changes, `module.rds.data.aws_iam_policy_document.${secret}_policy`).statement
        ).map(sorted);
        const deny = (sid: string, actions: string | string[], allowed: (string | null)[]) =>
          typeof attached.policy === 'string'
            ? {
                Sid: sid,
                Effect: 'Deny',
                Principal: '*',
                Action: actions,
                Resource: '*',
                Condition: { ArnNotLike: { 'aws:PrincipalArn': allowed } },
              }
            : expect.objectContaining({
                sid,
                effect: 'Deny',
                actions: [actions].flat(),
                condition: [{ test: 'ArnNotLike', variable: 'aws:PrincipalArn', values: allowed }],
              });
        expect({ secret, statement }).toEqual({
          secret,
          statement: [
            deny('OnlyNamedPrincipalsRead', 'secretsmanager:GetSecretValue', [...named, ...writers]),
            deny('OnlyDeployerRotationAndRootChange', [...SECRET_CHANGES].sort(), writers),
          ],
        });
        expect(attached.block_public_policy).toBe(true);
      }
    });

    test('parameter-group and DB security-group events reach the alarm topic (RDS.21, RDS.22)', () => {
      expect(find(changes, 'module.rds.aws_db_event_subscription.parameter_group')).toMatchObject({
        name: `accessweaver-${env}-rds-parameter-group-events`,
        source_type: 'db-parameter-group',
        source_ids: [`accessweaver-${env}-pg-params`],
        event_categories: ['configuration change'],
      });
      expect(find(changes, 'module.rds.aws_db_event_subscription.security_group')).toMatchObject({
        name: `accessweaver-${env}-rds-security-group-events`,
        source_type: 'db-security-group',
        event_categories: ['configuration change', 'failure'],
      });
    });

    test('the rotation guard policy exists exactly where the rotation function does', () => {
      const guards = changes.filter((c) =>
        c.address.startsWith('module.rds.data.aws_iam_policy_document.rotation_guard'),
      );
      expect(guards.map((g) => g.address)).toEqual(
        env === 'prod' ? ['module.rds.data.aws_iam_policy_document.rotation_guard[0]'] : [],
      );
    });

    test('the Database Insights mode and the lifecycle after standard support are explicit', () => {
      expect(find(changes, 'module.rds.aws_db_instance.main')).toMatchObject({
        database_insights_mode: env === 'prod' ? 'advanced' : 'standard',
        engine_lifecycle_support: 'open-source-rds-extended-support',
      });
    });

    if (env === 'prod') {
      test('multi-user rotation, pinned, with the RDS-managed master secret as superuser secret', () => {
        const application = find(
          changes,
          'module.rds.aws_serverlessapplicationrepository_cloudformation_stack.rotation[0]',
        );
        expect([application.application_id, application.semantic_version]).toEqual([
          'arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerRDSPostgreSQLRotationMultiUser',
          '1.1.692',
        ]);
        // Parameters hold ARNs known at apply; the plan records what they are made of.
        const parameters =
          configuration['aws_serverlessapplicationrepository_cloudformation_stack.rotation'].parameters;
        expect(parameters.constant_value).toMatchObject({
          masterSecretArn: '${aws_db_instance.main.master_user_secret[0].secret_arn}',
          masterSecretKmsKeyArn: '${aws_kms_key.rds.arn}',
        });
        for (const secret of ['app_credentials', 'readonly_credentials']) {
          expect(find(changes, `module.rds.aws_secretsmanager_secret_rotation.${secret}[0]`)).toMatchObject({
            rotate_immediately: false,
            rotation_rules: [{ automatically_after_days: 30 }],
          });
        }
      });
    }
    test('a log group per instance and exported log, encrypted with the module key, kept per the table', () => {
      const groups = changes.filter((c) => c.address.startsWith('module.rds.aws_cloudwatch_log_group.rds['));
      const identifiers = [
        `accessweaver-${env}-primary`,
        ...Array.from({ length: replicaCount }, (_, i) => `accessweaver-${env}-replica-${i + 1}`),
      ];
      expect(groups.map((g) => g.after.name).sort()).toEqual(
        identifiers.flatMap((id) => [`/aws/rds/instance/${id}/postgresql`, `/aws/rds/instance/${id}/upgrade`]).sort(),
      );
      expect(groups.map((g) => ({ retention: g.after.retention_in_days, key: g.references.kms_key_id?.[0] }))).toEqual(
        groups.map(() => ({ retention: DATABASE_LOG_RETENTION[env], key: 'aws_kms_key.rds.arn' })),
      );
      expect(DATABASE_LOG_RETENTION.prod).toBeGreaterThanOrEqual(365);
    });

    test('CloudWatch Logs may use the key, by its regional service principal (scoped in the construct test)', () => {
      const statement = keyPolicyStatements().find((s) => s.sid === 'CloudWatchLogsEncryptsDatabaseLogGroups');
      expect(JSON.stringify(statement?.principals)).toContain('logs.eu-west-3.amazonaws.com');
    });

    test("the data sources called nothing but the stand-in's two APIs", () => {
      expect(standIn.unexpected).toEqual([]);
    });
  });

  describe('a caller overriding the instance class, the storage and a static parameter', () => {
    let changes: PlannedChange[];

    beforeAll(async () => {
      const dir = await prepare('staging');
      const overrideFile = path.join(dir, 'caller_override.tf');
      writeFileSync(
        overrideFile,
        `module "rds" {
  instance_overrides = { instance_class = "db.r6g.xlarge", allocated_storage = 200, max_allocated_storage = 1000 }
  apply_immediately  = true
  parameters = [
    { name = "max_wal_senders", value = "20" },
    { name = "work_mem", value = "16384" },
    { name = "log_min_duration_statement", value = "500" },
  ]
}
`,
      );
      try {
        changes = await plan(dir);
      } finally {
        rmSync(overrideFile, { force: true });
      }
    });

    test('the primary and the replica take the overrides; the rest of the staging row stays', () => {
      for (const address of ['module.rds.aws_db_instance.main', 'module.rds.aws_db_instance.replica[0]']) {
        expect({ address, ...find(changes, address) }).toMatchObject({
          address,
          instance_class: 'db.r6g.xlarge',
          max_allocated_storage: 1000,
          apply_immediately: true,
        });
      }
      expect(find(changes, 'module.rds.aws_db_instance.main')).toMatchObject({
        allocated_storage: 200,
        storage_type: 'gp3',
        multi_az: true,
        backup_retention_period: 7,
      });
    });

    test("the memory alarms follow the overriding class's 32 GiB, the storage alarm its 200 GiB", () => {
      expect(find(changes, 'module.rds.aws_cloudwatch_metric_alarm.low_freeable_memory').threshold).toBe(3435973836.8);
      expect(find(changes, 'module.rds.aws_cloudwatch_metric_alarm.replica_low_freeable_memory[0]').threshold).toBe(
        3435973836.8,
      );
      expect(find(changes, 'module.rds.aws_cloudwatch_metric_alarm.low_free_storage').threshold).toBe(21474836480);
    });

    test('db.r6g.xlarge is not burstable: no CPU-credit alarm', () => {
      expect(changes.filter((c) => c.address.includes('low_cpu_credit_balance'))).toEqual([]);
    });

    test('the static parameter is pending-reboot; the others immediate; a caller entry replaces the module one', () => {
      const entries = find(changes, 'module.rds.aws_db_parameter_group.main').parameter as {
        name: string;
        value: string;
        apply_method: string;
      }[];
      const byName = (name: string) => entries.filter((p) => p.name === name);
      expect(byName('max_wal_senders')).toEqual([
        { name: 'max_wal_senders', value: '20', apply_method: 'pending-reboot' },
      ]);
      expect(byName('work_mem')).toEqual([{ name: 'work_mem', value: '16384', apply_method: 'immediate' }]);
      expect(byName('log_min_duration_statement')).toEqual([
        { name: 'log_min_duration_statement', value: '500', apply_method: 'immediate' },
      ]);
      expect(byName('max_connections')).toEqual([
        { name: 'max_connections', value: '100', apply_method: 'pending-reboot' },
      ]);
      expect(entries).toHaveLength(DATABASE_PARAMETERS.length + 2); // the module's, and two of the caller's
    });
  });

  describe('a caller choosing the major version, or creating the database from a snapshot or a point in time', () => {
    const planned: Record<string, PlannedChange[]> = {};
    const callers = {
      upgrade: 'engine_major_version = "16"\n  allow_major_version_upgrade = true',
      snapshot: 'snapshot_identifier = "accessweaver-dev-final-0a1b2c3d"',
      pointInTime:
        'restore_to_point_in_time = { source_identifier = "accessweaver-dev-primary", ' +
        'restore_time = "2026-12-06T10:15:00Z" }',
    };

    beforeAll(async () => {
      const dir = await prepare('dev');
      for (const [name, body] of Object.entries(callers)) {
        const overrideFile = path.join(dir, 'caller_override.tf');
        writeFileSync(overrideFile, `module "rds" {\n  ${body}\n}\n`);
        try {
          planned[name] = await plan(dir);
        } finally {
          rmSync(overrideFile, { force: true });
        }
      }
    });

    test('PostgreSQL 16: the primary, its postgres16 parameter group of its own name, the upgrade allowed', () => {
      expect(find(planned.upgrade!, 'module.rds.aws_db_instance.main')).toMatchObject({
        engine_version: '16',
        allow_major_version_upgrade: true,
        parameter_group_name: 'accessweaver-dev-pg16-params',
      });
      expect(find(planned.upgrade!, 'module.rds.aws_db_parameter_group.main')).toMatchObject({
        family: 'postgres16',
        name: 'accessweaver-dev-pg16-params',
      });
    });

    test('from a snapshot: the primary names it, with no point-in-time restore', () => {
      expect(find(planned.snapshot!, 'module.rds.aws_db_instance.main')).toMatchObject({
        snapshot_identifier: 'accessweaver-dev-final-0a1b2c3d',
        restore_to_point_in_time: [],
      });
    });

    test("from a point in time: the primary's restore block names the source and the time", () => {
      const primary = find(planned.pointInTime!, 'module.rds.aws_db_instance.main');
      expect(primary.snapshot_identifier ?? null).toBeNull();
      expect(primary).toMatchObject({
        restore_to_point_in_time: [
          {
            source_db_instance_identifier: 'accessweaver-dev-primary',
            source_dbi_resource_id: null,
            restore_time: '2026-12-06T10:15:00Z',
            use_latest_restorable_time: null,
          },
        ],
      });
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

    test('a backup copy vault that is not a vault ARN', async () => {
      expect(await planWith('prod', { backup_copy_vault_arn: '"arn:aws:s3:::accessweaver-dr"' })).toContain(
        'backup_copy_vault_arn must be a backup vault ARN',
      );
    });

    test('malformed backup window', async () => {
      expect(await planWith('dev', { backup_window: '"3am-4am"' })).toContain('backup_window must be hh24:mi-hh24:mi');
    });

    test('an instance class outside the catalogue, named', async () => {
      expect(await planWith('dev', { instance_overrides: '{ instance_class = "db.x9.huge" }' })).toContain(
        'instance_overrides.instance_class must be one of db.t3.micro, db.t3.small',
      );
    });

    test('a replica count out of range, named', async () => {
      expect(await planWith('dev', { instance_overrides: '{ replica_count = 9 }' })).toContain(
        'instance_overrides.replica_count must be a whole number from 0 to 5.',
      );
    });

    test("Database Insights' advanced mode without 465 days of Performance Insights", async () => {
      expect(await planWith('staging', { instance_overrides: '{ database_insights_mode = "advanced" }' })).toContain(
        'database_insights_mode "advanced" needs Performance Insights retention of at least 465 days.',
      );
    });

    test('a static parameter applied immediately', async () => {
      expect(
        await planWith('dev', {
          parameters: '[{ name = "shared_buffers", value = "1024", apply_method = "immediate" }]',
        }),
      ).toContain('parameters: static parameters');
    });

    test('a major version RDS does not run here', async () => {
      expect(await planWith('dev', { engine_major_version: '"14"' })).toContain(
        'engine_major_version must be one of 15, 16, 17.',
      );
    });

    test('a snapshot and a point in time together', async () => {
      expect(
        await planWith('dev', {
          snapshot_identifier: '"accessweaver-dev-final-0a1b2c3d"',
          restore_to_point_in_time:
            '{ source_identifier = "accessweaver-dev-primary", use_latest_restorable_time = true }',
        }),
      ).toContain('snapshot_identifier and restore_to_point_in_time are exclusive');
    });

    test('a point in time without its time', async () => {
      expect(
        await planWith('dev', { restore_to_point_in_time: '{ source_identifier = "accessweaver-dev-primary" }' }),
      ).toContain('restore_to_point_in_time needs exactly one of restore_time and use_latest_restorable_time');
    });

    test('network ACL without a VPC CIDR', async () => {
      expect(await planWith('dev', { enable_network_acl: 'true' })).toContain('enable_network_acl needs vpc_cidr');
    });
  });
});
