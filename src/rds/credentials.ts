import { Construct } from 'constructs';
import { RESOURCE_SUFFIXES } from '../config/names';
import { TerraformLocal } from 'cdktf';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretRotation } from '@cdktf/provider-aws/lib/secretsmanager-secret-rotation';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { ServerlessapplicationrepositoryCloudformationStack } from '@cdktf/provider-aws/lib/serverlessapplicationrepository-cloudformation-stack';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Password } from '@cdktf/provider-random/lib/password';
import { APP_LOGIN, DATABASE_PORT, READONLY_LOGIN } from '../config/environments';
import { addressOf, config, ref, tf } from './expressions';
import { address, nameTags, prefixed } from './naming';

/** AWS's published single-user rotation function for RDS PostgreSQL (Serverless Application Repository). */
export const POSTGRES_ROTATION_APPLICATION_ID =
  'arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerRDSPostgreSQLRotationSingleUser';
export const ROTATION_DAYS = 30;
/** Characters RDS and connection URLs handle badly are kept out of generated passwords. */
export const PASSWORD_SPECIALS = '!#$%&*()-_=+[]{}<>:?';

export interface DatabaseCredentialsProps {
  /** Encrypts the secrets; the rotation function decrypts with it. */
  readonly key: KmsKey;
  /** Region and partition of the Secrets Manager endpoint the rotation function calls. */
  readonly region: DataAwsRegion;
  readonly partition: DataAwsPartition;
  /** The group the rotation function is admitted to. */
  readonly databaseSecurityGroup: SecurityGroup;
  /** The primary whose address, port and database name the secrets carry. */
  readonly primary: DbInstance;
  /** The counted replicas, whose addresses the read-only secret lists. */
  readonly replica: DbInstance;
  /** VPC and private subnets (a list of IDs) of the rotation function. */
  readonly vpcId: TerraformLocal;
  readonly privateSubnetIds: TerraformLocal;
}

/**
 * Credentials of the two application logins (the master password is RDS-managed, see instances.ts).
 *
 * Each secret holds what a client needs to connect (username, password, host, port, dbname, engine; the read-only
 * one also every reader host), is encrypted with the module's key, and in environments that rotate is rotated
 * every 30 days by AWS's PostgreSQL single-user rotation function, deployed into the private subnets.
 *
 * The secret values are seeded once by Terraform; afterwards the rotation function (and `accessweaver-rds
 * setup-database`, which sets the logins' passwords from them) own them, so Terraform ignores later changes.
 * Rotation is not triggered at creation: the logins only exist once setup-database has run.
 */
export class DatabaseCredentials extends Construct {
  public readonly appSecret: SecretsmanagerSecret;
  public readonly readonlySecret: SecretsmanagerSecret;

  constructor(scope: Construct, id: string, props: DatabaseCredentialsProps) {
    super(scope, id);

    const { primary } = props;
    const secretString = (username: string, password: Password, extra = '') =>
      tf.string(
        `jsonencode({ username = ${JSON.stringify(username)}, password = ${ref(password, 'result')}, ` +
          `host = ${ref(primary, 'address')}, port = ${ref(primary, 'port')}, dbname = ${ref(primary, 'dbName')}, ` +
          `engine = "postgres"${extra} })`,
      );

    const passwordArgs = {
      length: 32,
      special: true,
      overrideSpecial: PASSWORD_SPECIALS,
      minLower: 1,
      minUpper: 1,
      minNumeric: 1,
    };
    const appPassword = address(new Password(this, 'app-password', passwordArgs), 'app_password');
    const readonlyPassword = address(new Password(this, 'readonly-password', passwordArgs), 'readonly_password');

    const secret = (name: string, logicalId: string, description: string) =>
      address(
        new SecretsmanagerSecret(this, logicalId, {
          name: prefixed(name),
          description,
          kmsKeyId: props.key.arn,
          recoveryWindowInDays: tf.number(config('secretRecoveryWindowDays')),
          tags: nameTags(name),
        }),
        logicalId,
      );

    this.appSecret = secret(
      RESOURCE_SUFFIXES.appSecret,
      'app_credentials',
      `Credentials of ${APP_LOGIN} (application_role)`,
    );
    this.readonlySecret = secret(
      RESOURCE_SUFFIXES.readonlySecret,
      'readonly_credentials',
      `Credentials of ${READONLY_LOGIN} (readonly_role), with every reader host`,
    );

    address(
      new SecretsmanagerSecretVersion(this, 'app-version', {
        secretId: this.appSecret.id,
        secretString: secretString(APP_LOGIN, appPassword),
        lifecycle: { ignoreChanges: ['secret_string'] },
      }),
      'app_credentials',
    );
    address(
      new SecretsmanagerSecretVersion(this, 'readonly-version', {
        secretId: this.readonlySecret.id,
        secretString: secretString(
          READONLY_LOGIN,
          readonlyPassword,
          `, hosts = concat([${ref(primary, 'address')}], ${ref(props.replica, 'address', '*')})`,
        ),
        lifecycle: { ignoreChanges: ['secret_string'] },
      }),
      'readonly_credentials',
    );

    this.addRotation(props);
  }

