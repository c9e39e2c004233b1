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

function executionStatements(synth: SynthesizedStack): Statement[] {
  return (synth.data.aws_iam_policy_document?.['execution-policy']?.statement ?? []) as Statement[];
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

  test("attaches every service to the database module's client security group", () => {
    const services = Object.values(resourcesOf(synthJson(ecsStack('dev')), 'aws_ecs_service'));
    expect(
      services.map((service) => (service.network_configuration as { security_groups: string[] }).security_groups),
    ).toEqual(SERVICES.map(() => ['${aws_security_group.service-security-group.id}', RDS('security_group_client_id')]));
  });

  test('reads vpc-<env> and rds-<env> from their state files', () => {
    expect(synthJson(ecsStack('staging')).data.terraform_remote_state).toEqual({
      vpc: { backend: 'local', config: { path: '/var/lib/accessweaver-state/terraform.vpc-staging.tfstate' } },
      rds: { backend: 'local', config: { path: '/var/lib/accessweaver-state/terraform.rds-staging.tfstate' } },
    });
  });

  test('takes the database credentials from the application secret through ECS secrets', () => {
    expect(container(synthJson(ecsStack('dev')), 'auth-service').secrets).toEqual([
      { name: 'DATABASE_USERNAME', valueFrom: `${RDS('app_secret_arn')}:username::` },
      { name: 'DATABASE_PASSWORD', valueFrom: `${RDS('app_secret_arn')}:password::` },
    ]);
  });

  test('puts no credential in the plain environment', () => {
    const names = container(synthJson(ecsStack('dev')), 'auth-service').environment.map((variable) => variable.name);
    expect(names.filter((name) => /PASSWORD|USER|SECRET/.test(name))).toEqual([]);
  });

  test('gives the writer and reader endpoints, port and database name as environment', () => {
    const synth = synthJson(ecsStack('dev'));
    expect(container(synth, 'pdp-service').environment).toEqual([
      { name: 'ACCESSWEAVER_ENVIRONMENT', value: 'dev' },
      { name: 'DATABASE_WRITER_HOST', value: RDS('primary_address') },
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

  test('the execution role reads exactly the application secret', () => {
    const statements = executionStatements(synthJson(ecsStack('prod')));
    expect(statements.filter((s) => s.actions.some((a) => a.startsWith('secretsmanager:')))).toEqual([
      {
        sid: 'ReadApplicationDatabaseSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [RDS('app_secret_arn')],
      },
    ]);
  });

  test('the execution role decrypts with exactly the module key, through Secrets Manager only', () => {
    const statements = executionStatements(synthJson(ecsStack('prod')));
    expect(statements.filter((s) => s.actions.some((a) => a.startsWith('kms:')))).toEqual([
      {
        sid: 'DecryptApplicationDatabaseSecret',
        actions: ['kms:Decrypt'],
        resources: [RDS('kms_key_arn')],
        condition: [
          { test: 'StringEquals', variable: 'kms:ViaService', values: ['secretsmanager.eu-west-3.amazonaws.com'] },
        ],
      },
    ]);
  });

  test('the execution role has no wildcard resource except the ECR login', () => {
    const wildcards = executionStatements(synthJson(ecsStack('prod'))).filter((s) => s.resources.includes('*'));
    expect(wildcards.map((s) => s.actions)).toEqual([['ecr:GetAuthorizationToken']]);
  });

  test('the execution role writes only to the services’ log groups', () => {
    const logs = executionStatements(synthJson(ecsStack('prod'))).find((s) => s.sid === 'WriteServiceLogs');
    expect(logs?.resources).toEqual(SERVICES.map((name) => `\${aws_cloudwatch_log_group.${name}-logs.arn}:*`));
  });

  test('the execution role pulls only the services’ default repositories', () => {
    const pull = executionStatements(synthJson(ecsStack('dev'))).find((s) => s.sid === 'PullServiceImages');
    expect(pull?.resources).toEqual(
      SERVICES.map(
        (name) =>
          `arn:\${data.aws_partition.partition.partition}:ecr:eu-west-3:\${data.aws_caller_identity.caller.account_id}:repository/accessweaver/${name}`,
      ),
    );
  });

  test('an image in another ECR registry is the repository the role may pull', () => {
    const image = '210987654321.dkr.ecr.eu-west-1.amazonaws.com/shared/pdp@sha256:' + 'a'.repeat(64);
    const pull = executionStatements(synthJson(ecsStack('dev', { services: { pdpService: { image } } }))).find(
      (s) => s.sid === 'PullServiceImages',
    );
    expect(pull?.resources).toContain('arn:aws:ecr:eu-west-1:210987654321:repository/shared/pdp');
  });

  test('images outside ECR need no ECR permission', () => {
    const services = {
      apiGateway: { image: 'ghcr.io/acme/api-gateway:1.0.0' },
      authService: { image: 'ghcr.io/acme/auth-service:1.0.0' },
      pdpService: { image: 'ghcr.io/acme/pdp-service:1.0.0' },
    };
    const sids = executionStatements(synthJson(ecsStack('dev', { services }))).map((s) => s.sid);
    expect(sids).toEqual(['ReadApplicationDatabaseSecret', 'DecryptApplicationDatabaseSecret', 'WriteServiceLogs']);
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

  test('outputs the service security group under the seed’s name', () => {
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
