import { Construct } from 'constructs';
import { RESOURCE_SUFFIXES } from '../config/names';

const TENANT_CONTEXT_KEY_SUFFIX = RESOURCE_SUFFIXES.tenantContextKeySecret;
import { TerraformLocal } from 'cdktf';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import type { BoundEngine } from './engine';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import { SecretsmanagerSecretRotation } from '@cdktf/provider-aws/lib/secretsmanager-secret-rotation';
import { SecretsmanagerSecretVersion } from '@cdktf/provider-aws/lib/secretsmanager-secret-version';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import * as sar from '@cdktf/provider-aws/lib/serverlessapplicationrepository-cloudformation-stack';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Bytes } from '@cdktf/provider-random/lib/bytes';
import { Password } from '@cdktf/provider-random/lib/password';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsLambdaFunction } from '@cdktf/provider-aws/lib/data-aws-lambda-function';
import { SecretsmanagerSecretPolicy } from '@cdktf/provider-aws/lib/secretsmanager-secret-policy';
import { APP_LOGIN, DATABASE_PORT, IAM_OPERATOR_LOGIN, READONLY_LOGIN } from '../config/environments';
import { TENANT_CONTEXT_KEY_BYTES } from '../db/tenant-context';
import { addressOf, config, encodedDocument, expr, ref, tf, toTerraformJson } from './expressions';
import { address, nameTags, prefixed } from './naming';

/**
 * AWS's published alternating-users (multi-user) rotation function for RDS PostgreSQL (Serverless Application
 * Repository), pinned: a new version of the function changes what runs against the database and is taken on
 * purpose, by changing this constant.
 */
export const POSTGRES_ROTATION_APPLICATION_ID =
  'arn:aws:serverlessrepo:us-east-1:297356227824:applications/SecretsManagerRDSPostgreSQLRotationMultiUser';
export const POSTGRES_ROTATION_APPLICATION_VERSION = '1.1.692';
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
  /** The writer whose address, port and database name the secrets carry, and the readers the read-only one lists. */
  readonly engine: BoundEngine;
  /** VPC and private subnets (a list of IDs) of the rotation function. */
  readonly vpcId: TerraformLocal;
  readonly privateSubnetIds: TerraformLocal;
  /** The account, named in the secrets' policies (its root user is never denied). */
  readonly caller: DataAwsCallerIdentity;
  /**
   * Who may read each secret: `{ app = [...], readonly = [...], tenant_context_key = [...] }` (IAM principal ARNs).
   * Everybody else is denied `secretsmanager:GetSecretValue` by the secret's resource policy.
   */
  readonly secretReaders: TerraformLocal;
}

/**
 * Every Secrets Manager action that changes a secret or who may read it: its value and version stages (a planted
 * key or password), rotation, deletion and restore, the resource policy, tags (IAM policies may grant by tag) and
 * replication (a replica in another region carries its own policy). Denied by each module secret's policy to all
 * but the identity applying the module, the rotation function and the account's root user.
 */
export const SECRET_WRITE_ACTIONS = [
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
] as const;

/**
 * What changes the rotation function's code or configuration, its stack or its role, or hands its role (and with it
 * the master secret) to something else: refused by the rotation guard policy to all but the identity applying the
 * module and the root user.
 */
export const ROTATION_FUNCTION_GUARDED_ACTIONS = {
  lambda: [
    'lambda:UpdateFunctionCode',
    'lambda:UpdateFunctionConfiguration',
    'lambda:DeleteFunction',
    'lambda:PublishVersion',
    'lambda:CreateAlias',
    'lambda:UpdateAlias',
    'lambda:DeleteAlias',
    'lambda:AddPermission',
    'lambda:RemovePermission',
    'lambda:CreateFunctionUrlConfig',
    'lambda:UpdateFunctionUrlConfig',
    'lambda:PutFunctionCodeSigningConfig',
    'lambda:DeleteFunctionCodeSigningConfig',
    'lambda:InvokeFunction',
  ],
  cloudformation: [
    'cloudformation:UpdateStack',
    'cloudformation:DeleteStack',
    'cloudformation:CreateChangeSet',
    'cloudformation:ExecuteChangeSet',
    'cloudformation:SetStackPolicy',
  ],
  iam: [
    'iam:PassRole',
    'iam:PutRolePolicy',
    'iam:AttachRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:DetachRolePolicy',
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePermissionsBoundary',
    'iam:DeleteRolePermissionsBoundary',
    'iam:UpdateRole',
    'iam:DeleteRole',
  ],
} as const;