  private addRotation(props: DatabaseCredentialsProps): void {
    const whenRotating = tf.number(`${config('rotateCredentials')} ? 1 : 0`);

    // The rotation function talks to the database and to the Secrets Manager endpoint, nothing else.
    const group = address(
      new SecurityGroup(this, 'rotation-group', {
        count: whenRotating,
        namePrefix: prefixed('rds-rotation-'),
        description: 'Secrets Manager rotation function of the AccessWeaver database',
        vpcId: props.vpcId.asString,
        tags: nameTags('rds-rotation-sg'),
      }),
      'rotation',
    );
    const groupId = tf.string(ref(group, 'id', 0));
    address(
      new VpcSecurityGroupEgressRule(this, 'rotation-to-database', {
        count: whenRotating,
        securityGroupId: groupId,
        referencedSecurityGroupId: props.databaseSecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: DATABASE_PORT,
        toPort: DATABASE_PORT,
        description: 'PostgreSQL to the database',
      }),
      'rotation_to_rds',
    );
    address(
      new VpcSecurityGroupEgressRule(this, 'rotation-to-secrets-manager', {
        count: whenRotating,
        securityGroupId: groupId,
        cidrIpv4: '0.0.0.0/0',
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        description: 'HTTPS to the Secrets Manager endpoint (VPC endpoint or NAT)',
      }),
      'rotation_to_secrets_manager',
    );
    address(
      new VpcSecurityGroupIngressRule(this, 'database-from-rotation', {
        count: whenRotating,
        securityGroupId: props.databaseSecurityGroup.id,
        referencedSecurityGroupId: groupId,
        ipProtocol: 'tcp',
        fromPort: DATABASE_PORT,
        toPort: DATABASE_PORT,
        description: 'PostgreSQL from the credential rotation function',
      }),
      'rds_from_rotation',
    );

    const rotationFunction = address(
      new ServerlessapplicationrepositoryCloudformationStack(this, 'rotation-function', {
        count: whenRotating,
        name: prefixed('rds-rotation'),
        applicationId: POSTGRES_ROTATION_APPLICATION_ID,
        capabilities: ['CAPABILITY_IAM', 'CAPABILITY_RESOURCE_POLICY'],
        parameters: {
          functionName: prefixed('rds-rotation'),
          endpoint: `https://secretsmanager.${props.region.name}.${props.partition.dnsSuffix}`,
          vpcSubnetIds: tf.string(`join(",", ${addressOf(props.privateSubnetIds)})`),
          vpcSecurityGroupIds: groupId,
          kmsKeyArn: props.key.arn,
          excludeCharacters: '/@"\'\\ ',
        },
        tags: nameTags('rds-rotation'),
      }),
      'rotation',
    );

    for (const [logicalId, secret] of [
      ['app_credentials', this.appSecret],
      ['readonly_credentials', this.readonlySecret],
    ] as const) {
      address(
        new SecretsmanagerSecretRotation(this, `${logicalId}-rotation`, {
          count: whenRotating,
          secretId: secret.id,
          rotationLambdaArn: tf.string(`${ref(rotationFunction, 'outputs', 0)}.RotationLambdaARN`),
          rotateImmediately: false,
          rotationRules: { automaticallyAfterDays: ROTATION_DAYS },
        }),
        logicalId,
      );
    }
  }
}
