import path from 'node:path';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { applyMethodOf, DATABASE_PARAMETERS, STATIC_PARAMETERS } from '../../src/rds/parameters';
import { moduleFiles, synthesizeModuleDocument } from '../../src/rds/emit';
import { MODULE_OUTPUTS, MODULE_VARIABLES } from '../../src/rds/module-stack';
import { adminUrl } from '../support/database';
import { DatabaseSizing, ENVIRONMENT_CONFIGS, ENVIRONMENTS, SIZING_ATTRIBUTES } from '../../src/config/environments';

const MODULE_DIR = path.resolve(__dirname, '../../modules/rds');
const doc = synthesizeModuleDocument();
const resource = (type: string, name: string) => {
  const found = doc.resource?.[type]?.[name];
  if (!found) throw new Error(`no ${type}.${name} in the module`);
  return found;
};
/** The document a `${jsonencode(local.<name>)}` argument encodes, as the module's local writes it. */
const encoded = (argument: string) => {
  const name = /^\$\{jsonencode\(local\.([a-z_]+)\)\}$/.exec(argument)?.[1];
  if (!name || !(name in doc.locals)) throw new Error(`${argument} does not encode a local of the module`);
  return doc.locals[name];
};
/** An expression with each local it names written out as JSON (what the condition compares against). */
const withLocals = (expression: string) =>
  expression.replace(/local\.([a-z_]+)/g, (text, name) =>
    name in doc.locals ? JSON.stringify(doc.locals[name]) : text,
  );
/** A module parameter as the group applies it: its value, and the apply method the module gives its name. */
const parameter = (name: string) => {
  const found = DATABASE_PARAMETERS.find((p) => p.name === name);
  if (!found) throw new Error(`no parameter ${name} in the module`);
  return { value: found.value, apply_method: applyMethodOf(name) };
};