/**
 * Credentials of the two application logins (the master password is RDS-managed, see instances.ts).
 *
 * Each secret holds what a client needs to connect (username, password, host, port, dbname, engine; the read-only
 * one also every reader host), is encrypted with the module's key, and in environments that rotate is rotated
 * every 30 days by AWS's PostgreSQL multi-user rotation function (it alternates two logins, so connections
 * opened with the previous password keep working), deployed into the private subnets.
 *
 * The secret values are seeded once by Terraform; afterwards the rotation function (and `accessweaver-rds
 * setup-database`, which sets the logins' passwords from them) own them, so Terraform ignores later changes.
 * Rotation is not triggered at creation: the logins only exist once setup-database has run.
 */
export class DatabaseCredentials extends Construct {
  public readonly appSecret: SecretsmanagerSecret;
  public readonly readonlySecret: SecretsmanagerSecret;
  /** The key the issuing service signs tenant contexts with, installed in the database by setup-database. */
  public readonly tenantContextKeySecret: SecretsmanagerSecret;
  /** The deployed rotation function, read back (counted: only where credentials rotate); policies name its `role`. */
  public readonly rotationFunction: DataAwsLambdaFunction;
  /** The deny policy that keeps the rotation function, its stack and its role unchanged (counted likewise). */
  public readonly rotationGuard: DataAwsIamPolicyDocument;
  /** `rds-db:connect` resources of the IAM operator login on every instance: a local holding a list. */
  public readonly operatorDbUserArns: TerraformLocal;
  /** The IAM policy an operator role needs to connect with an IAM token: a local holding the document. */
  public readonly operatorConnectPolicy: TerraformLocal;

  constructor(scope: Construct, id: string, props: DatabaseCredentialsProps) {
    super(scope, id);
    const logins = this.addLoginSecrets(props);
    this.appSecret = logins.appSecret;
    this.readonlySecret = logins.readonlySecret;
    this.tenantContextKeySecret = this.addTenantContextKey(props);
    this.rotationFunction = this.addRotation(props);
    this.rotationGuard = this.addRotationGuard(props, tf.number(`${config('rotateCredentials')} ? 1 : 0`));
    this.addPolicies(props);
    [this.operatorDbUserArns, this.operatorConnectPolicy] = this.addOperatorAccess(props);
  }

  /** A module secret: encrypted with the module key, recoverable for the table's window. */
  private secret(props: DatabaseCredentialsProps, name: string, logicalId: string, description: string) {
    return address(
      new SecretsmanagerSecret(this, logicalId, {
        name: prefixed(name),
        description,
        kmsKeyId: props.key.arn,
        recoveryWindowInDays: tf.number(config('secretRecoveryWindowDays')),
        tags: nameTags(name),
      }),
      logicalId,
    );
  }

  /** The two logins' secrets, each seeded with a password the module generates and the writer's address. */
  private addLoginSecrets(props: DatabaseCredentialsProps) {
    const { writer, readers } = props.engine;
    const secretString = (name: string, username: string, password: Password, extra = {}) =>
      encodedDocument(this, name, {
        username,
        password: expr(ref(password, 'result')),
        host: expr(writer.address),
        port: expr(writer.port),
        dbname: expr(writer.databaseName),
        engine: 'postgres',
        masterarn: expr(writer.masterSecretArn),
        ...extra,
      });

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

    const appSecret = this.secret(
      props,
      RESOURCE_SUFFIXES.appSecret,
      'app_credentials',
      `Credentials of ${APP_LOGIN} (application_role)`,
    );
    const readonlySecret = this.secret(
      props,
      RESOURCE_SUFFIXES.readonlySecret,
      'readonly_credentials',
      `Credentials of ${READONLY_LOGIN} (readonly_role), with every reader host`,
    );

    address(
      new SecretsmanagerSecretVersion(this, 'app-version', {
        secretId: appSecret.id,
        secretString: secretString('app_credentials_first_value', APP_LOGIN, appPassword),
        lifecycle: { ignoreChanges: ['secret_string'] },
      }),
      'app_credentials',
    );
    address(
      new SecretsmanagerSecretVersion(this, 'readonly-version', {
        secretId: readonlySecret.id,
        secretString: secretString('readonly_credentials_first_value', READONLY_LOGIN, readonlyPassword, {
          hosts: expr(`concat([${writer.address}], ${readers.addresses})`),
        }),
        lifecycle: { ignoreChanges: ['secret_string'] },
      }),
      'readonly_credentials',
    );
    return { appSecret, readonlySecret };
  }

