import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { Testing } from 'cdktf';
import { EcsStack, EcsStackProps, validateFargateSize } from '../../src/stacks/ecs-stack';
import { LOCAL_STATE, SynthesizedStack, resourcesOf, synthJson, testApp } from './support';

function ecsStack(environment: string, props: Partial<EcsStackProps> = {}): EcsStack {
  return new EcsStack(testApp(), `ecs-${environment}`, { environment, stateBackend: LOCAL_STATE, ...props });
}

interface ContainerDefinition {
  name: string;
  image: string;
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  logConfiguration: { logDriver: string; options: Record<string, string> };
  portMappings: { containerPort: number }[];
}

function container(synth: SynthesizedStack, service: string): ContainerDefinition {
  const task = resourcesOf(synth, 'aws_ecs_task_definition')[`${service}-task`];
  if (!task) throw new Error(`no task definition for ${service}`);
  const [definition] = JSON.parse(task.container_definitions as string) as ContainerDefinition[];
  return definition!;
}

interface Statement {
  sid: string;
  actions: string[];
  resources: string[];
  condition?: { test: string; variable: string; values: string[] }[];
}

function executionStatements(synth: SynthesizedStack, service: string): Statement[] {
  const document = synth.data.aws_iam_policy_document?.[`${service}-execution-policy`];
  if (!document) throw new Error(`no execution policy for ${service}`);
  return document.statement as Statement[];
}

/** The execution role each task definition names, by service. */
function executionRoles(synth: SynthesizedStack): Record<string, unknown> {
  const tasks = resourcesOf(synth, 'aws_ecs_task_definition');
  return Object.fromEntries(SERVICES.map((name) => [name, tasks[`${name}-task`]?.execution_role_arn]));
}

const RDS = (output: string) => `\${data.terraform_remote_state.rds.outputs.${output}}`;
const VPC = (output: string) => `\${data.terraform_remote_state.vpc.outputs.${output}}`;
const SERVICES = ['api-gateway', 'auth-service', 'pdp-service'];

