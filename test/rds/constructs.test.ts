/** Each concern of the database on its own, synthesized with Testing.synthScope. */
import { TerraformLocal, Testing } from 'cdktf';
import { Construct } from 'constructs';
import 'cdktf/lib/testing/adapters/jest';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance';
import { DbParameterGroup } from '@cdktf/provider-aws/lib/db-parameter-group';
import { DataAwsLambdaFunction } from '@cdktf/provider-aws/lib/data-aws-lambda-function';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { KmsKeyPolicy } from '@cdktf/provider-aws/lib/kms-key-policy';
import { NetworkAcl } from '@cdktf/provider-aws/lib/network-acl';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { DatabaseEncryption } from '../../src/rds/encryption';
import { DatabaseLogGroups } from '../../src/rds/logs';
import { postgresInstanceEngine } from '../../src/rds/engine';
import { validateSizing } from '../../src/rds/rules';
import { ENVIRONMENT_CONFIGS } from '../../src/config/environments';
import { DatabaseInstances } from '../../src/rds/instances';
import { DatabaseNetwork } from '../../src/rds/network';
import { DatabaseParameters } from '../../src/rds/parameters';

Testing.setupJest();

/** The locals AccessWeaverDatabase makes from its inputs, for constructs synthesized on their own. */
function inputs(scope: Construct) {
  const local = (name: string, value: unknown) => {
    const made = new TerraformLocal(scope, name, value);
    made.overrideLogicalId(name);
    return made;
  };
  return {
    vpcId: local('vpc_id', 'vpc-0123'),
    privateSubnetIds: local('private_subnet_ids', ['subnet-0a', 'subnet-0b']),
    allowedSecurityGroupIds: local('allowed_security_groups', []),
    enableNetworkAcl: local('enable_network_acl', false),
    vpcCidr: local('vpc_cidr', null),
    availabilityZones: local('availability_zones', ['eu-west-3a', 'eu-west-3b']),
    backupWindow: local('backup_window', '03:00-04:00'),
    maintenanceWindow: local('maintenance_window', 'Sun:04:00-Sun:05:00'),
    applyImmediately: local('apply_immediately', false),
    allowMajorVersionUpgrade: local('allow_major_version_upgrade', false),
    snapshotIdentifier: local('snapshot_identifier', null),
    restoreToPointInTime: local('restore_to_point_in_time', null),
  };
}

describe('DatabaseNetwork', () => {
  const synth = Testing.synthScope((scope) => {
    new DatabaseNetwork(scope, 'network', inputs(scope));
  });

  test('the database security group has no egress at all', () => {
    expect(synth).toHaveResourceWithProperties(SecurityGroup, { name_prefix: '${local.name_prefix}-rds-', egress: [] });
  });

  test('the client group may reach the database group on 5432 only', () => {
    expect(synth).toHaveResourceWithProperties(VpcSecurityGroupEgressRule, {
      security_group_id: '${aws_security_group.rds_client.id}',
      referenced_security_group_id: '${aws_security_group.rds.id}',
      from_port: 5432,
      to_port: 5432,
      ip_protocol: 'tcp',
    });
  });

  test('every security-group rule: PostgreSQL from the client and allowed groups, to the database group only', () => {
    const resource = JSON.parse(synth).resource;
    const rule = (r: any) => [
      r.security_group_id,
      r.ip_protocol,
      r.from_port,
      r.to_port,
      r.referenced_security_group_id,
    ];
    const rules = (type: string) =>
      Object.fromEntries(Object.entries<any>(resource[type] ?? {}).map(([name, r]) => [name, rule(r)]));
    expect({
      ingress: rules('aws_vpc_security_group_ingress_rule'),
      egress: rules('aws_vpc_security_group_egress_rule'),
    }).toEqual({
      ingress: {
        rds_from_clients: ['${aws_security_group.rds.id}', 'tcp', 5432, 5432, '${aws_security_group.rds_client.id}'],
        rds_from_allowed: [
          '${aws_security_group.rds.id}',
          'tcp',
          5432,
          5432,
          '${local.allowed_security_groups[count.index]}',
        ],
      },
      egress: {
        rds_client_to_rds: ['${aws_security_group.rds_client.id}', 'tcp', 5432, 5432, '${aws_security_group.rds.id}'],
      },
    });
    expect(resource.aws_vpc_security_group_ingress_rule.rds_from_allowed.count).toBe(
      '${length(local.allowed_security_groups)}',
    );
  });

  test('the network ACL exists only when enabled', () => {
    expect(synth).toHaveResourceWithProperties(NetworkAcl, { count: '${local.enable_network_acl ? 1 : 0}' });
  });
});

