import { BackupClient } from '@aws-sdk/client-backup';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient, type DBCluster, type DBInstance } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';

export const rdsMock = mockClient(RDSClient);
export const secretsMock = mockClient(SecretsManagerClient);
export const cloudwatchMock = mockClient(CloudWatchClient);
export const ec2Mock = mockClient(EC2Client);
export const backupMock = mockClient(BackupClient);

export function resetAwsMocks(): void {
  rdsMock.reset();
  secretsMock.reset();
  cloudwatchMock.reset();
  ec2Mock.reset();
  backupMock.reset();
}

/** Every command a mocked client received, in order, as [command name, input]. */

export function sent(mock: AwsStub<any, any, any>): Array<[string, unknown]> {
  return mock.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: unknown };
    return [command.constructor.name, command.input];
  });
}

export function sentNames(mock: Parameters<typeof sent>[0]): string[] {
  return sent(mock).map(([name]) => name);
}

export const MASTER_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-3:123456789012:secret:rds!db-0a1b2c3d-AbCdEf';
export const KMS_KEY_ARN = 'arn:aws:kms:eu-west-3:123456789012:key/5f0e6a0c-0000-4000-8000-000000000001';

/** The prod primary as DescribeDBInstances reports it for the module's configuration. */
export function primaryInstance(overrides: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: 'accessweaver-prod-primary',
    DBInstanceStatus: 'available',
    DBInstanceClass: 'db.r6g.large',
    Engine: 'postgres',
    EngineVersion: '15.18',
    MultiAZ: true,
    AllocatedStorage: 500,
    StorageType: 'io1',
    Iops: 3000,
    PubliclyAccessible: false,
    DeletionProtection: true,
    DBName: 'accessweaver',
    Endpoint: { Address: 'accessweaver-prod-primary.c9akciq32.eu-west-3.rds.amazonaws.com', Port: 5432 },
    BackupRetentionPeriod: 30,
    LatestRestorableTime: new Date('2026-03-14T02:25:00.000Z'),
    DBSubnetGroup: { DBSubnetGroupName: 'accessweaver-prod-db-subnet-group' },
    VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0db0000000000001', Status: 'active' }],
    DBParameterGroups: [{ DBParameterGroupName: 'accessweaver-prod-pg-params', ParameterApplyStatus: 'in-sync' }],
    EnabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
    MasterUserSecret: { SecretArn: MASTER_SECRET_ARN, SecretStatus: 'active', KmsKeyId: KMS_KEY_ARN },
    IAMDatabaseAuthenticationEnabled: true,
    ReadReplicaDBInstanceIdentifiers: ['accessweaver-prod-replica-1', 'accessweaver-prod-replica-2'],
    ...overrides,
  };
}

/** The prod Aurora cluster as DescribeDBClusters reports it for modules/rds-aurora: a writer and two readers. */
export function auroraCluster(overrides: Partial<DBCluster> = {}): DBCluster {
  return {
    DBClusterIdentifier: 'accessweaver-prod-cluster',
    Status: 'available',
    Engine: 'aurora-postgresql',
    EngineVersion: '15.10',
    MultiAZ: true,
    DatabaseName: 'accessweaver',
    Endpoint: 'accessweaver-prod-cluster.cluster-c9akciq32.eu-west-3.rds.amazonaws.com',
    ReaderEndpoint: 'accessweaver-prod-cluster.cluster-ro-c9akciq32.eu-west-3.rds.amazonaws.com',
    Port: 5432,
    StorageType: 'aurora-iopt1',
    BackupRetentionPeriod: 30,
    LatestRestorableTime: new Date('2026-03-14T02:25:00.000Z'),
    DBSubnetGroup: 'accessweaver-prod-db-subnet-group',
    DBClusterParameterGroup: 'accessweaver-prod-cluster-params-20260101',
    VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-0db0000000000001', Status: 'active' }],
    KmsKeyId: KMS_KEY_ARN,
    EnabledCloudwatchLogsExports: ['postgresql'],
    IAMDatabaseAuthenticationEnabled: true,
    DeletionProtection: true,
    MasterUserSecret: { SecretArn: MASTER_SECRET_ARN, SecretStatus: 'active', KmsKeyId: KMS_KEY_ARN },
    DBClusterMembers: [
      { DBInstanceIdentifier: 'accessweaver-prod-primary', IsClusterWriter: true },
      { DBInstanceIdentifier: 'accessweaver-prod-replica-1', IsClusterWriter: false },
      { DBInstanceIdentifier: 'accessweaver-prod-replica-2', IsClusterWriter: false },
    ],
    ...overrides,
  };
}

/** The cluster's writer instance. */
export function auroraWriter(overrides: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: 'accessweaver-prod-primary',
    DBClusterIdentifier: 'accessweaver-prod-cluster',
    DBInstanceStatus: 'available',
    DBInstanceClass: 'db.r6g.large',
    Engine: 'aurora-postgresql',
    EngineVersion: '15.10',
    DBParameterGroups: [{ DBParameterGroupName: 'accessweaver-prod-pg-params', ParameterApplyStatus: 'in-sync' }],
    ...overrides,
  };
}
