import { Construct } from 'constructs';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { DataAwsLambdaFunction } from '@cdktf/provider-aws/lib/data-aws-lambda-function';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { KmsKeyPolicy } from '@cdktf/provider-aws/lib/kms-key-policy';
import { TerraformLocal } from 'cdktf';
import { addressOf, config, ref, tf } from './expressions';
import type { DatabaseEngine } from './engine';
import { logGroupsKeyStatement } from './logs';
import { address, NAME_PREFIX, nameTags } from './naming';

export interface DatabaseEncryptionProps {
  /** Names the log groups CloudWatch Logs may encrypt with the key. */
  readonly engine: DatabaseEngine;
  /**
   * IAM principals (ARNs, which must exist) that may decrypt the module's secrets through Secrets Manager without an
   * IAM permission of their own: the caller's key users.
   */
  readonly keyUserArns: TerraformLocal;
}

/** The key policy statements of principals the module creates after the key (attached once they exist). */
export interface KeyUsePrincipals {
  /** The credential rotation function, whose role the key admits (counted: only where credentials rotate). */
  readonly rotationFunction: DataAwsLambdaFunction;
}

/**
 * The customer-managed key that encrypts the instances' storage, Performance Insights, the master and
 * credential secrets, and the alarm topic.
 *
 * Its policy names every principal that may use it; none is a wildcard. The account administers the key through
 * IAM (the root statement: an IAM principal needs its own kms: permission, so `secretsmanager:GetSecretValue`
 * alone decrypts nothing); the rotation function and the caller's key users (`key_user_arns`) decrypt through
 * Secrets Manager only; CloudWatch alarms and RDS events encrypt for the alarm topic; CloudWatch Logs uses it for
 * the module's RDS log groups only. The enhanced monitoring role
 * reads no encrypted data and is not named. The full policy is a resource of its own (`aws_kms_key_policy.rds`)
 * because it names the rotation function's role, which only exists once the key does; the key is created with the
 * statements that name no module principal, so the log groups never wait for that role.
 */
export class DatabaseEncryption extends Construct {
  public readonly key: KmsKey;
  public readonly alias: KmsAlias;
  /** The account, partition and region the module is applied in; the other parts build ARNs and endpoints from them. */
  public readonly caller: DataAwsCallerIdentity;
  public readonly partition: DataAwsPartition;
  public readonly region: DataAwsRegion;
  private readonly keyUserArns: TerraformLocal;
  /** Root, alarm-topic and log-group statements: the key's policy at creation, and the base of the full one. */
  private readonly basePolicy: DataAwsIamPolicyDocument;

  constructor(scope: Construct, id: string, props: DatabaseEncryptionProps) {
    super(scope, id);

    this.caller = address(new DataAwsCallerIdentity(this, 'caller'), 'current');
    this.partition = address(new DataAwsPartition(this, 'partition'), 'current');
    this.region = address(new DataAwsRegion(this, 'region'), 'current');
    this.keyUserArns = props.keyUserArns;

    const { caller, partition, region } = this;
    const sameAccount = [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [caller.accountId] }];
    this.basePolicy = address(
      new DataAwsIamPolicyDocument(this, 'base-policy', {
        statement: [
          {
            sid: 'AccountAdministersKeyThroughIam',
            principals: [{ type: 'AWS', identifiers: [`arn:${partition.partition}:iam::${caller.accountId}:root`] }],
            actions: ['kms:*'],
            resources: ['*'],
          },
          {
            sid: 'AlarmsAndEventsPublishToEncryptedTopic',
            principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com', 'events.rds.amazonaws.com'] }],
            actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            resources: ['*'],
            condition: sameAccount,
          },
          logGroupsKeyStatement(props.engine, caller, partition, region),
        ],
      }),
      'rds_key_base_policy',
    );

    this.key = address(
      new KmsKey(this, 'key', {
        description: `RDS encryption key for ${NAME_PREFIX}`,
        enableKeyRotation: true,
        deletionWindowInDays: tf.number(`${config('protectFromDeletion')} ? 30 : 7`),
        // Born with the statements that name no module principal, so the log groups (created before the instances)
        // can use it at once; aws_kms_key_policy.rds then owns the policy, hence ignore_changes.
        policy: this.basePolicy.json,
        lifecycle: { ignoreChanges: ['policy'] },
        tags: nameTags('rds-key'),
      }),
      'rds',
    );

    this.alias = address(
      new KmsAlias(this, 'alias', { name: `alias/${NAME_PREFIX}-rds`, targetKeyId: this.key.keyId }),
      'rds',
    );
  }

  /** Writes the key policy, naming the principals the module created after the key. */
  public attachPolicy(principals: KeyUsePrincipals): KmsKeyPolicy {
    const { partition, region } = this;
    const throughSecretsManager = [
      {
        test: 'StringEquals',
        variable: 'kms:ViaService',
        values: [`secretsmanager.${region.name}.${partition.dnsSuffix}`],
      },
    ];
    // A statement naming nobody is invalid, so each named group is a document of its own, counted.
    const rotation = address(
      new DataAwsIamPolicyDocument(this, 'rotation-policy', {
        count: principals.rotationFunction.count,
        statement: [
          {
            sid: 'RotationFunctionUsesKeyThroughSecretsManager',
            principals: [{ type: 'AWS', identifiers: [tf.string(ref(principals.rotationFunction, 'role', 0))] }],
            actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
            resources: ['*'],
            condition: throughSecretsManager,
          },
        ],
      }),
      'rds_key_rotation_function',
    );
    const keyUsers = address(
      new DataAwsIamPolicyDocument(this, 'key-users-policy', {
        count: tf.number(`length(${addressOf(this.keyUserArns)}) > 0 ? 1 : 0`),
        statement: [
          {
            sid: 'KeyUsersDecryptSecretsThroughSecretsManager',
            principals: [{ type: 'AWS', identifiers: tf.list(addressOf(this.keyUserArns)) }],
            actions: ['kms:Decrypt', 'kms:DescribeKey'],
            resources: ['*'],
            condition: throughSecretsManager,
          },
        ],
      }),
      'rds_key_users',
    );
    const policy = address(
      new DataAwsIamPolicyDocument(this, 'policy', {
        sourcePolicyDocuments: tf.list(
          `concat([${this.basePolicy.json}], ${ref(rotation, 'json', '*')}, ${ref(keyUsers, 'json', '*')})`,
        ),
      }),
      'rds_key_policy',
    );
    return address(new KmsKeyPolicy(this, 'key-policy', { keyId: this.key.keyId, policy: policy.json }), 'rds');
  }
}
