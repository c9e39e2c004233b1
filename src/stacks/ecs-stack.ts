/**
 * ecs-<env>: the application tier of the design (API gateway, auth service, PDP service) on
 * Fargate in the private subnets.
 *
 * It reads vpc-<env> and rds-<env> from their state: subnets, the module's client security
 * group (the only way into the database), the writer and reader addresses, and the application
 * credentials secret, which the tasks receive through ECS `secrets`, never as plain environment.
 */
import { Fn, TerraformLocal, TerraformOutput, Token } from 'cdktf';
import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import {
  DataAwsIamPolicyDocument,
  DataAwsIamPolicyDocumentStatement,
} from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { SecurityGroup, SecurityGroupIngress } from '@cdktf/provider-aws/lib/security-group';
import { EnvironmentConfig } from '../config/environments';
import { EnvironmentStack, EnvironmentStackProps, RDS_OUTPUTS, VPC_OUTPUTS } from './environment-stack';

export type ServiceKey = keyof EnvironmentConfig['services'];

/** The services of the design's application tier, keyed as in the environment table. */
export const SERVICE_NAMES: Readonly<Record<ServiceKey, string>> = {
  apiGateway: 'api-gateway',
  authService: 'auth-service',
  pdpService: 'pdp-service',
};
export const SERVICE_KEYS = Object.keys(SERVICE_NAMES) as ServiceKey[];

export const DEFAULT_CONTAINER_PORT = 8080;

/** Per-service inputs; anything left out comes from the environment table or the defaults below. */
export interface ServiceSettings {
  /**
   * Container image reference.
   * @default `<account>.dkr.ecr.<region>.amazonaws.com/<project>/<service>:<environment>`
   */
  readonly image?: string;
  /**
   * Running tasks. Zero is allowed outside prod (a parked environment), never in prod.
   * @default the environment table's services.<key>.desiredCount
   */
  readonly desiredCount?: number;
  /**
   * Fargate CPU units.
   * @default the environment table's services.<key>.cpu
   */
  readonly cpu?: number;
  /**
   * Fargate memory in MiB (must be a valid pairing with cpu).
   * @default the environment table's services.<key>.memory
   */
  readonly memory?: number;
  /**
   * Port the container listens on, open to the other services of the tier.
   * @default DEFAULT_CONTAINER_PORT (8080)
   */
  readonly containerPort?: number;
}

export interface EcsStackProps extends EnvironmentStackProps {
  /**
   * Per-service overrides.
   * @default {} (every service from the environment table, image from the account's ECR)
   */
  readonly services?: Readonly<Partial<Record<ServiceKey, ServiceSettings>>>;
}

/** The settings of one service after defaults and validation. */
export interface ResolvedService {
  readonly key: ServiceKey;
  readonly name: string;
  readonly image: string;
  /** True when the image is the default one from this account's ECR. */
  readonly defaultImage: boolean;
  readonly desiredCount: number;
  readonly cpu: number;
  readonly memory: number;
  readonly containerPort: number;
}

// Valid Fargate memory sizes (MiB) for each CPU size.
function fargateMemoryOptions(cpu: number): readonly number[] | undefined {
  const range = (min: number, max: number, step: number) =>
    Array.from({ length: (max - min) / step + 1 }, (_, i) => min + i * step);
  switch (cpu) {
    case 256:
      return [512, 1024, 2048];
    case 512:
      return range(1024, 4096, 1024);
    case 1024:
      return range(2048, 8192, 1024);
    case 2048:
      return range(4096, 16384, 1024);
    case 4096:
      return range(8192, 30720, 1024);
    case 8192:
      return range(16384, 61440, 4096);
    case 16384:
      return range(32768, 122880, 8192);
    default:
      return undefined;
  }
}

/** Throws unless (cpu, memory) is a Fargate task size. */
export function validateFargateSize(cpu: number, memory: number, what: string): void {
  const options = fargateMemoryOptions(cpu);
  if (!options) {
    throw new Error(`${what}: cpu ${cpu} is not a Fargate size (256, 512, 1024, 2048, 4096, 8192 or 16384).`);
  }
  if (!options.includes(memory)) {
    throw new Error(
      `${what}: memory ${memory} MiB does not fit cpu ${cpu} (Fargate takes ${options[0]} to ${options[options.length - 1]} MiB: ${options.join(', ')}).`,
    );
  }
}

