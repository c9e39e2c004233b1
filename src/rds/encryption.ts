import { Construct } from 'constructs';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { config, tf } from './expressions';
import { address, NAME_PREFIX, nameTags } from './naming';

/**
 * The customer-managed key that encrypts the instances' storage, Performance Insights, the master and
 * credential secrets, and the alarm topic.
 *
 * The policy is explicit rather than the default key policy: the account administers the key through IAM, RDS
 * and Secrets Manager use it on the account's behalf only through their own service endpoints, and CloudWatch
 * alarms and RDS events may encrypt messages for the alarm topic.
 */
export class DatabaseEncryption extends Construct {
  public readonly key: KmsKey;
  public readonly alias: KmsAlias;
  /** The account, partition and region the module is applied in; the other parts build ARNs and endpoints from them. */
  public readonly caller: DataAwsCallerIdentity;
  public readonly partition: DataAwsPartition;
  public readonly region: DataAwsRegion;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    const caller = address(new DataAwsCallerIdentity(this, 'caller'), 'current');
    const partition = address(new DataAwsPartition(this, 'partition'), 'current');
    const region = address(new DataAwsRegion(this, 'region'), 'current');
    this.caller = caller;
    this.partition = partition;
    this.region = region;

    const sameAccount = [{ test: 'StringEquals', variable: 'aws:SourceAccount', values: [caller.accountId] }];
    const policy = address(
      new DataAwsIamPolicyDocument(this, 'policy', {
        statement: [
          {
            sid: 'AccountAdministersKeyThroughIam',
            principals: [{ type: 'AWS', identifiers: [`arn:${partition.partition}:iam::${caller.accountId}:root`] }],
            actions: ['kms:*'],
            resources: ['*'],
          },
          {
            sid: 'UseThroughRdsAndSecretsManagerOnly',
            principals: [{ type: 'AWS', identifiers: ['*'] }],
            actions: [
              'kms:Encrypt',
              'kms:Decrypt',
              'kms:ReEncrypt*',
              'kms:GenerateDataKey*',
              'kms:CreateGrant',
              'kms:DescribeKey',
            ],
            resources: ['*'],
            condition: [
              { test: 'StringEquals', variable: 'kms:CallerAccount', values: [caller.accountId] },
              {
                test: 'StringEquals',
                variable: 'kms:ViaService',
                values: [
                  `rds.${region.name}.${partition.dnsSuffix}`,
                  `secretsmanager.${region.name}.${partition.dnsSuffix}`,
                ],
              },
            ],
          },
          {
            sid: 'AlarmsAndEventsPublishToEncryptedTopic',
            principals: [{ type: 'Service', identifiers: ['cloudwatch.amazonaws.com', 'events.rds.amazonaws.com'] }],
            actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            resources: ['*'],
            condition: sameAccount,
          },
        ],
      }),
      'rds_key_policy',
    );

    this.key = address(
      new KmsKey(this, 'key', {
        description: `RDS encryption key for ${NAME_PREFIX}`,
        enableKeyRotation: true,
        deletionWindowInDays: tf.number(`${config('protectFromDeletion')} ? 30 : 7`),
        policy: policy.json,
        tags: nameTags('rds-key'),
      }),
      'rds',
    );

    this.alias = address(
      new KmsAlias(this, 'alias', { name: `alias/${NAME_PREFIX}-rds`, targetKeyId: this.key.keyId }),
      'rds',
    );
  }
}