describe('the emitted module', () => {
  test('the committed modules/rds is exactly what the constructs generate (run `npm run modules`)', () => {
    for (const [relative, content] of Object.entries(moduleFiles(doc))) {
      expect({ file: relative, content: readFileSync(path.join(MODULE_DIR, relative), 'utf8') }).toEqual({
        file: relative,
        content,
      });
    }
  });

  test('configures no provider and no backend', () => {
    expect(doc.provider).toBeUndefined();
    expect(doc.terraform.backend).toBeUndefined();
  });

  test('requires providers by version range', () => {
    expect(doc.terraform.required_providers).toEqual({
      aws: { source: 'hashicorp/aws', version: '>= 5.100.0, < 7.0.0' },
      random: { source: 'hashicorp/random', version: '~> 3.6' },
    });
  });

  test('keeps the original module inputs, and every added input has a default', () => {
    const original = [
      'project_name',
      'environment',
      'vpc_id',
      'private_subnet_ids',
      'allowed_security_groups',
      'backup_window',
      'maintenance_window',
      'tags',
    ];
    expect(Object.keys(doc.variable)).toEqual(expect.arrayContaining(original));
    const added = Object.keys(doc.variable).filter((name) => !original.includes(name));
    expect(added.length).toBeGreaterThan(0);
    for (const name of added)
      expect({ name, hasDefault: 'default' in doc.variable[name] }).toEqual({ name, hasDefault: true });
  });

  test('describes and types every input', () => {
    for (const [name, variable] of Object.entries<any>(doc.variable)) {
      expect({ name, description: typeof variable.description, type: typeof variable.type }).toEqual({
        name,
        description: 'string',
        type: 'string',
      });
    }
  });

  test('rejects an unknown environment with the original message', () => {
    expect(doc.variable.environment.validation).toEqual([
      {
        condition: '${contains(["dev", "staging", "prod"], var.environment)}',
        error_message: 'Environment must be dev, staging, or prod.',
      },
    ]);
  });

  test('exposes the eleven original outputs under their names', () => {
    const original = [
      'primary_endpoint',
      'primary_address',
      'replica_endpoints',
      'database_name',
      'database_port',
      'security_group_id',
      'security_group_client_id',
      'secret_arn',
      'kms_key_id',
      'instance_id',
      'instance_resource_id',
    ];
    expect(Object.keys(doc.output)).toEqual(expect.arrayContaining(original));
    expect(Object.keys(doc.output)).toHaveLength(MODULE_OUTPUTS.length);
  });

  test('keeps the original resource addresses, so existing state maps without moved blocks', () => {
    const addresses = Object.entries<Record<string, unknown>>(doc.resource).flatMap(([type, byName]) =>
      Object.keys(byName).map((name) => `${type}.${name}`),
    );
    expect(addresses).toEqual(
      expect.arrayContaining([
        'aws_db_instance.main',
        'aws_db_instance.replica',
        'aws_db_subnet_group.main',
        'aws_db_parameter_group.main',
        'aws_security_group.rds',
        'aws_security_group.rds_client',
        'aws_kms_key.rds',
        'aws_kms_alias.rds',
        'aws_iam_role.rds_enhanced_monitoring',
        'aws_iam_role_policy_attachment.rds_enhanced_monitoring',
        'aws_secretsmanager_secret.app_credentials',
        'aws_secretsmanager_secret.readonly_credentials',
        'aws_cloudwatch_dashboard.rds',
        'aws_cloudwatch_metric_alarm.high_cpu',
        'aws_cloudwatch_metric_alarm.high_connections',
      ]),
    );
    expect(resource('aws_db_instance', 'replica').count).toBe('${local.config.replica_count}');
  });

  test("every field of every environment's row reaches local.instance_configs, under the module's attribute", () => {
    const fields = Object.entries(SIZING_ATTRIBUTES) as [keyof DatabaseSizing, string][];
    for (const environment of ENVIRONMENTS) {
      const row = ENVIRONMENT_CONFIGS[environment].database;
      expect({ environment, row: doc.locals.instance_configs[environment] }).toEqual({
        environment,
        row: Object.fromEntries(fields.map(([field, attribute]) => [attribute, row[field]])),
      });
    }
    expect(Object.keys(doc.locals.instance_configs).sort()).toEqual([...ENVIRONMENTS].sort());
    expect(doc.locals.config).toMatch(/^\$\{merge\(local\.instance_configs\[local\.environment\], /);
    expect(doc.locals.environment).toBe('${var.environment}');
  });

  test('the primary reads its sizing from local.config, never a literal class or an environment test', () => {
    const primary = JSON.stringify(resource('aws_db_instance', 'main'));
    expect(primary).not.toMatch(/db\.(t3|r6g)\./);
    expect(primary).not.toMatch(/var\.environment\s*==/);
    expect(resource('aws_db_instance', 'main').instance_class).toBe('${local.config.instance_class}');
  });
});

describe('defects of the original design, fixed', () => {
  test.each(['shared_preload_libraries', 'max_connections', 'shared_buffers', 'wal_buffers'])(
    'static parameter %s applies at the next reboot',
    (name) => {
      expect(parameter(name).apply_method).toBe('pending-reboot');
    },
  );

  test('memory parameters are integers or RDS formulas in engine units, never "256MB"-style strings', () => {
    for (const name of ['shared_buffers', 'effective_cache_size', 'maintenance_work_mem', 'wal_buffers']) {
      expect({ name, value: parameter(name).value }).toEqual({
        name,
        value: expect.stringMatching(/^(\d+|\{DBInstanceClassMemory[*/\d]+\}|GREATEST\(.*\))$/),
      });
    }
    expect(parameter('shared_buffers').value).toBe('{DBInstanceClassMemory/32768}');
  });

  test('the parameter group forces TLS', () => {
    expect(parameter('rds.force_ssl').value).toBe('1');
  });

  test('the final snapshot name is deterministic: a stored random suffix, not timestamp()', () => {
    const primary = resource('aws_db_instance', 'main');
    expect(primary.final_snapshot_identifier).not.toMatch(/timestamp\(\)/);
    expect(primary.final_snapshot_identifier).toContain('random_id.final_snapshot.hex');
    expect(resource('random_id', 'final_snapshot').keepers).toEqual({ identifier: '${local.name_prefix}-primary' });
  });

  test('pins the major version (15 unless the caller says) and lets RDS apply minor versions everywhere', () => {
    const primary = resource('aws_db_instance', 'main');
    expect(doc.variable.engine_major_version.default).toBe('15');
    expect(primary.engine_version).toBe('${var.engine_major_version}');
    expect(primary.auto_minor_version_upgrade).toBe(true);
    expect(resource('aws_db_parameter_group', 'main').family).toBe('postgres${var.engine_major_version}');
  });

  test('upgrades a major version only when the caller allows it', () => {
    expect(doc.variable.allow_major_version_upgrade.default).toBe(false);
    expect(resource('aws_db_instance', 'main').allow_major_version_upgrade).toBe(
      '${local.allow_major_version_upgrade}',
    );
    expect(doc.locals.allow_major_version_upgrade).toBe('${var.allow_major_version_upgrade}');
  });

  test('the restore inputs reach the primary only, and a restored primary never plans a replacement for them', () => {
    const primary = resource('aws_db_instance', 'main');
    expect(primary.snapshot_identifier).toBe('${local.snapshot_identifier}');
    expect(primary.dynamic.restore_to_point_in_time.for_each).toBe(
      '${local.restore_to_point_in_time == null ? [] : [local.restore_to_point_in_time]}',
    );
    expect(primary.lifecycle.ignore_changes).toEqual(['snapshot_identifier', 'restore_to_point_in_time']);
    const replica = resource('aws_db_instance', 'replica');
    expect([replica.snapshot_identifier, replica.dynamic?.restore_to_point_in_time]).toEqual([undefined, undefined]);
  });

  test("instance_arn is the primary's ARN", () => {
    expect(doc.output.instance_arn.value).toBe('${aws_db_instance.main.arn}');
  });

  test(
    'the KMS key policy is an aws_kms_key_policy (no key_policy argument), the key is born with its base, and ' +
      'it rotates',
    () => {
      const key = resource('aws_kms_key', 'rds');
      expect(resource('aws_kms_key_policy', 'rds')).toEqual({
        key_id: '${aws_kms_key.rds.key_id}',
        policy: '${data.aws_iam_policy_document.rds_key_policy.json}',
      });
      expect([key.policy, key.lifecycle, key.key_policy]).toEqual([
        '${data.aws_iam_policy_document.rds_key_base_policy.json}',
        { ignore_changes: ['policy'] },
        undefined,
      ]);
      expect(key.enable_key_rotation).toBe(true);
    },
  );

  test('the master password is RDS-managed and encrypted with the module key', () => {
    const primary = resource('aws_db_instance', 'main');
    expect(primary.manage_master_user_password).toBe(true);
    expect(primary.master_user_secret_kms_key_id).toBe('${aws_kms_key.rds.arn}');
    expect(primary.password).toBeUndefined();
    expect(doc.output.secret_arn.value).toBe('${aws_db_instance.main.master_user_secret[0].secret_arn}');
  });

  test('the credential secrets use passwords the module defines', () => {
    expect(encoded(resource('aws_secretsmanager_secret_version', 'app_credentials').secret_string).password).toBe(
      '${random_password.app_password.result}',
    );
    expect(encoded(resource('aws_secretsmanager_secret_version', 'readonly_credentials').secret_string).password).toBe(
      '${random_password.readonly_password.result}',
    );
    expect(resource('random_password', 'app_password').length).toBe(32);
  });

  test('the read-only secret lists every reader host', () => {
    expect(encoded(resource('aws_secretsmanager_secret_version', 'readonly_credentials').secret_string).hosts).toBe(
      '${concat([aws_db_instance.main.address], aws_db_instance.replica[*].address)}',
    );
  });

  test('rotation uses a rotation function the module deploys, every 30 days, where the table asks for it', () => {
    const rotation = resource('aws_secretsmanager_secret_rotation', 'app_credentials');
    expect(rotation.rotation_lambda_arn).toBe(
      '${aws_serverlessapplicationrepository_cloudformation_stack.rotation[0].outputs.RotationLambdaARN}',
    );
    expect(rotation.rotation_rules).toEqual({ automatically_after_days: 30 });
    expect(rotation.count).toBe('${local.config.rotate_credentials ? 1 : 0}');
    expect(resource('aws_secretsmanager_secret_rotation', 'readonly_credentials').count).toBe(rotation.count);
    const application = resource('aws_serverlessapplicationrepository_cloudformation_stack', 'rotation');
    expect([application.application_id, application.semantic_version]).toEqual([
      'arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerRDSPostgreSQLRotationMultiUser',
      '1.1.692',
    ]);
  });

  test('multi-user rotation uses the RDS-managed master secret as its superuser secret', () => {
    const application = resource('aws_serverlessapplicationrepository_cloudformation_stack', 'rotation');
    expect(application.parameters).toMatchObject({
      masterSecretArn: '${aws_db_instance.main.master_user_secret[0].secret_arn}',
      masterSecretKmsKeyArn: '${aws_kms_key.rds.arn}',
    });
    for (const secret of ['app_credentials', 'readonly_credentials']) {
      expect(encoded(resource('aws_secretsmanager_secret_version', secret).secret_string).masterarn).toBe(
        '${aws_db_instance.main.master_user_secret[0].secret_arn}',
      );
    }
  });

  test('alarms go to a topic the module defines, encrypted, unless the caller passes one', () => {
    const topic = resource('aws_sns_topic', 'alerts');
    expect(topic.count).toBe('${local.alarm_topic_arn_input == null ? 1 : 0}');
    expect(topic.kms_master_key_id).toBe('${aws_kms_key.rds.arn}');
    expect(resource('aws_cloudwatch_metric_alarm', 'high_cpu').alarm_actions).toEqual(['${local.alarm_topic_arn}']);
  });

  test('the database security group has no egress, and clients reach it on 5432 only', () => {
    const sg = resource('aws_security_group', 'rds');
    expect(sg.egress).toEqual([]);
    const egressRules = Object.values<any>(doc.resource.aws_vpc_security_group_egress_rule);
    expect(egressRules.filter((rule) => rule.security_group_id === '${aws_security_group.rds.id}')).toEqual([]);
    const clientEgress = resource('aws_vpc_security_group_egress_rule', 'rds_client_to_rds');
    expect(clientEgress).toMatchObject({
      from_port: 5432,
      to_port: 5432,
      referenced_security_group_id: '${aws_security_group.rds.id}',
    });
    expect(clientEgress.cidr_ipv4).toBeUndefined();
  });

  test('the network ACL is opt-in and admits the VPC CIDR input, not a hard-coded 10.0.0.0/16', () => {
    const acl = resource('aws_network_acl', 'rds');
    expect(acl.count).toBe('${local.enable_network_acl ? 1 : 0}');
    expect(JSON.stringify(acl)).not.toContain('10.0.0.0/16');
    expect(acl.ingress.map((rule: any) => rule.cidr_block)).toEqual(['${local.vpc_cidr}', '${local.vpc_cidr}']);
    expect(doc.variable.enable_network_acl.default).toBe(false);
  });

  test("alarm dimensions name the instance identifier (the provider's id is the resource ID)", () => {
    expect(resource('aws_cloudwatch_metric_alarm', 'high_cpu').dimensions).toEqual({
      DBInstanceIdentifier: '${aws_db_instance.main.identifier}',
    });
  });
});

describe('monitoring', () => {
  test.each([
    ['high_cpu', 'CPUUtilization'],
    ['high_connections', 'DatabaseConnections'],
    ['low_free_storage', 'FreeStorageSpace'],
    ['low_freeable_memory', 'FreeableMemory'],
    ['high_read_latency', 'ReadLatency'],
    ['high_write_latency', 'WriteLatency'],
    ['high_disk_queue_depth', 'DiskQueueDepth'],
    ['replica_lag', 'ReplicaLag'],
  ])('alarm %s watches %s', (name, metric) => {
    expect(resource('aws_cloudwatch_metric_alarm', name).metric_name).toBe(metric);
  });

  test('one replica-lag alarm per replica', () => {
    expect(resource('aws_cloudwatch_metric_alarm', 'replica_lag').count).toBe('${local.config.replica_count}');
  });

  test('CPU and connection thresholds come from the table', () => {
    expect(resource('aws_cloudwatch_metric_alarm', 'high_cpu').threshold).toBe('${local.config.cpu_alarm_threshold}');
    expect(resource('aws_cloudwatch_metric_alarm', 'high_connections').threshold).toBe(
      '${local.config.connections_alarm_threshold}',
    );
  });

  test('RDS events of the primary and replicas reach the alarm topic', () => {
    expect(resource('aws_db_event_subscription', 'rds')).toMatchObject({
      sns_topic: '${local.alarm_topic_arn}',
      source_type: 'db-instance',
      source_ids: '${concat([aws_db_instance.main.identifier], aws_db_instance.replica[*].identifier)}',
    });
  });

  test("each secret's policy denies every change to all but the deployer, root and (rotated) the rotation role", () => {
    const documents = doc.data.aws_iam_policy_document;
    for (const [secret, rotated] of [
      ['app_credentials', true],
      ['readonly_credentials', true],
      ['tenant_context_key', false],
    ] as const) {
      const change = documents[`${secret}_policy`].statement.find(
        (s: { sid: string }) => s.sid === 'OnlyDeployerRotationAndRootChange',
      );
      const allowed = withLocals(change.condition[0].values);
      expect({ secret, effect: change.effect, principals: change.principals, actions: change.actions }).toEqual({
        secret,
        effect: 'Deny',
        principals: [{ type: '*', identifiers: ['*'] }],
        actions: expect.arrayContaining([
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
        ]),
      });
      // Readers read; they never write.
      expect({ secret, readers: allowed.includes('secret_readers') }).toEqual({ secret, readers: false });
      expect({ secret, rotation: allowed.includes('aws_lambda_function.rotation') }).toEqual({
        secret,
        rotation: rotated,
      });
      expect(allowed).toContain(':root');
    }
  });

  test('the rotation guard refuses code, configuration, stack and role changes but to the deployer and root', () => {
    const guard = doc.data.aws_iam_policy_document.rotation_guard;
    expect(guard.count).toBe('${local.config.rotate_credentials ? 1 : 0}');
    const statements = Object.fromEntries(
      guard.statement.map((s: { sid: string; effect: string; actions: string[]; resources: string[] }) => [
        s.sid,
        { effect: s.effect, actions: s.actions, resources: s.resources },
      ]),
    );
    expect(statements.RotationFunctionUnchanged).toEqual({
      effect: 'Deny',
      actions: expect.arrayContaining(['lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration']),
      resources: [
        expect.stringMatching(/:function:\$\{local\.name_prefix\}-rds-rotation$/),
        expect.stringMatching(/:function:\$\{local\.name_prefix\}-rds-rotation:\*$/),
      ],
    });
    expect(statements.RotationStackUnchanged).toEqual({
      effect: 'Deny',
      actions: expect.arrayContaining(['cloudformation:UpdateStack', 'cloudformation:ExecuteChangeSet']),
      resources: [expect.stringMatching(/:stack\/serverlessrepo-\$\{local\.name_prefix\}-rds-rotation\/\*$/)],
    });
    expect(statements.RotationRoleUnchangedAndNotPassed).toEqual({
      effect: 'Deny',
      actions: expect.arrayContaining(['iam:PassRole', 'iam:PutRolePolicy', 'iam:UpdateAssumeRolePolicy']),
      resources: ['${data.aws_lambda_function.rotation[0].role}'],
    });
    for (const statement of guard.statement) {
      expect(statement.condition[0].values).not.toContain('secret_readers');
      expect(withLocals(statement.condition[0].values)).toContain(':root');
    }
    expect(doc.output.rotation_function_guard_policy_json.value).toBe(
      '${length(data.aws_iam_policy_document.rotation_guard) > 0 ? ' +
        'data.aws_iam_policy_document.rotation_guard[0].json : null}',
    );
  });

  test('parameter-group and DB security-group changes reach the alarm topic (Security Hub RDS.21, RDS.22)', () => {
    expect(resource('aws_db_event_subscription', 'parameter_group')).toMatchObject({
      sns_topic: '${local.alarm_topic_arn}',
      source_type: 'db-parameter-group',
      source_ids: ['${aws_db_parameter_group.main.name}'],
      event_categories: ['configuration change'],
    });
    expect(resource('aws_db_event_subscription', 'security_group')).toMatchObject({
      sns_topic: '${local.alarm_topic_arn}',
      source_type: 'db-security-group',
      event_categories: ['configuration change', 'failure'],
    });
  });

  test('the Database Insights mode comes from the table, on the primary and every replica', () => {
    for (const name of ['main', 'replica']) {
      expect(resource('aws_db_instance', name).database_insights_mode).toBe('${local.config.database_insights_mode}');
    }
  });

  test('the primary states its lifecycle after standard support, from the table', () => {
    expect(resource('aws_db_instance', 'main').engine_lifecycle_support).toBe(
      '${local.config.engine_lifecycle_support}',
    );
  });

  test('PostgreSQL and upgrade logs are exported', () => {
    expect(resource('aws_db_instance', 'main').enabled_cloudwatch_logs_exports).toEqual(['postgresql', 'upgrade']);
  });

  test('Performance Insights is encrypted with the module key when enabled', () => {
    expect(resource('aws_db_instance', 'main').performance_insights_kms_key_id).toBe(
      '${local.config.performance_insights_retention != null ? aws_kms_key.rds.arn : null}',
    );
  });
});

test('the README lists every input and output', () => {
  const readme = moduleFiles(doc)['README.md'];
  for (const v of MODULE_VARIABLES) expect(readme).toContain(`| \`${v.name}\` |`);
  for (const o of MODULE_OUTPUTS) expect(readme).toContain(`| \`${o.name}\` |`);
});

// RDS rejects a parameter group that applies a static parameter immediately, so the split must follow PostgreSQL's own
// contexts: the test server says which settings need a restart (context 'postmaster'), not a list kept by hand.
describe('apply methods follow PostgreSQL 15', () => {
  /** The module's parameters with the apply method the group gives each (see parametersExpression). */
  const parameters = () =>
    DATABASE_PARAMETERS.map((p) => ({ name: p.name, value: p.value, apply_method: applyMethodOf(p.name) }));
  /** RDS's own parameters (rds.*) are unknown to a plain server: their apply method is RDS's documented one. */
  const isRdsOwn = (name: string) => name.startsWith('rds.');
  // The library whose settings a dotted name belongs to (pg_cron names its settings cron.*).
  const libraryOf = (name: string) => ({ cron: 'pg_cron' })[name.split('.')[0]!] ?? name.split('.')[0]!;
  let contexts: Map<string, string>;
  /** Preloaded libraries the test server does not have: their settings cannot be looked up here. */
  const missingLibraries: string[] = [];

  beforeAll(async () => {
    const client = new Client({ connectionString: adminUrl() });
    await client.connect();
    try {
      // A library's settings exist once it is loaded; the embedded server preloads only pg_stat_statements.
      const preload = parameters().find((p) => p.name === 'shared_preload_libraries')!;
      for (const library of preload.value.split(',')) {
        await client.query(`LOAD '${library}'`).catch(() => missingLibraries.push(library));
      }
      const { rows } = await client.query<{ name: string; context: string }>('SELECT name, context FROM pg_settings');
      contexts = new Map(rows.map((row) => [row.name, row.context]));
    } finally {
      await client.end();
    }
  });

  test("every parameter of the group is a PostgreSQL setting, one of RDS's own, or of a preloaded library", () => {
    const unknown = parameters()
      .map((p) => p.name)
      .filter((name) => !contexts.has(name) && !isRdsOwn(name));
    expect(unknown.filter((name) => !missingLibraries.includes(libraryOf(name)))).toEqual([]);
  });

  test("exactly the parameters of context 'postmaster' apply at the next reboot", () => {
    const methods = parameters()
      .filter((p) => contexts.has(p.name))
      .map((p) => ({ name: p.name, context: contexts.get(p.name), reboot: p.apply_method === 'pending-reboot' }));
    expect(methods).toEqual(methods.map((m) => ({ ...m, reboot: m.context === 'postmaster' })));
    expect(methods.filter((m) => m.reboot).length).toBeGreaterThan(0);
  });

  test("every name in STATIC_PARAMETERS that PostgreSQL knows has context 'postmaster'", () => {
    const known = STATIC_PARAMETERS.filter((name) => contexts.has(name));
    expect(known.map((name) => [name, contexts.get(name)])).toEqual(known.map((name) => [name, 'postmaster']));
    const unloaded = STATIC_PARAMETERS.filter((name) => missingLibraries.includes(libraryOf(name)));
    expect(known.length).toBeGreaterThan(STATIC_PARAMETERS.length - unloaded.length - 3);
  });
});

test("the module's own static parameters are exactly these six, all applied at a reboot", () => {
  expect(
    DATABASE_PARAMETERS.filter((p) => applyMethodOf(p.name) === 'pending-reboot')
      .map((p) => p.name)
      .sort(),
  ).toEqual([
    'cron.database_name',
    'max_connections',
    'rds.restrict_password_commands',
    'shared_buffers',
    'shared_preload_libraries',
    'wal_buffers',
  ]);
});

describe('the emitted main.tf.json reads line by line', () => {
  const main = moduleFiles(doc)['main.tf.json'];

  test('each module parameter is an entry of a map, one field a line: changing a value is a one-line diff', () => {
    for (const p of DATABASE_PARAMETERS) {
      expect(main).toContain(
        `"${p.name}": {\n        "apply_method": "${applyMethodOf(p.name)}",\n        "value": ${JSON.stringify(p.value)}\n`,
      );
    }
  });

  test('documents (policies, the dashboard, secret values) are written out, not one encoded line', () => {
    const longest = Math.max(...main.split('\n').map((line) => line.length));
    expect(longest).toBeLessThan(400);
  });
});