  /** The tenant-context signing key's secret, seeded with random bytes. */
  private addTenantContextKey(props: DatabaseCredentialsProps): SecretsmanagerSecret {
    const tenantContextKeySecret = this.secret(
      props,
      TENANT_CONTEXT_KEY_SUFFIX,
      'tenant_context_key',
      'Key the auth service signs tenant contexts with; setup-database installs it in the database',
    );
    const keyBytes = address(
      new Bytes(this, 'tenant-context-key-bytes', { length: TENANT_CONTEXT_KEY_BYTES }),
      'tenant_context_key',
    );
    address(
      new SecretsmanagerSecretVersion(this, 'tenant-context-key-version', {
        secretId: tenantContextKeySecret.id,
        secretString: tf.string(`jsonencode({ version = 1, key = ${ref(keyBytes, 'base64')} })`),
        // `accessweaver-rds` rotates the key (new version, overlap window) after this first value.
        lifecycle: { ignoreChanges: ['secret_string'] },
      }),
      'tenant_context_key',
    );
    return tenantContextKeySecret;
  }

  /** The operator login's `rds-db:connect` resources on the primary and each replica, and the policy granting them. */
  private addOperatorAccess({ partition, region, caller, engine }: DatabaseCredentialsProps) {
    const local = (name: string, value: unknown) => {
      const element = new TerraformLocal(this, name, value);
      element.overrideLogicalId(name);
      return element;
    };
    const prefix = local(
      'operator_db_user_arn_prefix',
      `arn:\${${ref(partition, 'partition')}}:rds-db:\${${ref(region, 'name')}}:\${${ref(caller, 'accountId')}}:dbuser:`,
    );
    const arn = (resourceId: string) => `"\${${addressOf(prefix)}}\${${resourceId}}/${IAM_OPERATOR_LOGIN}"`;
    const users = local(
      'operator_db_user_arns',
      tf.string(`concat([${arn(engine.writer.resourceId)}], [for id in ${engine.readers.resourceIds} : ${arn('id')}])`),
    );
    const policy = local(
      'operator_connect_policy',
      toTerraformJson({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ConnectAsAccessWeaverOperator',
            Effect: 'Allow',
            Action: 'rds-db:connect',
            Resource: expr(addressOf(users)),
          },
        ],
      }),
    );
    return [users, policy] as const;
  }

  /**
   * Each secret's resource policy has two statements. Reading (`GetSecretValue`) is denied to every principal but
   * its named readers, the rotation function (for the two it rotates), the identity applying the module (Terraform
   * reads the versions it seeded) and the account's root user. Changing it (`SECRET_WRITE_ACTIONS`: value, version
   * stages, rotation, deletion, the policy itself, tags and replication) is denied to all but the identity applying
   * the module, the rotation function (for the two it rotates) and the root user: a principal allowed
   * `secretsmanager:*` through IAM can neither plant a key or password nor loosen the policy. Administrators act as
   * the identity that applies the module (a change to `secret_readers`, a key rotation), an act CloudTrail records.
   */
  private addPolicies(props: DatabaseCredentialsProps): void {
    const administrators = this.administrators(props);
    const rotationRoles = `${ref(this.rotationFunction, 'role', '*')}`;
    const secrets = [
      ['app', this.appSecret, 'app_credentials', true],
      ['readonly', this.readonlySecret, 'readonly_credentials', true],
      ['tenant_context_key', this.tenantContextKeySecret, 'tenant_context_key', false],
    ] as const;
    for (const [key, secret, logicalId, rotated] of secrets) {
      const readers = `${addressOf(props.secretReaders)}.${key}`;
      const writers = rotated ? `concat(${rotationRoles}, ${administrators})` : administrators;
      const denyUnless = (sid: string, actions: readonly string[], allowed: string) => ({
        sid,
        effect: 'Deny',
        principals: [{ type: '*', identifiers: ['*'] }],
        actions: [...actions],
        resources: ['*'],
        condition: [{ test: 'ArnNotLike', variable: 'aws:PrincipalArn', values: tf.list(allowed) }],
      });
      const document = address(
        new DataAwsIamPolicyDocument(this, `${logicalId}-policy-document`, {
          statement: [
            denyUnless('OnlyNamedPrincipalsRead', ['secretsmanager:GetSecretValue'], `concat(${readers}, ${writers})`),
            denyUnless('OnlyDeployerRotationAndRootChange', SECRET_WRITE_ACTIONS, writers),
          ],
        }),
        `${logicalId}_policy`,
      );
      address(
        new SecretsmanagerSecretPolicy(this, `${logicalId}-policy`, {
          secretArn: secret.arn,
          policy: document.json,
          blockPublicPolicy: true,
        }),
        logicalId,
      );
    }
  }

  /**
   * The rotation function reads the master secret, so whoever changes its code, configuration, role or stack, or
   * passes its role to another function, gets the master login. Lambda, CloudFormation and IAM have no resource
   * policy that can deny that to IAM principals of the account, so the module emits the deny as a policy for the
   * caller to attach as a service control policy (or in the permissions boundary of every role): all but the
   * identity applying the module and the root user are refused. Counted: only where credentials rotate.
   */
  private addRotationGuard(props: DatabaseCredentialsProps, whenRotating: number): DataAwsIamPolicyDocument {
    const administrators = this.administrators(props);
    const partition = `\${${ref(props.partition, 'partition')}}`;
    const region = `\${${ref(props.region, 'name')}}`;
    const account = `\${${ref(props.caller, 'accountId')}}`;
    const functionArn = `arn:${partition}:lambda:${region}:${account}:function:${prefixed('rds-rotation')}`;
    const stackName = `serverlessrepo-${prefixed('rds-rotation')}`;
    const stackArn = `arn:${partition}:cloudformation:${region}:${account}:stack/${stackName}/*`;
    const deny = (sid: string, actions: readonly string[], resources: string[]) => ({
      sid,
      effect: 'Deny',
      actions: [...actions],
      resources,
      condition: [{ test: 'ArnNotLike', variable: 'aws:PrincipalArn', values: tf.list(administrators) }],
    });
    return address(
      new DataAwsIamPolicyDocument(this, 'rotation-guard', {
        count: whenRotating,
        statement: [
          deny('RotationFunctionUnchanged', ROTATION_FUNCTION_GUARDED_ACTIONS.lambda, [
            functionArn,
            `${functionArn}:*`,
          ]),
          deny('RotationStackUnchanged', ROTATION_FUNCTION_GUARDED_ACTIONS.cloudformation, [stackArn]),
          deny('RotationRoleUnchangedAndNotPassed', ROTATION_FUNCTION_GUARDED_ACTIONS.iam, [
            tf.string(ref(this.rotationFunction, 'role', 0)),
          ]),
        ],
      }),
      'rotation_guard',
    );
  }

  private administratorArns?: TerraformLocal;

  /**
   * The principals no module policy refuses, a local holding a list: the account's root user, and the
   * identity applying the module (Terraform reads the secret versions at every refresh). As a role session that
   * identity is matched by role name under any path (aws:PrincipalArn is the role's ARN, path included).
   */
  private administrators(props: DatabaseCredentialsProps): string {
    if (!this.administratorArns) {
      const iamPrefix = `arn:\${${ref(props.partition, 'partition')}}:iam::\${${ref(props.caller, 'accountId')}}`;
      const callerArn = ref(props.caller, 'arn');
      const deployer = `can(regex("^arn:[^:]+:sts::[0-9]+:assumed-role/", ${callerArn})) ? "${iamPrefix}:role*/\${split("/", ${callerArn})[1]}" : ${callerArn}`;
      this.administratorArns = new TerraformLocal(this, 'administrator-arns', [
        `${iamPrefix}:root`,
        tf.string(deployer),
      ]);
      this.administratorArns.overrideLogicalId('administrator_arns');
    }
    return addressOf(this.administratorArns);
  }

  private addRotation(props: DatabaseCredentialsProps): DataAwsLambdaFunction {
    const whenRotating = tf.number(`${config('rotateCredentials')} ? 1 : 0`);

    const groupId = this.addRotationNetwork(props, whenRotating);

    const rotationFunction = address(
      new sar.ServerlessapplicationrepositoryCloudformationStack(this, 'rotation-function', {
        count: whenRotating,
        name: prefixed('rds-rotation'),
        applicationId: POSTGRES_ROTATION_APPLICATION_ID,
        semanticVersion: POSTGRES_ROTATION_APPLICATION_VERSION,
        capabilities: ['CAPABILITY_IAM', 'CAPABILITY_RESOURCE_POLICY'],
        parameters: {
          functionName: prefixed('rds-rotation'),
          endpoint: `https://secretsmanager.${props.region.name}.${props.partition.dnsSuffix}`,
          vpcSubnetIds: tf.string(`join(",", ${addressOf(props.privateSubnetIds)})`),
          vpcSecurityGroupIds: groupId,
          kmsKeyArn: props.key.arn,
          // The superuser secret that creates and changes the clone logins: the RDS-managed master secret.
          masterSecretArn: tf.string(props.engine.writer.masterSecretArn),
          masterSecretKmsKeyArn: props.key.arn,
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
    // Its role, to name in the key policy and the secrets' policies.
    return address(
      new DataAwsLambdaFunction(this, 'rotation-role', {
        count: whenRotating,
        functionName: prefixed('rds-rotation'),
        dependsOn: [rotationFunction],
      }),
      'rotation',
    );
  }

  /** The rotation function's security group: PostgreSQL to the database and HTTPS to Secrets Manager only. */
  private addRotationNetwork(props: DatabaseCredentialsProps, whenRotating: number): string {
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
        tags: nameTags('rds-rotation-to-rds'),
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
        tags: nameTags('rds-rotation-to-secrets-manager'),
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
        tags: nameTags('rds-from-rotation'),
      }),
      'rds_from_rotation',
    );
    return groupId;
  }
}
