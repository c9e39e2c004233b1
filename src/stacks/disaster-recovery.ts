/**
 * The disaster-recovery side of a database: an AWS Backup vault and its KMS key in a second region, through a
 * second AWS provider, so a copy of prod's recovery points survives the loss of the primary's region and of its key.
 * The module stays single-provider: rds-<env> passes this vault and key to it as inputs.
 */
import { Construct } from 'constructs';
import { BackupVault } from '@cdktf/provider-aws/lib/backup-vault';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { naming } from '../config/names';
import { regionProblem } from '../config/regions';

/**
 * The disaster-recovery region next to each primary region: another region of the same jurisdiction (EU data stays
 * in the EU), close enough for a daily copy.
 */
export const DEFAULT_DR_REGIONS: Readonly<Record<string, string>> = {
  'eu-west-3': 'eu-west-1',
  'eu-west-1': 'eu-central-1',
  'eu-west-2': 'eu-west-1',
  'eu-central-1': 'eu-west-1',
  'eu-north-1': 'eu-central-1',
  'eu-south-1': 'eu-central-1',
  'us-east-1': 'us-west-2',
  'us-east-2': 'us-west-2',
  'us-west-2': 'us-east-1',
};

/** The DR region: the setting, else the default next to `primaryRegion`; never the primary's own. */
export function disasterRecoveryRegion(primaryRegion: string, setting: string | undefined, where: string): string {
  const region = setting ?? DEFAULT_DR_REGIONS[primaryRegion];
  if (region === undefined) {
    throw new Error(
      `${where}: no default disaster-recovery region next to ${primaryRegion}; set disasterRecoveryRegion.`,
    );
  }
  const regionIssue = regionProblem(region);
  if (regionIssue !== undefined) throw new Error(`${where}: disasterRecoveryRegion ${regionIssue}`);
  if (region === primaryRegion) {
    throw new Error(`${where}: disasterRecoveryRegion ${region} is the primary's own region; choose another.`);
  }
  return region;
}

export interface DisasterRecoveryVaultProps {
  readonly projectName: string;
  readonly environment: string;
  readonly region: string;
  readonly tags: Readonly<Record<string, string>>;
}

export class DisasterRecoveryVault extends Construct {
  public readonly provider: AwsProvider;
  public readonly key: KmsKey;
  public readonly vault: BackupVault;

  constructor(scope: Construct, id: string, props: DisasterRecoveryVaultProps) {
    super(scope, id);
    this.provider = new AwsProvider(this, 'provider', {
      alias: 'dr',
      region: props.region,
      defaultTags: [{ tags: { ...props.tags } }],
    });
    const provider = this.provider;
    const caller = new DataAwsCallerIdentity(this, 'caller', { provider });
    const partition = new DataAwsPartition(this, 'partition', { provider });
    const name = naming.drBackupVaultName(props.projectName, props.environment);

    // The account administers and uses the key through IAM (the module's backup role gets use of it by an IAM
    // policy); it lives and is deleted in the DR region only, so losing the primary's key loses no copy.
    this.key = new KmsKey(this, 'key', {
      provider,
      description: `AWS Backup copies of ${props.projectName}-${props.environment} in ${props.region}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AccountAdministersAndUsesKeyThroughIam',
            Effect: 'Allow',
            Principal: { AWS: `arn:${partition.partition}:iam::${caller.accountId}:root` },
            Action: 'kms:*',
            Resource: '*',
          },
        ],
      }),
      tags: { Name: `${name}-key` },
    });
    new KmsAlias(this, 'alias', { provider, name: `alias/${name}`, targetKeyId: this.key.keyId });
    this.vault = new BackupVault(this, 'vault', {
      provider,
      name,
      kmsKeyArn: this.key.arn,
      tags: { Name: name },
    });
  }
}