describe('ecs-<env>', () => {
  test('creates a cluster named after the environment', () => {
    expect(Testing.synth(ecsStack('dev'))).toHaveResourceWithProperties(EcsCluster, { name: 'accessweaver-dev' });
  });

  test('runs the API gateway, auth service and PDP service on Fargate', () => {
    const services = resourcesOf(synthJson(ecsStack('dev')), 'aws_ecs_service');
    expect(Object.values(services).map((service) => [service.name, service.launch_type])).toEqual(
      SERVICES.map((name) => [name, 'FARGATE']),
    );
  });

  test('places every service in the private subnets of vpc-<env>, without public addresses', () => {
    const services = Object.values(resourcesOf(synthJson(ecsStack('dev')), 'aws_ecs_service'));
    expect(services.map((service) => service.network_configuration)).toEqual(
      SERVICES.map(() => expect.objectContaining({ subnets: VPC('private_subnet_ids'), assign_public_ip: false })),
    );
  });

  test("only the services that connect join the database module's client security group", () => {
    const services = resourcesOf(synthJson(ecsStack('dev')), 'aws_ecs_service');
    const groups = Object.fromEntries(
      SERVICES.map((name) => [
        name,
        (services[`${name}-service`]?.network_configuration as { security_groups: string[] }).security_groups,
      ]),
    );
    expect(groups).toEqual({
      'api-gateway': ['${aws_security_group.service-security-group.id}'],
      'auth-service': ['${aws_security_group.service-security-group.id}', RDS('security_group_client_id')],
      'pdp-service': ['${aws_security_group.service-security-group.id}', RDS('security_group_client_id')],
    });
  });

  test('reads vpc-<env> and rds-<env> from their state files', () => {
    expect(synthJson(ecsStack('staging')).data.terraform_remote_state).toEqual({
      vpc: { backend: 'local', config: { path: '/var/lib/accessweaver-state/terraform.vpc-staging.tfstate' } },
      rds: { backend: 'local', config: { path: '/var/lib/accessweaver-state/terraform.rds-staging.tfstate' } },
    });
  });

  test('the auth service writes and issues tenant contexts: the application login and the signing key', () => {
    expect(container(synthJson(ecsStack('dev')), 'auth-service').secrets).toEqual([
      { name: 'DATABASE_USERNAME', valueFrom: `${RDS('app_secret_arn')}:username::` },
      { name: 'DATABASE_PASSWORD', valueFrom: `${RDS('app_secret_arn')}:password::` },
      { name: 'TENANT_CONTEXT_KEY', valueFrom: RDS('tenant_context_key_secret_arn') },
    ]);
  });

  test('the decision point reads: it gets the read-only login', () => {
    expect(container(synthJson(ecsStack('dev')), 'pdp-service').secrets).toEqual([
      { name: 'DATABASE_USERNAME', valueFrom: `${RDS('readonly_secret_arn')}:username::` },
      { name: 'DATABASE_PASSWORD', valueFrom: `${RDS('readonly_secret_arn')}:password::` },
    ]);
  });

  test('the API gateway gets no database login and no database address', () => {
    const gateway = container(synthJson(ecsStack('dev')), 'api-gateway');
    expect([gateway.secrets, gateway.environment]).toEqual([[], [{ name: 'ACCESSWEAVER_ENVIRONMENT', value: 'dev' }]]);
  });

  test('puts no credential in the plain environment', () => {
    const synth = synthJson(ecsStack('dev'));
    const names = SERVICES.flatMap((service) => container(synth, service).environment.map((variable) => variable.name));
    expect(names.filter((name) => /PASSWORD|USER|SECRET|KEY/.test(name))).toEqual([]);
  });

  test('gives the auth service the writer and reader endpoints, port and database name', () => {
    expect(container(synthJson(ecsStack('dev')), 'auth-service').environment).toEqual([
      { name: 'ACCESSWEAVER_ENVIRONMENT', value: 'dev' },
      { name: 'DATABASE_WRITER_HOST', value: RDS('primary_address') },
      { name: 'DATABASE_READER_HOSTS', value: '${local.database_reader_hosts}' },
      { name: 'DATABASE_PORT', value: RDS('database_port') },
      { name: 'DATABASE_NAME', value: RDS('database_name') },
    ]);
  });

  test('gives the decision point the readers only (its login is read-only)', () => {
    expect(container(synthJson(ecsStack('dev')), 'pdp-service').environment).toEqual([
      { name: 'ACCESSWEAVER_ENVIRONMENT', value: 'dev' },
      { name: 'DATABASE_READER_HOSTS', value: '${local.database_reader_hosts}' },
      { name: 'DATABASE_PORT', value: RDS('database_port') },
      { name: 'DATABASE_NAME', value: RDS('database_name') },
    ]);
  });

  test('joins the reader addresses of rds-<env> into one variable', () => {
    expect(synthJson(ecsStack('dev')).locals).toEqual({
      database_reader_hosts: '${join(",", data.terraform_remote_state.rds.outputs.reader_addresses)}',
    });
  });

  test('each service has an execution role of its own', () => {
    const synth = synthJson(ecsStack('prod'));
    expect(executionRoles(synth)).toEqual({
      'api-gateway': '${aws_iam_role.api-gateway-execution-role.arn}',
      'auth-service': '${aws_iam_role.auth-service-execution-role.arn}',
      'pdp-service': '${aws_iam_role.pdp-service-execution-role.arn}',
    });
    expect(Object.values(resourcesOf(synth, 'aws_iam_role')).map((role) => role.name)).toEqual(
      SERVICES.map((name) => `accessweaver-prod-${name}-execution`),
    );
  });

  test('each role policy is attached to its own role', () => {
    const policies = resourcesOf(synthJson(ecsStack('prod')), 'aws_iam_role_policy');
    expect(Object.fromEntries(Object.entries(policies).map(([name, p]) => [name, [p.role, p.policy]]))).toEqual(
      Object.fromEntries(
        SERVICES.map((name) => [
          `${name}-execution-role-policy`,
          [
            `\${aws_iam_role.${name}-execution-role.id}`,
            `\${data.aws_iam_policy_document.${name}-execution-policy.json}`,
          ],
        ]),
      ),
    );
  });

  const decryptOnly = (secrets: string[]) => ({
    sid: 'DecryptOwnSecretsOnly',
    actions: ['kms:Decrypt'],
    resources: [RDS('kms_key_arn')],
    condition: [
      { test: 'StringEquals', variable: 'kms:ViaService', values: ['secretsmanager.eu-west-3.amazonaws.com'] },
      { test: 'StringEquals', variable: 'kms:EncryptionContext:SecretARN', values: secrets },
    ],
  });
  const logsOf = (name: string) => ({
    sid: 'WriteOwnLogs',
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [`\${aws_cloudwatch_log_group.${name}-logs.arn}:*`],
  });
  const pullOf = (name: string) => [
    { sid: 'AuthenticateToEcr', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
    {
      sid: 'PullOwnImage',
      actions: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      resources: [
        `arn:\${data.aws_partition.partition.partition}:` +
          `ecr:eu-west-3:` +
          `\${data.aws_caller_identity.caller.account_id}:` +
          `repository/accessweaver/` +
          `${name}`,
      ],
    },
  ];

  test('the auth service role reads exactly the application secret and the signing key, and decrypts only them', () => {
    const own = [RDS('app_secret_arn'), RDS('tenant_context_key_secret_arn')];
    expect(executionStatements(synthJson(ecsStack('prod')), 'auth-service')).toEqual([
      { sid: 'ReadOwnSecrets', actions: ['secretsmanager:GetSecretValue'], resources: own },
      decryptOnly(own),
      logsOf('auth-service'),
      ...pullOf('auth-service'),
    ]);
  });

  test('the decision point role reads exactly the read-only secret and decrypts only it', () => {
    expect(executionStatements(synthJson(ecsStack('prod')), 'pdp-service')).toEqual([
      { sid: 'ReadOwnSecrets', actions: ['secretsmanager:GetSecretValue'], resources: [RDS('readonly_secret_arn')] },
      decryptOnly([RDS('readonly_secret_arn')]),
      logsOf('pdp-service'),
      ...pullOf('pdp-service'),
    ]);
  });

  test('the gateway role reads no secret and cannot use the key', () => {
    expect(executionStatements(synthJson(ecsStack('prod')), 'api-gateway')).toEqual([
      logsOf('api-gateway'),
      ...pullOf('api-gateway'),
    ]);
  });

  test('an image in another ECR registry is the repository the role may pull', () => {
    const image = '210987654321.dkr.ecr.eu-west-1.amazonaws.com/shared/pdp@sha256:' + 'a'.repeat(64);
    const pull = executionStatements(
      synthJson(ecsStack('dev', { services: { pdpService: { image } } })),
      'pdp-service',
    ).find((s) => s.sid === 'PullOwnImage');
    expect(pull?.resources).toEqual(['arn:aws:ecr:eu-west-1:210987654321:repository/shared/pdp']);
  });

  test('images outside ECR need no ECR permission', () => {
    const services = { authService: { image: 'ghcr.io/acme/auth-service:1.0.0' } };
    const sids = executionStatements(synthJson(ecsStack('dev', { services })), 'auth-service').map((s) => s.sid);
    expect(sids).toEqual(['ReadOwnSecrets', 'DecryptOwnSecretsOnly', 'WriteOwnLogs']);
  });

  test('outputs the execution role of each service', () => {
    expect(synthJson(ecsStack('dev')).output.execution_role_arns?.value).toEqual({
      'api-gateway': '${aws_iam_role.api-gateway-execution-role.arn}',
      'auth-service': '${aws_iam_role.auth-service-execution-role.arn}',
      'pdp-service': '${aws_iam_role.pdp-service-execution-role.arn}',
    });
  });

  test('only ECS tasks of this account may assume the execution role', () => {
    const trust = synthJson(ecsStack('dev')).data.aws_iam_policy_document?.['execution-assume-role'];
    expect(trust?.statement).toEqual([
      expect.objectContaining({
        principals: [{ type: 'Service', identifiers: ['ecs-tasks.amazonaws.com'] }],
        condition: expect.arrayContaining([
          {
            test: 'StringEquals',
            variable: 'aws:SourceAccount',
            values: ['${data.aws_caller_identity.caller.account_id}'],
          },
        ]),
      }),
    ]);
  });

  test('keeps the logs of each service for the environment retention', () => {
    expect(Testing.synth(ecsStack('staging'))).toHaveResourceWithProperties(CloudwatchLogGroup, {
      name: '/ecs/accessweaver-staging/auth-service',
      retention_in_days: 30,
    });
  });

  test('sends the container logs to the service log group', () => {
    expect(container(synthJson(ecsStack('dev')), 'api-gateway').logConfiguration).toEqual({
      logDriver: 'awslogs',
      options: {
        'awslogs-group': '${aws_cloudwatch_log_group.api-gateway-logs.name}',
        'awslogs-region': 'eu-west-3',
        'awslogs-stream-prefix': 'api-gateway',
      },
    });
  });

  test("the default image is the service's repository in the account's ECR, tagged with the environment", () => {
    expect(container(synthJson(ecsStack('staging')), 'pdp-service').image).toBe(
      '${data.aws_caller_identity.caller.account_id}.dkr.ecr.eu-west-3.amazonaws.com/accessweaver/pdp-service:staging',
    );
  });

  test('takes a configured image', () => {
    const synth = synthJson(
      ecsStack('prod', { services: { apiGateway: { image: 'ghcr.io/acme/api-gateway:2.3.1' } } }),
    );
    expect(container(synth, 'api-gateway').image).toBe('ghcr.io/acme/api-gateway:2.3.1');
  });

  test('sizes the tasks from the environment table', () => {
    const task = resourcesOf(synthJson(ecsStack('prod')), 'aws_ecs_task_definition')['pdp-service-task'];
    expect([task?.cpu, task?.memory]).toEqual(['1024', '2048']);
  });

  test('desired counts come from the environment table', () => {
    const services = resourcesOf(synthJson(ecsStack('staging')), 'aws_ecs_service');
    expect(Object.values(services).map((service) => service.desired_count)).toEqual([2, 2, 2]);
  });

  test('takes a configured desired count', () => {
    const services = resourcesOf(
      synthJson(ecsStack('prod', { services: { authService: { desiredCount: 5 } } })),
      'aws_ecs_service',
    );
    expect(services['auth-service-service']?.desired_count).toBe(5);
  });

  test('dev may park a service at zero tasks', () => {
    const services = resourcesOf(
      synthJson(ecsStack('dev', { services: { pdpService: { desiredCount: 0 } } })),
      'aws_ecs_service',
    );
    expect(services['pdp-service-service']?.desired_count).toBe(0);
  });

  test('rolls a failed deployment back', () => {
    const services = Object.values(resourcesOf(synthJson(ecsStack('prod')), 'aws_ecs_service'));
    expect(services.map((service) => service.deployment_circuit_breaker)).toEqual(
      SERVICES.map(() => ({ enable: true, rollback: true })),
    );
  });

  test('lets the services call each other on their port and nothing else in', () => {
    const group = resourcesOf(synthJson(ecsStack('dev')), 'aws_security_group')['service-security-group'];
    expect(group?.ingress).toEqual([
      expect.objectContaining({ protocol: 'tcp', from_port: 8080, to_port: 8080, self: true }),
    ]);
  });

  test('outputs the service security group under the name HCL callers use', () => {
    expect(synthJson(ecsStack('dev')).output.service_security_group_id?.value).toBe(
      '${aws_security_group.service-security-group.id}',
    );
  });
});

describe('ecs-<env> bad input', () => {
  test('an unknown environment', () => {
    expect(() => ecsStack('production')).toThrow("Environment must be dev, staging, or prod. Got 'production'.");
  });

  test('a missing image', () => {
    expect(() => ecsStack('dev', { services: { authService: { image: '' } } })).toThrow(
      'ecs-dev: authService.image is empty; give a container image reference or leave it out for the default.',
    );
  });

  test('an image reference that is not one', () => {
    expect(() => ecsStack('dev', { services: { authService: { image: 'acme/Auth Service:1' } } })).toThrow(
      "ecs-dev: authService.image 'acme/Auth Service:1' is not a container image reference",
    );
  });

  test('zero desired tasks in prod', () => {
    expect(() => ecsStack('prod', { services: { pdpService: { desiredCount: 0 } } })).toThrow(
      'ecs-prod: pdpService.desiredCount is 0; prod services need at least one running task.',
    );
  });

  test('a fractional desired count', () => {
    expect(() => ecsStack('dev', { services: { apiGateway: { desiredCount: 1.5 } } })).toThrow(
      'ecs-dev: apiGateway.desiredCount 1.5 must be a whole number of tasks.',
    );
  });

  test('a task size Fargate does not offer', () => {
    expect(() => ecsStack('dev', { services: { apiGateway: { cpu: 256, memory: 4096 } } })).toThrow(
      'ecs-dev: apiGateway: memory 4096 MiB does not fit cpu 256',
    );
  });

  test('a container port outside TCP', () => {
    expect(() => ecsStack('dev', { services: { apiGateway: { containerPort: 70000 } } })).toThrow(
      'ecs-dev: apiGateway.containerPort 70000 is not a TCP port.',
    );
  });
});

describe('validateFargateSize', () => {
  test.each([
    [256, 512],
    [256, 2048],
    [512, 4096],
    [4096, 30720],
    [16384, 122880],
  ])('accepts cpu %i with %i MiB', (cpu, memory) => {
    expect(() => validateFargateSize(cpu, memory, 'task')).not.toThrow();
  });

  test.each([
    [256, 1536],
    [512, 512],
    [1024, 9216],
    [8192, 18432],
  ])('rejects cpu %i with %i MiB', (cpu, memory) => {
    expect(() => validateFargateSize(cpu, memory, 'task')).toThrow(
      `task: memory ${memory} MiB does not fit cpu ${cpu}`,
    );
  });

  test('rejects a CPU size Fargate does not have', () => {
    expect(() => validateFargateSize(768, 2048, 'task')).toThrow('task: cpu 768 is not a Fargate size');
  });
});
