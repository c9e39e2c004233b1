/**
 * ecs-<env>: the application tier of the design (API gateway, auth service, PDP service) on
 * Fargate in the private subnets.
 *
 * It reads vpc-<env> and rds-<env> from their state: subnets, the module's client security
 * group (the only way into the database), the writer and reader addresses, and the credential
 * secrets, which the tasks receive through ECS `secrets`, never as plain environment. Each service
 * gets the one login it needs (SERVICE_ACCESS) through an execution role of its own.
 */
import { Fn, TerraformLocal, TerraformOutput, TerraformRemoteState, Token } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { EcsCluster } from '@cdktf/provider-aws/lib/ecs-cluster';
import { SecurityGroup, SecurityGroupIngress } from '@cdktf/provider-aws/lib/security-group';
import { EnvironmentConfig } from '../config/environments';
import { ApplicationService, SecretVariable } from './ecs-service';
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
const IMAGE_PATTERN = new RegExp(
  String.raw`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
    String.raw`(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);
const ECR_IMAGE_PATTERN = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/;

/** Which database login a service connects as; `none` keeps it off the database network path. */
export type DatabaseLogin = 'app' | 'readonly' | 'none';

/** What one service may reach. */
export interface ServiceAccess {
  readonly login: DatabaseLogin;
  /** Receives the tenant-context signing key (only the service that issues contexts). */
  readonly signsTenantContexts: boolean;
}

/**
 * What each service may reach. The decision point only evaluates (reads); the auth service
 * writes users, roles and grants and issues tenant contexts; the gateway only forwards requests
 * and contexts.
 */
export const SERVICE_ACCESS: Readonly<Record<ServiceKey, ServiceAccess>> = {
  apiGateway: { login: 'none', signsTenantContexts: false },
  authService: { login: 'app', signsTenantContexts: true },
  pdpService: { login: 'readonly', signsTenantContexts: false },
};

export class EcsStack extends EnvironmentStack {
  readonly services: Readonly<Record<ServiceKey, ResolvedService>>;
  readonly cluster: EcsCluster;
  readonly serviceSecurityGroup: SecurityGroup;
  /** One construct per service: log group, execution role, task definition, ECS service. */
  readonly applicationServices: Readonly<Record<ServiceKey, ApplicationService>>;

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

    this.cluster = new EcsCluster(this, 'cluster', {
      name,
      setting: [{ name: 'containerInsights', value: 'enabled' }],
    });
    this.serviceSecurityGroup = this.tierSecurityGroup(vpc.getString(VPC_OUTPUTS.vpcId));
    const assumeRole = new DataAwsIamPolicyDocument(this, 'execution-assume-role', {
      statement: [
        {
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['ecs-tasks.amazonaws.com'] }],
          // Confused-deputy guard: only ECS acting for this account may assume the roles.
          condition: [
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [account] },
            { test: 'ArnLike', variable: 'aws:SourceArn', values: [`${arnPrefix('ecs')}:*`] },
          ],
        },
      ],
    });

    const database = this.databaseWiring(rds);
    this.applicationServices = Object.fromEntries(
      SERVICE_KEYS.map((key) => {
        const service = this.services[key];
        const access = database[SERVICE_ACCESS[key].login];
        return [
          key,
          new ApplicationService(this, service.name, {
            name: service.name,
            namePrefix: name,
            region: this.region,
            image: service.defaultImage
              ? `${account}.dkr.ecr.${this.region}.amazonaws.com/${service.image}`
              : service.image,
            cpu: service.cpu,
            memory: service.memory,
            containerPort: service.containerPort,
            desiredCount: service.desiredCount,
            logRetentionDays: this.config.logRetentionDays,
            clusterArn: this.cluster.arn,
            subnetIds: vpc.getList(VPC_OUTPUTS.privateSubnetIds),
            securityGroupIds: [this.serviceSecurityGroup.id, ...access.securityGroupIds],
            environment: [{ name: 'ACCESSWEAVER_ENVIRONMENT', value: this.config.name }, ...access.environment],
            secrets: [
              ...access.secrets,
              ...(SERVICE_ACCESS[key].signsTenantContexts
                ? [{ name: 'TENANT_CONTEXT_KEY', secretArn: rds.getString(RDS_OUTPUTS.tenantContextKeySecretArn) }]
                : []),
            ],
            secretsKeyArn: rds.getString(RDS_OUTPUTS.kmsKeyArn),
            assumeRolePolicy: assumeRole.json,
            pullRepositoryArns: this.pullRepositoryArns(service, arnPrefix('ecr')),
          }),
        ];
      }),
    ) as Record<ServiceKey, ApplicationService>;
    this.addOutputs();
  }

  /** Per login: the secrets, plain environment and security groups a service using it gets. */
  private databaseWiring(rds: TerraformRemoteState): Record<
    DatabaseLogin,
    {
      readonly secrets: SecretVariable[];
      readonly environment: { name: string; value: string }[];
      readonly securityGroupIds: string[];
    }
  > {
    // A local keeps the container definitions free of function calls, whose quotes JSON would escape.
    const readerHosts = new TerraformLocal(
      this,
      'database_reader_hosts',
      Fn.join(',', rds.getList(RDS_OUTPUTS.readerAddresses)),
    );
    const common = [
      { name: 'DATABASE_PORT', value: rds.getString(RDS_OUTPUTS.databasePort) },
      { name: 'DATABASE_NAME', value: rds.getString(RDS_OUTPUTS.databaseName) },
    ];
    const credentials = (secretArn: string): SecretVariable[] => [
      { name: 'DATABASE_USERNAME', secretArn, jsonKey: 'username' },
      { name: 'DATABASE_PASSWORD', secretArn, jsonKey: 'password' },
    ];
    const client = [rds.getString(RDS_OUTPUTS.securityGroupClientId)];
    return {
      app: {
        secrets: credentials(rds.getString(RDS_OUTPUTS.appSecretArn)),
        environment: [
          { name: 'DATABASE_WRITER_HOST', value: rds.getString(RDS_OUTPUTS.primaryAddress) },
          { name: 'DATABASE_READER_HOSTS', value: readerHosts.asString },
          ...common,
        ],
        securityGroupIds: client,
      },
      // The read-only login has default_transaction_read_only: it is given the readers only.
      readonly: {
        secrets: credentials(rds.getString(RDS_OUTPUTS.readonlySecretArn)),
        environment: [{ name: 'DATABASE_READER_HOSTS', value: readerHosts.asString }, ...common],
        securityGroupIds: client,
      },
      none: { secrets: [], environment: [], securityGroupIds: [] },
    };
  }

  private tierSecurityGroup(vpcId: string): SecurityGroup {
    const ports = [...new Set(SERVICE_KEYS.map((key) => this.services[key].containerPort))];
    return new SecurityGroup(this, 'service-security-group', {
      name: `${this.namePrefix}-services`,
      description: 'Application services: calls between the services, egress to AWS endpoints and the database',
      vpcId,
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
      tags: { Name: `${this.namePrefix}-services` },
    });
  }

  private addOutputs(): void {
    const byService = (value: (service: ApplicationService) => string) =>
      Object.fromEntries(SERVICE_KEYS.map((key) => [SERVICE_NAMES[key], value(this.applicationServices[key])]));
    new TerraformOutput(this, 'cluster_name', { value: this.cluster.name, description: 'ECS cluster name' });
    new TerraformOutput(this, 'cluster_arn', { value: this.cluster.arn, description: 'ECS cluster ARN' });
    new TerraformOutput(this, 'service_security_group_id', {
      value: this.serviceSecurityGroup.id,
      description: 'Security group shared by the application services',
    });
    new TerraformOutput(this, 'execution_role_arns', {
      value: byService((service) => service.executionRole.arn),
      description: 'Task execution role of each service (each reads only its own secrets)',
    });
    new TerraformOutput(this, 'service_names', {
      value: byService((service) => service.service.name),
      description: 'ECS service names by service',
    });
    new TerraformOutput(this, 'log_group_names', {
      value: byService((service) => service.logGroup.name),
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
   * ECR repository the service's execution role may pull from. An image outside ECR needs no IAM
   * permission; an image given as a token could be any repository of this account.
   */
  private pullRepositoryArns(service: ResolvedService, ecrArnPrefix: string): string[] {
    if (service.defaultImage) return [`${ecrArnPrefix}:repository/${service.image.replace(/:[^/]*$/, '')}`];
    if (Token.isUnresolved(service.image)) return [`${ecrArnPrefix}:repository/*`];
    const ecr = ECR_IMAGE_PATTERN.exec(service.image);
    if (!ecr) return [];
    const [, imageAccount, imageRegion, repository] = ecr;
    const partition = service.image.includes('.amazonaws.com.cn/') ? 'aws-cn' : 'aws';
    return [`arn:${partition}:ecr:${imageRegion}:${imageAccount}:repository/${repository}`];
  }
}