// registry[:port]/path[:tag][@sha256:digest], lowercase path components as Docker requires.
const IMAGE_PATTERN =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const ECR_IMAGE_PATTERN = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/;

export class EcsStack extends EnvironmentStack {
  readonly services: Readonly<Record<ServiceKey, ResolvedService>>;
  readonly cluster: EcsCluster;
  readonly executionRole: IamRole;
  readonly serviceSecurityGroup: SecurityGroup;
  readonly logGroups: Readonly<Record<ServiceKey, CloudwatchLogGroup>>;
  readonly taskDefinitions: Readonly<Record<ServiceKey, EcsTaskDefinition>>;
  readonly ecsServices: Readonly<Record<ServiceKey, EcsService>>;

  constructor(scope: Construct, id: string, props: EcsStackProps) {
    super(scope, id, props);
    // Resolve and validate every service before creating anything.
    this.services = Object.fromEntries(
      SERVICE_KEYS.map((key) => [key, this.resolveService(key, props.services?.[key] ?? {})]),
    ) as Record<ServiceKey, ResolvedService>;
    const name = this.namePrefix;

    const vpc = this.readState('vpc');
    const rds = this.readState('rds');
    const caller = new DataAwsCallerIdentity(this, 'caller');
    const partition = new DataAwsPartition(this, 'partition');
    const account = caller.accountId;
    const arnPrefix = (service: string) => `arn:${partition.partition}:${service}:${this.region}:${account}`;

    const appSecretArn = rds.getString(RDS_OUTPUTS.appSecretArn);
    const kmsKeyArn = rds.getString(RDS_OUTPUTS.kmsKeyArn);
    // Locals keep the container definitions free of function calls, whose quotes JSON would escape.
    const readerHosts = new TerraformLocal(
      this,
      'database_reader_hosts',
      Fn.join(',', rds.getList(RDS_OUTPUTS.readerAddresses)),
    );

    this.cluster = new EcsCluster(this, 'cluster', {
      name,
      setting: [{ name: 'containerInsights', value: 'enabled' }],
    });

    const ports = [...new Set(SERVICE_KEYS.map((key) => this.services[key].containerPort))];
    this.serviceSecurityGroup = new SecurityGroup(this, 'service-security-group', {
      name: `${name}-services`,
      description: 'Application services: calls between the services, egress to AWS endpoints and the database',
      vpcId: vpc.getString(VPC_OUTPUTS.vpcId),
      // Typed return: an object literal in a callback escapes the excess-property check.
      ingress: ports.map((port): SecurityGroupIngress => ({
        description: `Service-to-service on ${port}`,
        protocol: 'tcp',
        fromPort: port,
        toPort: port,
        selfAttribute: true,
      })),
      egress: [
        {
          description: 'AWS endpoints, the database and, through NAT, the internet',
          protocol: '-1',
          fromPort: 0,
          toPort: 0,
          cidrBlocks: ['0.0.0.0/0'],
        },
      ],
      tags: { Name: `${name}-services` },
    });

    this.logGroups = Object.fromEntries(
      SERVICE_KEYS.map((key) => [
        key,
        new CloudwatchLogGroup(this, `${this.services[key].name}-logs`, {
          name: `/ecs/${name}/${this.services[key].name}`,
          retentionInDays: this.config.logRetentionDays,
        }),
      ]),
    ) as Record<ServiceKey, CloudwatchLogGroup>;

    const assumeRole = new DataAwsIamPolicyDocument(this, 'execution-assume-role', {
      statement: [
        {
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['ecs-tasks.amazonaws.com'] }],
          // Confused-deputy guard: only ECS acting for this account may assume the role.
          condition: [
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [account] },
            { test: 'ArnLike', variable: 'aws:SourceArn', values: [`${arnPrefix('ecs')}:*`] },
          ],
        },
      ],
    });
    this.executionRole = new IamRole(this, 'execution-role', {
      name: `${name}-ecs-execution`,
      description: 'ECS agent: pulls the images, writes the logs, reads the application database secret',
      assumeRolePolicy: assumeRole.json,
    });

    const statements: DataAwsIamPolicyDocumentStatement[] = [
      {
        sid: 'ReadApplicationDatabaseSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [appSecretArn],
      },
      {
        sid: 'DecryptApplicationDatabaseSecret',
        actions: ['kms:Decrypt'],
        resources: [kmsKeyArn],
        condition: [
          { test: 'StringEquals', variable: 'kms:ViaService', values: [`secretsmanager.${this.region}.amazonaws.com`] },
        ],
      },
      {
        sid: 'WriteServiceLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: SERVICE_KEYS.map((key) => `${this.logGroups[key].arn}:*`),
      },
    ];
    const repositories = this.pullRepositoryArns(arnPrefix('ecr'));
    if (repositories.length > 0) {
      statements.push(
        // GetAuthorizationToken has no resource-level permissions.
        { sid: 'AuthenticateToEcr', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
        {
          sid: 'PullServiceImages',
          actions: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
          resources: repositories,
        },
      );
    }
    const executionPolicy = new DataAwsIamPolicyDocument(this, 'execution-policy', { statement: statements });
    new IamRolePolicy(this, 'execution-role-policy', {
      name: 'task-execution',
      role: this.executionRole.id,
      policy: executionPolicy.json,
    });

    const environment = [
      { name: 'ACCESSWEAVER_ENVIRONMENT', value: this.config.name },
      { name: 'DATABASE_WRITER_HOST', value: rds.getString(RDS_OUTPUTS.primaryAddress) },
      { name: 'DATABASE_READER_HOSTS', value: readerHosts.asString },
      { name: 'DATABASE_PORT', value: rds.getString(RDS_OUTPUTS.databasePort) },
      { name: 'DATABASE_NAME', value: rds.getString(RDS_OUTPUTS.databaseName) },
    ];
    // ECS resolves these JSON keys of the secret at task start; the values never reach the task definition.
    const secrets = [
      { name: 'DATABASE_USERNAME', valueFrom: `${appSecretArn}:username::` },
      { name: 'DATABASE_PASSWORD', valueFrom: `${appSecretArn}:password::` },
    ];
    const privateSubnetIds = vpc.getList(VPC_OUTPUTS.privateSubnetIds);
    const clientSecurityGroupId = rds.getString(RDS_OUTPUTS.securityGroupClientId);

    const taskDefinitions: Partial<Record<ServiceKey, EcsTaskDefinition>> = {};
    const ecsServices: Partial<Record<ServiceKey, EcsService>> = {};
    for (const key of SERVICE_KEYS) {
      const service = this.services[key];
      const image = service.defaultImage
        ? `${account}.dkr.ecr.${this.region}.amazonaws.com/${service.image}`
        : service.image;
      const taskDefinition = new EcsTaskDefinition(this, `${service.name}-task`, {
        family: `${name}-${service.name}`,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: String(service.cpu),
        memory: String(service.memory),
        executionRoleArn: this.executionRole.arn,
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
        containerDefinitions: JSON.stringify([
          {
            name: service.name,
            image,
            essential: true,
            portMappings: [{ containerPort: service.containerPort, protocol: 'tcp' }],
            environment,
            secrets,
            logConfiguration: {
              logDriver: 'awslogs',
              options: {
                'awslogs-group': this.logGroups[key].name,
                'awslogs-region': this.region,
                'awslogs-stream-prefix': service.name,
              },
            },
          },
        ]),
      });
      taskDefinitions[key] = taskDefinition;
      ecsServices[key] = new EcsService(this, `${service.name}-service`, {
        name: service.name,
        cluster: this.cluster.arn,
        taskDefinition: taskDefinition.arn,
        desiredCount: service.desiredCount,
        launchType: 'FARGATE',
        networkConfiguration: {
          subnets: privateSubnetIds,
          securityGroups: [this.serviceSecurityGroup.id, clientSecurityGroupId],
          assignPublicIp: false,
        },
        deploymentCircuitBreaker: { enable: true, rollback: true },
        propagateTags: 'SERVICE',
        enableEcsManagedTags: true,
      });
    }
    this.taskDefinitions = taskDefinitions as Record<ServiceKey, EcsTaskDefinition>;
    this.ecsServices = ecsServices as Record<ServiceKey, EcsService>;

    new TerraformOutput(this, 'cluster_name', { value: this.cluster.name, description: 'ECS cluster name' });
    new TerraformOutput(this, 'cluster_arn', { value: this.cluster.arn, description: 'ECS cluster ARN' });
    new TerraformOutput(this, 'service_security_group_id', {
      value: this.serviceSecurityGroup.id,
      description: 'Security group shared by the application services',
    });
    new TerraformOutput(this, 'execution_role_arn', {
      value: this.executionRole.arn,
      description: 'Task execution role (reads exactly the application database secret)',
    });
    new TerraformOutput(this, 'service_names', {
      value: Object.fromEntries(SERVICE_KEYS.map((key) => [SERVICE_NAMES[key], ecsServices[key]!.name])),
      description: 'ECS service names by service',
    });
    new TerraformOutput(this, 'log_group_names', {
      value: Object.fromEntries(SERVICE_KEYS.map((key) => [SERVICE_NAMES[key], this.logGroups[key].name])),
      description: 'CloudWatch log groups by service',
    });
  }

  private resolveService(key: ServiceKey, settings: ServiceSettings): ResolvedService {
    const where = `${this.node.id}: ${key}`;
    const sizing = this.config.services[key];
    const name = SERVICE_NAMES[key];
    const desiredCount = settings.desiredCount ?? sizing.desiredCount;
    const cpu = settings.cpu ?? sizing.cpu;
    const memory = settings.memory ?? sizing.memory;
    const containerPort = settings.containerPort ?? DEFAULT_CONTAINER_PORT;

    if (!Number.isInteger(desiredCount) || desiredCount < 0) {
      throw new Error(`${where}.desiredCount ${desiredCount} must be a whole number of tasks.`);
    }
    if (this.config.name === 'prod' && desiredCount === 0) {
      throw new Error(`${where}.desiredCount is 0; prod services need at least one running task.`);
    }
    validateFargateSize(cpu, memory, where);
    if (!Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535) {
      throw new Error(`${where}.containerPort ${containerPort} is not a TCP port.`);
    }

    if (settings.image === undefined) {
      // A repository path; the registry (this account's ECR) is only known at plan time.
      return {
        key,
        name,
        image: `${this.projectName}/${name}:${this.config.name}`,
        defaultImage: true,
        desiredCount,
        cpu,
        memory,
        containerPort,
      };
    }
    const image = settings.image;
    if (!Token.isUnresolved(image) && !IMAGE_PATTERN.test(image)) {
      throw new Error(
        image.trim() === ''
          ? `${where}.image is empty; give a container image reference or leave it out for the default.`
          : `${where}.image '${image}' is not a container image reference (registry/repository[:tag][@sha256:digest]).`,
      );
    }
    return { key, name, image, defaultImage: false, desiredCount, cpu, memory, containerPort };
  }

  /**
   * ECR repositories the execution role may pull from: exactly the services' repositories.
   * Images outside ECR need no IAM permission; an image given as a token could be any repository
   * of this account.
   */
  private pullRepositoryArns(ecrArnPrefix: string): string[] {
    const arns = new Set<string>();
    for (const key of SERVICE_KEYS) {
      const service = this.services[key];
      if (service.defaultImage) {
        arns.add(`${ecrArnPrefix}:repository/${service.image.replace(/:[^/]*$/, '')}`);
      } else if (Token.isUnresolved(service.image)) {
        arns.add(`${ecrArnPrefix}:repository/*`);
      } else {
        const ecr = ECR_IMAGE_PATTERN.exec(service.image);
        if (ecr) {
          const [, imageAccount, imageRegion, repository] = ecr;
          const partition = service.image.includes('.amazonaws.com.cn/') ? 'aws-cn' : 'aws';
          arns.add(`arn:${partition}:ecr:${imageRegion}:${imageAccount}:repository/${repository}`);
        }
      }
    }
    return [...arns];
  }
}