describe('DatabaseParameters', () => {
  test('one parameter block per entry of the parameters map, named by its key, with its value and apply method', () => {
    const synth = JSON.parse(
      Testing.synthScope((scope) => {
        const parameters = new TerraformLocal(scope, 'parameters', {});
        parameters.overrideLogicalId('parameters');
        new DatabaseParameters(scope, 'parameters-group', { parameters, family: 'postgres15', majorVersion: '"15"' });
      }),
    );
    expect(synth.resource.aws_db_parameter_group.main.dynamic).toEqual({
      parameter: {
        for_each: '${local.parameters}',
        iterator: 'each',
        content: {
          name: '${each.key}',
          value: '${each.value.value}',
          apply_method: '${each.value.apply_method}',
        },
      },
    });
  });

  test('the family matches the engine major version', () => {
    const synth = Testing.synthScope((scope) => {
      new DatabaseParameters(scope, 'group', {
        parameters: new TerraformLocal(scope, 'parameters', []),
        family: postgresInstanceEngine().parameterGroupFamily,
        majorVersion: '"15"',
      });
    });
    expect(synth).toHaveResourceWithProperties(DbParameterGroup, { family: 'postgres15' });
  });

  test('each major version has a group of its own, made before the old one goes; 15 keeps its name', () => {
    const group = JSON.parse(
      Testing.synthScope((scope) => {
        new DatabaseParameters(scope, 'group', {
          parameters: new TerraformLocal(scope, 'parameters', []),
          family: 'postgres16',
          majorVersion: 'local.engine_major_version',
        });
      }),
    ).resource.aws_db_parameter_group.main;
    expect(group.name).toBe(
      '${local.name_prefix}-pg${local.engine_major_version == "15" ? "" : local.engine_major_version}-params',
    );
    expect(group.lifecycle).toEqual({ create_before_destroy: true });
  });
});

describe('DatabaseEncryption', () => {
  const synth = Testing.synthScope((scope) => {
    const keyUserArns = new TerraformLocal(scope, 'key_user_arns', ['arn:aws:iam::123456789012:role/acme-auth']);
    keyUserArns.overrideLogicalId('key_user_arns');
    const encryption = new DatabaseEncryption(scope, 'encryption', { keyUserArns, engine: postgresInstanceEngine() });
    const rotationFunction = new DataAwsLambdaFunction(scope, 'rotation', { count: 1, functionName: 'acme-rotation' });
    rotationFunction.overrideLogicalId('rotation');
    encryption.attachPolicy({ rotationFunction });
  });
  const documents = () => JSON.parse(synth).data.aws_iam_policy_document;

  test('the key rotates; its policy is a resource of its own, attached once the named principals exist', () => {
    expect(synth).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
    // Born with the statements that name no module principal, so log groups can use it before that resource exists.
    expect(synth).toHaveResourceWithProperties(KmsKey, {
      policy: '${data.aws_iam_policy_document.rds_key_base_policy.json}',
      lifecycle: { ignore_changes: ['policy'] },
    });
    expect(synth).toHaveResourceWithProperties(KmsKeyPolicy, {
      key_id: '${aws_kms_key.rds.key_id}',
      policy: '${data.aws_iam_policy_document.rds_key_policy.json}',
    });
  });

  test('no statement of the key policy names a wildcard principal', () => {
    const principals = Object.values(documents()).flatMap((document: any) =>
      (document.statement ?? []).flatMap((statement: any) => statement.principals.flatMap((p: any) => p.identifiers)),
    );
    expect(principals.filter((identifier: string) => identifier.includes('*'))).toEqual([]);
  });

  test('the rotation function and the key users decrypt through Secrets Manager only', () => {
    const { rds_key_rotation_function: rotation, rds_key_users: users, rds_key_policy: policy } = documents();
    expect([rotation.statement[0].principals, users.statement[0].principals]).toEqual([
      [{ type: 'AWS', identifiers: ['${data.aws_lambda_function.rotation[0].role}'] }],
      [{ type: 'AWS', identifiers: '${local.key_user_arns}' }],
    ]);
    expect([rotation.statement[0].condition, users.statement[0].condition]).toEqual(
      [0, 1].map(() => [
        {
          test: 'StringEquals',
          variable: 'kms:ViaService',
          values: ['secretsmanager.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}'],
        },
      ]),
    );
    expect(users.count).toBe('${length(local.key_user_arns) > 0 ? 1 : 0}');
    expect(policy).toEqual({
      source_policy_documents:
        '${concat([data.aws_iam_policy_document.rds_key_base_policy.json], ' +
        'data.aws_iam_policy_document.rds_key_rotation_function[*].json, ' +
        'data.aws_iam_policy_document.rds_key_users[*].json)}',
    });
  });
});

