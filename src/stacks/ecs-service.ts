/**
 * One service of the application tier: its log group, its own task execution role (reading only
 * the secrets this service receives, and using the database key only for them), its task
 * definition and its ECS service.
 */
import { Construct } from 'constructs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import {
  DataAwsIamPolicyDocument,
  DataAwsIamPolicyDocumentStatement,
} from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { EcsService } from '@cdktf/provider-aws/lib/ecs-service';
import { EcsTaskDefinition } from '@cdktf/provider-aws/lib/ecs-task-definition';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { TerraformElement } from 'cdktf';

/** Addresses named after the service (`aws_iam_role.auth-service-execution-role`), not after the construct path. */
function named<T extends TerraformElement>(service: string, element: T): T {
  element.overrideLogicalId(`${service}-${element.node.id}`);
  return element;
}

/** A Secrets Manager secret, or one JSON key of it, given to the container as an environment variable. */
export interface SecretVariable {
  /** Environment variable the container sees. */
  readonly name: string;
  readonly secretArn: string;
  /**
   * JSON key inside the secret.
   * @default the whole secret string
   */
  readonly jsonKey?: string;
}

/** `<project>-<env>-<service>-execution`: also how rds-<env> names the services as readers of their secrets. */
export const executionRoleName = (namePrefix: string, service: string): string => `${namePrefix}-${service}-execution`;

export interface ApplicationServiceProps {
  /** Service name (`auth-service`); also the container, log stream prefix and role name part. */
  readonly name: string;
  /** `<project>-<env>`. */
  readonly namePrefix: string;
  readonly region: string;
  /** Fully resolved container image. */
  readonly image: string;
  readonly cpu: number;
  readonly memory: number;
  readonly containerPort: number;
  readonly desiredCount: number;
  readonly logRetentionDays: number;
  readonly clusterArn: string;
  readonly subnetIds: string[];
  /** Every security group of the tasks: the tier's, plus the database client group only for services that connect. */
  readonly securityGroupIds: string[];
  /** Plain environment (never credentials). */
  readonly environment: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  /**
   * Secret values resolved by ECS at task start. The execution role may read exactly these secrets.
   * @default [] (no secret, no Secrets Manager or KMS permission)
   */
  readonly secrets?: readonly SecretVariable[];
  /** Key encrypting `secrets`; required when `secrets` is not empty. */
  readonly secretsKeyArn?: string;
  /** Trust policy of the execution role (ECS tasks of this account). */
  readonly assumeRolePolicy: string;
  /**
   * ECR repositories the execution role may pull from.
   * @default [] (image outside ECR: no ECR permission)
   */
  readonly pullRepositoryArns?: readonly string[];
}

/** A Fargate service with an execution role of its own. */
export class ApplicationService extends Construct {
  readonly logGroup: CloudwatchLogGroup;
  readonly executionRole: IamRole;
  readonly executionPolicy: DataAwsIamPolicyDocument;
  readonly taskDefinition: EcsTaskDefinition;
  readonly service: EcsService;

  constructor(scope: Construct, id: string, props: ApplicationServiceProps) {
    super(scope, id);
    const secrets = props.secrets ?? [];
    if (secrets.length > 0 && props.secretsKeyArn === undefined) {
      throw new Error(`${props.name}: secrets need the key that encrypts them (secretsKeyArn).`);
    }

    this.logGroup = named(
      props.name,
      new CloudwatchLogGroup(this, 'logs', {
        name: `/ecs/${props.namePrefix}/${props.name}`,
        retentionInDays: props.logRetentionDays,
      }),
    );
    this.executionRole = named(
      props.name,
      new IamRole(this, 'execution-role', {
        name: executionRoleName(props.namePrefix, props.name),
        description: `ECS agent of ${props.name}: pulls its image, writes its logs, reads only its own secrets`,
        assumeRolePolicy: props.assumeRolePolicy,
      }),
    );
    this.executionPolicy = named(
      props.name,
      new DataAwsIamPolicyDocument(this, 'execution-policy', {
        statement: this.executionStatements(props, secrets),
      }),
    );
    named(
      props.name,
      new IamRolePolicy(this, 'execution-role-policy', {
        name: 'task-execution',
        role: this.executionRole.id,
        policy: this.executionPolicy.json,
      }),
    );

    this.taskDefinition = named(
      props.name,
      new EcsTaskDefinition(this, 'task', {
        family: `${props.namePrefix}-${props.name}`,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: String(props.cpu),
        memory: String(props.memory),
        executionRoleArn: this.executionRole.arn,
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
        containerDefinitions: JSON.stringify([this.containerDefinition(props, secrets)]),
      }),
    );
    this.service = named(
      props.name,
      new EcsService(this, 'service', {
        name: props.name,
        cluster: props.clusterArn,
        taskDefinition: this.taskDefinition.arn,
        desiredCount: props.desiredCount,
        launchType: 'FARGATE',
        networkConfiguration: {
          subnets: props.subnetIds,
          securityGroups: props.securityGroupIds,
          assignPublicIp: false,
        },
        deploymentCircuitBreaker: { enable: true, rollback: true },
        propagateTags: 'SERVICE',
        enableEcsManagedTags: true,
      }),
    );
  }

  private containerDefinition(props: ApplicationServiceProps, secrets: readonly SecretVariable[]) {
    return {
      name: props.name,
      image: props.image,
      essential: true,
      portMappings: [{ containerPort: props.containerPort, protocol: 'tcp' }],
      environment: props.environment,
      // ECS resolves these JSON keys at task start; the values never reach the task definition.
      secrets: secrets.map((secret) => ({
        name: secret.name,
        valueFrom: secret.jsonKey === undefined ? secret.secretArn : `${secret.secretArn}:${secret.jsonKey}::`,
      })),
      logConfiguration: {
        logDriver: 'awslogs',
        options: {
          'awslogs-group': this.logGroup.name,
          'awslogs-region': props.region,
          'awslogs-stream-prefix': props.name,
        },
      },
    };
  }

  private executionStatements(
    props: ApplicationServiceProps,
    secrets: readonly SecretVariable[],
  ): DataAwsIamPolicyDocumentStatement[] {
    const statements: DataAwsIamPolicyDocumentStatement[] = [];
    const secretArns = [...new Set(secrets.map((secret) => secret.secretArn))];
    if (secretArns.length > 0) {
      statements.push(
        { sid: 'ReadOwnSecrets', actions: ['secretsmanager:GetSecretValue'], resources: secretArns },
        {
          // Secrets Manager puts the secret's ARN in the encryption context of every data key, so the
          // role can decrypt these secrets with the shared key and no other secret encrypted by it.
          sid: 'DecryptOwnSecretsOnly',
          actions: ['kms:Decrypt'],
          resources: [props.secretsKeyArn!],
          condition: [
            {
              test: 'StringEquals',
              variable: 'kms:ViaService',
              values: [`secretsmanager.${props.region}.amazonaws.com`],
            },
            { test: 'StringEquals', variable: 'kms:EncryptionContext:SecretARN', values: secretArns },
          ],
        },
      );
    }
    statements.push({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [`${this.logGroup.arn}:*`],
    });
    const repositories = props.pullRepositoryArns ?? [];
    if (repositories.length > 0) {
      statements.push(
        // GetAuthorizationToken has no resource-level permissions.
        { sid: 'AuthenticateToEcr', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
        {
          sid: 'PullOwnImage',
          actions: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
          resources: [...repositories],
        },
      );
    }
    return statements;
  }
}
