import { Construct } from 'constructs';
import { TerraformIterator, TerraformLocal } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import type { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import type { DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document';
import type { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import type { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import type { DatabaseEngine } from './engine';
import { config, tf } from './expressions';
import { address, nameTags } from './naming';

/** PostgreSQL logs RDS exports to CloudWatch Logs, from the primary and from every replica. */
export const EXPORTED_LOGS = ['postgresql', 'upgrade'];

/** Valid CloudWatch Logs retention periods in days (RetentionInDays). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * The key-policy statement that lets CloudWatch Logs encrypt and decrypt with the module key, for this module's RDS
 * log groups only: the encryption context CloudWatch Logs sends names the log group, and the condition matches the
 * groups of this primary and its replicas.
 */
export function logGroupsKeyStatement(
  engine: DatabaseEngine,
  caller: DataAwsCallerIdentity,
  partition: DataAwsPartition,
  region: DataAwsRegion,
): DataAwsIamPolicyDocumentStatement {
  const groups = `arn:${partition.partition}:logs:${region.name}:${caller.accountId}:log-group:${engine.logGroupPrefix}`;
  return {
    sid: 'CloudWatchLogsEncryptsDatabaseLogGroups',
    principals: [{ type: 'Service', identifiers: [`logs.${region.name}.${partition.dnsSuffix}`] }],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    condition: [
      {
        test: 'ArnLike',
        variable: 'kms:EncryptionContext:aws:logs:arn',
        values: engine.logGroupPatterns.map((pattern) => `${groups}${pattern}`),
      },
    ],
  };
}

export interface DatabaseLogGroupsProps {
  /** Names the groups: where the engine exports its logs, one group per writer or reader and log. */
  readonly engine: DatabaseEngine;
  /** Encrypts the log groups (its policy lets CloudWatch Logs use it for these groups only). */
  readonly key: KmsKey;
}

/**
 * The log groups RDS exports the instances' logs to, made by the module before the instances so that RDS writes into
 * them instead of creating its own (unencrypted, kept forever): one per instance and exported log, named
 * `/aws/rds/instance/<identifier>/<log>`, encrypted with the module key and kept for the environment's
 * `logRetentionDays`.
 *
 * One resource with `for_each` over `<identifier>/<log>`: a replica added or removed adds or removes only its groups.
 */
export class DatabaseLogGroups extends Construct {
  public readonly groups: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: DatabaseLogGroupsProps) {
    super(scope, id);
    const names = address(new TerraformLocal(this, 'names', `\${${props.engine.logGroupNames}}`), 'rds_log_groups');
    const groups = TerraformIterator.fromList(names.asList);
    this.groups = address(
      new CloudwatchLogGroup(this, 'groups', {
        forEach: groups,
        name: `${props.engine.logGroupPrefix}${groups.value}`,
        kmsKeyId: props.key.arn,
        retentionInDays: tf.number(config('logRetentionDays')),
        tags: nameTags('logs'),
      }),
      'rds',
    );
  }
}