describe('DatabaseLogGroups', () => {
  const synth = JSON.parse(
    Testing.synthScope((scope) => {
      const encryption = new DatabaseEncryption(scope, 'encryption', {
        keyUserArns: new TerraformLocal(scope, 'key_user_arns', []),
        engine: postgresInstanceEngine(),
      });
      const rotationFunction = new DataAwsLambdaFunction(scope, 'rotation', {
        count: 1,
        functionName: 'acme-rotation',
      });
      encryption.attachPolicy({ rotationFunction });
      new DatabaseLogGroups(scope, 'logs', { key: encryption.key, engine: postgresInstanceEngine() });
    }),
  );

  test(
    'one group per instance and exported log, at the name ' + 'RDS writes to, encrypted, retention from the table',
    () => {
      expect(synth.resource.aws_cloudwatch_log_group.rds).toMatchObject({
        for_each: '${toset(local.rds_log_groups)}',
        name: '/aws/rds/instance/${each.value}',
        kms_key_id: '${aws_kms_key.rds.arn}',
        retention_in_days: '${local.config.log_retention_days}',
      });
      expect(synth.locals.rds_log_groups).toBe(
        '${concat([for log in ["postgresql", "upgrade"] : "${local.name_prefix}-primary/${log}"], ' +
          '[for pair in setproduct(range(1, local.config.replica_count + 1), ["postgresql", "upgrade"]) : ' +
          '"${local.name_prefix}-replica-${pair[0]}/${pair[1]}"])}',
      );
    },
  );

  test('CloudWatch Logs may use the key only for these log groups (encryption context)', () => {
    const statements = synth.data.aws_iam_policy_document.rds_key_base_policy.statement;
    expect(statements.find((s: { sid: string }) => s.sid === 'CloudWatchLogsEncryptsDatabaseLogGroups')).toEqual({
      sid: 'CloudWatchLogsEncryptsDatabaseLogGroups',
      effect: undefined,
      principals: [
        {
          type: 'Service',
          identifiers: ['logs.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}'],
        },
      ],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      condition: [
        {
          test: 'ArnLike',
          variable: 'kms:EncryptionContext:aws:logs:arn',
          values: [
            'arn:${data.aws_partition.current.partition}:' +
              'logs:${data.aws_region.current.name}:' +
              '${data.aws_caller_identity.current.account_id}:' +
              'log-group:/aws/rds/instance/' +
              '${local.name_prefix}-primary/*',
            'arn:${data.aws_partition.current.partition}:' +
              'logs:${data.aws_region.current.name}:' +
              '${data.aws_caller_identity.current.account_id}:' +
              'log-group:/aws/rds/instance/' +
              '${local.name_prefix}-replica-*',
          ],
        },
      ],
    });
  });

  test.each([0, 10, 366])('a retention of %i days is refused with the valid ones named', (days) => {
    expect(() => validateSizing('prod', { ...ENVIRONMENT_CONFIGS.prod.database, logRetentionDays: days })).toThrow(
      `environment 'prod': logRetentionDays ${days} must be one of 1, 3,`,
    );
  });
});

describe('DatabaseInstances', () => {
  const synth = Testing.synthScope((scope) => {
    const locals = inputs(scope);
    const encryption = new DatabaseEncryption(scope, 'encryption', {
      keyUserArns: new TerraformLocal(scope, 'key_user_arns', []),
      engine: postgresInstanceEngine(),
    });
    const network = new DatabaseNetwork(scope, 'network', locals);
    const parameters = new DatabaseParameters(scope, 'parameters', {
      parameters: new TerraformLocal(scope, 'parameter-list', []),
      family: 'postgres15',
      majorVersion: '"15"',
    });
    const logs = new DatabaseLogGroups(scope, 'logs', { key: encryption.key, engine: postgresInstanceEngine() });
    new DatabaseInstances(scope, 'instances', {
      ...locals,
      engineVersion: '15',
      logGroups: logs.groups,
      key: encryption.key,
      partition: encryption.partition,
      subnetGroup: network.subnetGroup,
      parameterGroup: parameters.group,
      databaseSecurityGroup: network.databaseSecurityGroup,
    });
  });

  test('the primary and the replicas are created after their log groups, so RDS does not make its own', () => {
    const instances = JSON.parse(synth).resource.aws_db_instance;
    expect([instances.main.depends_on, instances.replica.depends_on]).toEqual([
      ['aws_cloudwatch_log_group.rds'],
      ['aws_cloudwatch_log_group.rds'],
    ]);
  });

  test('the primary is private, encrypted with the module key and never publicly accessible', () => {
    expect(synth).toHaveResourceWithProperties(DbInstance, {
      identifier: '${local.name_prefix}-primary',
      storage_encrypted: true,
      kms_key_id: '${aws_kms_key.rds.arn}',
      publicly_accessible: false,
      db_subnet_group_name: '${aws_db_subnet_group.main.name}',
      vpc_security_group_ids: ['${aws_security_group.rds.id}'],
    });
  });

  test('replicas replicate the primary and keep no backups of their own', () => {
    expect(synth).toHaveResourceWithProperties(DbInstance, {
      replicate_source_db: '${aws_db_instance.main.identifier}',
      backup_retention_period: 0,
      maintenance_window: '${local.maintenance_window}',
      availability_zone: '${local.availability_zones[(count.index + 1) % length(local.availability_zones)]}',
    });
  });
});
