/**
 * What an apply of modules/rds needs: the IAM actions per resource and data source type the module declares, the
 * network paths, and how to run without internet. The module README renders all three; the IAM list is built
 * from the types the synthesized module actually contains, and test/rds/apply-permissions.test.ts fails when the
 * module declares a type this map lacks.
 */

/** IAM actions Terraform (and, for the rotation stack, CloudFormation on the caller's behalf) calls for one type. */
export interface TypeActions {
  readonly create: readonly string[];
  readonly read: readonly string[];
  readonly update?: readonly string[];
  readonly delete?: readonly string[];
  /** Tagging and tag listing, when the type is tagged. */
  readonly tag?: readonly string[];
  /** Why an entry has no action, or what an action is for when it is not obvious. */
  readonly note?: string;
}

const rdsTags = ['rds:AddTagsToResource', 'rds:RemoveTagsFromResource', 'rds:ListTagsForResource'];
const ec2Tags = ['ec2:CreateTags', 'ec2:DeleteTags'];
const noCall = (note: string): TypeActions => ({ create: [], read: [], note });

/**
 * Resource types by Terraform type name, data sources as `data.<type>`. To add a type: list what the provider
 * calls for each operation (its resource implementation and the service authorization reference name them).
 */
export const APPLY_ACTIONS: Readonly<Record<string, TypeActions>> = {
  aws_db_instance: {
    create: [
      'rds:CreateDBInstance',
      'rds:CreateDBInstanceReadReplica',
      'iam:PassRole',
      'kms:CreateGrant',
      'kms:DescribeKey',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'secretsmanager:CreateSecret',
      'secretsmanager:TagResource',
    ],
    read: ['rds:DescribeDBInstances'],
    update: ['rds:ModifyDBInstance', 'rds:RebootDBInstance'],
    delete: ['rds:DeleteDBInstance', 'rds:CreateDBSnapshot', 'secretsmanager:DeleteSecret'],
    tag: rdsTags,
    note:
      'iam:PassRole on the Enhanced Monitoring role; kms on the module key (storage, Performance Insights, master ' +
      "secret); RDS creates and deletes the master secret with the caller's permissions",
  },
  aws_rds_cluster: {
    create: [
      'rds:CreateDBCluster',
      'kms:CreateGrant',
      'kms:DescribeKey',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'secretsmanager:CreateSecret',
      'secretsmanager:TagResource',
    ],
    read: ['rds:DescribeDBClusters'],
    update: ['rds:ModifyDBCluster'],
    delete: ['rds:DeleteDBCluster', 'rds:CreateDBClusterSnapshot', 'secretsmanager:DeleteSecret'],
    tag: rdsTags,
    note: "kms on the module key (storage, Performance Insights, master secret), used with the caller's permissions",
  },
  aws_rds_cluster_instance: {
    create: ['rds:CreateDBInstance', 'iam:PassRole'],
    read: ['rds:DescribeDBInstances'],
    update: ['rds:ModifyDBInstance', 'rds:RebootDBInstance'],
    delete: ['rds:DeleteDBInstance'],
    tag: rdsTags,
    note: 'iam:PassRole on the Enhanced Monitoring role',
  },
  aws_rds_cluster_parameter_group: {
    create: ['rds:CreateDBClusterParameterGroup', 'rds:ModifyDBClusterParameterGroup'],
    read: ['rds:DescribeDBClusterParameterGroups', 'rds:DescribeDBClusterParameters'],
    update: ['rds:ModifyDBClusterParameterGroup', 'rds:ResetDBClusterParameterGroup'],
    delete: ['rds:DeleteDBClusterParameterGroup'],
    tag: rdsTags,
  },
  aws_appautoscaling_target: {
    create: ['application-autoscaling:RegisterScalableTarget', 'iam:CreateServiceLinkedRole'],
    read: ['application-autoscaling:DescribeScalableTargets'],
    update: ['application-autoscaling:RegisterScalableTarget'],
    delete: ['application-autoscaling:DeregisterScalableTarget'],
    tag: ['application-autoscaling:TagResource', 'application-autoscaling:UntagResource'],
    note: 'iam:CreateServiceLinkedRole for the Application Auto Scaling role of RDS clusters, the first time',
  },
  aws_appautoscaling_policy: {
    create: ['application-autoscaling:PutScalingPolicy', 'cloudwatch:PutMetricAlarm'],
    read: ['application-autoscaling:DescribeScalingPolicies'],
    update: ['application-autoscaling:PutScalingPolicy'],
    delete: ['application-autoscaling:DeleteScalingPolicy', 'cloudwatch:DeleteAlarms'],
  },
  terraform_data: {
    create: [],
    read: [],
    delete: ['rds:DescribeDBClusters', 'rds:DeleteDBInstance', 'rds:DescribeDBInstances'],
    note: 'its destroy step deletes the readers autoscaling added, through the AWS CLI of the applying machine',
  },
  aws_db_parameter_group: {
    create: ['rds:CreateDBParameterGroup', 'rds:ModifyDBParameterGroup'],
    read: ['rds:DescribeDBParameterGroups', 'rds:DescribeDBParameters'],
    update: ['rds:ModifyDBParameterGroup', 'rds:ResetDBParameterGroup'],
    delete: ['rds:DeleteDBParameterGroup'],
    tag: rdsTags,
  },
  aws_db_subnet_group: {
    create: ['rds:CreateDBSubnetGroup'],
    read: ['rds:DescribeDBSubnetGroups'],
    update: ['rds:ModifyDBSubnetGroup'],
    delete: ['rds:DeleteDBSubnetGroup'],
    tag: rdsTags,
  },
  aws_db_event_subscription: {
    create: ['rds:CreateEventSubscription'],
    read: ['rds:DescribeEventSubscriptions'],
    update: [
      'rds:ModifyEventSubscription',
      'rds:AddSourceIdentifierToSubscription',
      'rds:RemoveSourceIdentifierFromSubscription',
    ],
    delete: ['rds:DeleteEventSubscription'],
    tag: rdsTags,
  },
  aws_backup_vault: {
    create: [
      'backup:CreateBackupVault',
      'backup-storage:MountCapsule',
      'kms:CreateGrant',
      'kms:DescribeKey',
      'kms:GenerateDataKey',
      'kms:Decrypt',
    ],
    read: ['backup:DescribeBackupVault', 'backup:ListRecoveryPointsByBackupVault'],
    delete: ['backup:DeleteBackupVault', 'backup:DeleteRecoveryPoint'],
    tag: ['backup:TagResource', 'backup:UntagResource', 'backup:ListTags'],
    note:
      'kms on the module key, which encrypts the vault; backup-storage:MountCapsule is what AWS Backup checks when a ' +
      "vault is created; force_destroy (where deletion protection is off) deletes the vault's recovery points",
  },
  aws_backup_plan: {
    create: ['backup:CreateBackupPlan'],
    read: ['backup:GetBackupPlan'],
    update: ['backup:UpdateBackupPlan'],
    delete: ['backup:DeleteBackupPlan'],
    tag: ['backup:TagResource', 'backup:UntagResource', 'backup:ListTags'],
    note: 'copy actions (prod, with backup_copy_vault_arn) need no more for the apply; the backup role copies',
  },
  aws_backup_selection: {
    create: ['backup:CreateBackupSelection', 'iam:PassRole'],
    read: ['backup:GetBackupSelection'],
    delete: ['backup:DeleteBackupSelection'],
    note: 'iam:PassRole on the backup role',
  },
  aws_iam_role_policy: {
    create: ['iam:PutRolePolicy'],
    read: ['iam:GetRolePolicy'],
    update: ['iam:PutRolePolicy'],
    delete: ['iam:DeleteRolePolicy'],
    note: "only with backup_copy_kms_key_arn: the backup role's use of the destination key",
  },
  aws_cloudwatch_log_group: {
    create: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:AssociateKmsKey'],
    read: ['logs:DescribeLogGroups'],
    update: [
      'logs:PutRetentionPolicy',
      'logs:DeleteRetentionPolicy',
      'logs:AssociateKmsKey',
      'logs:DisassociateKmsKey',
    ],
    delete: ['logs:DeleteLogGroup'],
    tag: ['logs:TagResource', 'logs:UntagResource', 'logs:ListTagsForResource'],
  },
  aws_cloudwatch_metric_alarm: {
    create: ['cloudwatch:PutMetricAlarm'],
    read: ['cloudwatch:DescribeAlarms'],
    update: ['cloudwatch:PutMetricAlarm'],
    delete: ['cloudwatch:DeleteAlarms'],
    tag: ['cloudwatch:TagResource', 'cloudwatch:UntagResource', 'cloudwatch:ListTagsForResource'],
  },
  aws_cloudwatch_dashboard: {
    create: ['cloudwatch:PutDashboard'],
    read: ['cloudwatch:GetDashboard'],
    update: ['cloudwatch:PutDashboard'],
    delete: ['cloudwatch:DeleteDashboards'],
  },
  aws_iam_role: {
    create: ['iam:CreateRole'],
    read: ['iam:GetRole', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies'],
    update: ['iam:UpdateRole', 'iam:UpdateAssumeRolePolicy'],
    delete: ['iam:DeleteRole', 'iam:ListInstanceProfilesForRole'],
    tag: ['iam:TagRole', 'iam:UntagRole'],
  },
  aws_iam_role_policy_attachment: {
    create: ['iam:AttachRolePolicy'],
    read: ['iam:ListAttachedRolePolicies'],
    delete: ['iam:DetachRolePolicy'],
  },
  aws_kms_key: {
    create: ['kms:CreateKey', 'kms:EnableKeyRotation'],
    read: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus'],
    update: ['kms:PutKeyPolicy', 'kms:UpdateKeyDescription', 'kms:EnableKeyRotation', 'kms:DisableKeyRotation'],
    delete: ['kms:ScheduleKeyDeletion'],
    tag: ['kms:TagResource', 'kms:UntagResource', 'kms:ListResourceTags'],
  },
  aws_kms_key_policy: {
    create: ['kms:PutKeyPolicy'],
    read: ['kms:GetKeyPolicy', 'kms:DescribeKey'],
    update: ['kms:PutKeyPolicy'],
    delete: ['kms:PutKeyPolicy'],
    note: 'deleting the resource puts back the default key policy',
  },
  aws_kms_alias: {
    create: ['kms:CreateAlias'],
    read: ['kms:ListAliases'],
    update: ['kms:UpdateAlias'],
    delete: ['kms:DeleteAlias'],
  },
  aws_network_acl: {
    create: ['ec2:CreateNetworkAcl', 'ec2:CreateNetworkAclEntry', 'ec2:ReplaceNetworkAclAssociation'],
    read: ['ec2:DescribeNetworkAcls'],
    update: ['ec2:CreateNetworkAclEntry', 'ec2:DeleteNetworkAclEntry', 'ec2:ReplaceNetworkAclAssociation'],
    delete: ['ec2:DeleteNetworkAcl', 'ec2:ReplaceNetworkAclAssociation'],
    tag: ec2Tags,
    note: 'on delete the subnets go back to the VPC default ACL',
  },
  aws_security_group: {
    create: ['ec2:CreateSecurityGroup', 'ec2:RevokeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress'],
    read: ['ec2:DescribeSecurityGroups'],
    delete: ['ec2:DeleteSecurityGroup'],
    tag: ec2Tags,
    note: 'the revokes remove the allow-all egress AWS adds to a new group (`egress = []`)',
  },
  aws_vpc_security_group_ingress_rule: {
    create: ['ec2:AuthorizeSecurityGroupIngress'],
    read: ['ec2:DescribeSecurityGroupRules'],
    update: ['ec2:ModifySecurityGroupRules'],
    delete: ['ec2:RevokeSecurityGroupIngress'],
    tag: ec2Tags,
  },
  aws_vpc_security_group_egress_rule: {
    create: ['ec2:AuthorizeSecurityGroupEgress'],
    read: ['ec2:DescribeSecurityGroupRules'],
    update: ['ec2:ModifySecurityGroupRules'],
    delete: ['ec2:RevokeSecurityGroupEgress'],
    tag: ec2Tags,
  },
  aws_secretsmanager_secret: {
    create: ['secretsmanager:CreateSecret'],
    read: ['secretsmanager:DescribeSecret', 'secretsmanager:GetResourcePolicy'],
    update: ['secretsmanager:UpdateSecret'],
    delete: ['secretsmanager:DeleteSecret'],
    tag: ['secretsmanager:TagResource', 'secretsmanager:UntagResource'],
  },
  aws_secretsmanager_secret_policy: {
    create: ['secretsmanager:PutResourcePolicy', 'secretsmanager:ValidateResourcePolicy'],
    read: ['secretsmanager:GetResourcePolicy'],
    update: ['secretsmanager:PutResourcePolicy', 'secretsmanager:ValidateResourcePolicy'],
    delete: ['secretsmanager:DeleteResourcePolicy'],
  },
  aws_secretsmanager_secret_version: {
    create: ['secretsmanager:PutSecretValue', 'kms:GenerateDataKey'],
    read: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'kms:Decrypt'],
    delete: ['secretsmanager:UpdateSecretVersionStage'],
    note: 'kms on the module key, which encrypts the secrets',
  },
  aws_secretsmanager_secret_rotation: {
    create: ['secretsmanager:RotateSecret', 'lambda:InvokeFunction'],
    read: ['secretsmanager:DescribeSecret'],
    update: ['secretsmanager:RotateSecret'],
    delete: ['secretsmanager:CancelRotateSecret'],
    note: 'lambda:InvokeFunction on the rotation function (prod only)',
  },
  aws_serverlessapplicationrepository_cloudformation_stack: {
    create: [
      'serverlessrepo:CreateCloudFormationChangeSet',
      'cloudformation:CreateChangeSet',
      'cloudformation:DescribeChangeSet',
      'cloudformation:ExecuteChangeSet',
      's3:GetObject',
      'lambda:CreateFunction',
      'lambda:AddPermission',
      'iam:CreateRole',
      'iam:PutRolePolicy',
      'iam:AttachRolePolicy',
      'iam:PassRole',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs',
    ],
    read: [
      'serverlessrepo:GetApplication',
      'cloudformation:DescribeStacks',
      'cloudformation:DescribeStackEvents',
      'lambda:GetFunction',
      'iam:GetRole',
      'iam:GetRolePolicy',
    ],
    update: ['lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration'],
    delete: [
      'cloudformation:DeleteStack',
      'lambda:DeleteFunction',
      'lambda:RemovePermission',
      'iam:DeleteRolePolicy',
      'iam:DetachRolePolicy',
      'iam:DeleteRole',
    ],
    tag: ['lambda:TagResource', 'lambda:ListTags', 'iam:TagRole'],
    note:
      'prod only. The repository builds a CloudFormation change set (also on the Serverless transform, arn:aws:cloudformation:<region>:aws:transform/Serverless-2016-10-31) and CloudFormation creates the function, ' +
      "its role and its invoke permission with the caller's credentials; s3:GetObject reads the template and code " +
      "from the repository's bucket",
  },
  aws_sns_topic: {
    create: ['sns:CreateTopic', 'sns:SetTopicAttributes'],
    read: ['sns:GetTopicAttributes'],
    update: ['sns:SetTopicAttributes'],
    delete: ['sns:DeleteTopic'],
    tag: ['sns:TagResource', 'sns:UntagResource', 'sns:ListTagsForResource'],
    note: 'only when alarm_sns_topic_arn is null',
  },
  aws_sns_topic_policy: {
    create: ['sns:SetTopicAttributes'],
    read: ['sns:GetTopicAttributes'],
    update: ['sns:SetTopicAttributes'],
    delete: ['sns:SetTopicAttributes'],
  },
  'data.aws_subnet': { create: [], read: ['ec2:DescribeSubnets'] },
  'data.aws_caller_identity': noCall('sts:GetCallerIdentity needs no permission'),
  'data.aws_partition': noCall('computed by the provider, no API call'),
  'data.aws_region': noCall('computed by the provider, no API call'),
  'data.aws_iam_policy_document': noCall('rendered by the provider, no API call'),
  random_password: noCall('hashicorp/random: local, no AWS call'),
  random_id: noCall('hashicorp/random: local, no AWS call'),
  random_bytes: noCall('hashicorp/random: local, no AWS call'),
  'data.aws_lambda_function': { create: [], read: ['lambda:GetFunction'], note: 'the rotation function (prod only)' },
};

/** Resource types as `aws_x`, data sources as `data.aws_x`, of a Terraform JSON document. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read by key
export function declaredTypes(document: Record<string, any>): string[] {
  return [
    ...Object.keys(document.resource ?? {}),
    ...Object.keys(document.data ?? {}).map((type) => `data.${type}`),
  ].sort();
}

/** Every action for the types given, sorted and without duplicates. */
export function applyActions(types: readonly string[]): string[] {
  const actions = new Set<string>();
  for (const type of types) {
    const entry = APPLY_ACTIONS[type];
    if (!entry) {
      throw new Error(
        `modules/rds declares ${type}, which src/rds/apply-permissions.ts APPLY_ACTIONS lacks: add the IAM actions Terraform calls to create, read, update, delete and tag it.`,
      );
    }
    for (const list of [entry.create, entry.read, entry.update, entry.delete, entry.tag]) {
      for (const action of list ?? []) actions.add(action);
    }
  }
  return [...actions].sort();
}

/** The Terraform CLI configuration of the air-gapped recipe: every hashicorp provider from a local mirror only. */
export function mirrorCliConfig(mirrorPath: string): string {
  return `provider_installation {
  filesystem_mirror {
    path    = "${mirrorPath}"
    include = ["registry.terraform.io/hashicorp/aws", "registry.terraform.io/hashicorp/random"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws", "registry.terraform.io/hashicorp/random"]
  }
}
`;
}

function permissionsSection(types: readonly string[]): string {
  const rows = types.map((type) => {
    const e = APPLY_ACTIONS[type];
    const actions = applyActions([type]);
    return `| \`${type}\` | ${actions.length ? actions.map((a) => `\`${a}\``).join(', ') : 'none'} | ${e.note ?? ''} |`;
  });
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Sid: 'AccessWeaverRdsModuleApply', Effect: 'Allow', Action: applyActions(types), Resource: '*' }],
  };
  return `### IAM permissions

Generated from the resource and data source types this module declares (create, read, update, delete and tag;
\`plan\` needs only the read actions). The identity running \`terraform apply\` needs:

| type | actions | note |
|---|---|---|
${rows.join('\n')}

As one policy (narrow \`Resource\` to your account's ARNs and the module key where your rules ask for it):

\`\`\`json
${JSON.stringify(policy, null, 2)}
\`\`\`
`;
}

const NETWORK_SECTION = `### Network paths

- **The machine running Terraform** reaches the AWS APIs over HTTPS: RDS, EC2, KMS, Secrets Manager, IAM, STS,
  CloudWatch, SNS, AWS Backup and, in prod, Serverless Application Repository, CloudFormation, Lambda and S3. It
  never connects to the database.
- **The rotation function** (prod) runs in \`private_subnet_ids\` with its own security group: PostgreSQL to the
  database group, and HTTPS out to the Secrets Manager endpoint, \`secretsmanager.<region>.amazonaws.com\`. Private
  subnets reach it through an interface VPC endpoint for Secrets Manager with private DNS (the \`vpc-<env>\` stacks
  create one) or through a NAT gateway; with neither, every rotation times out. It calls no other AWS API (it
  changes the password with the secret's own login), so no RDS or KMS endpoint is needed.
- **Applications** connect to the database on 5432 from a group listed in \`allowed_security_groups\` or holding
  \`security_group_client_id\`, and read their secret from Secrets Manager (the same endpoint or NAT).
- **The RDS API** is called by Terraform and by \`accessweaver-rds\` (restore, restore-drill, scale,
  health-check), from wherever they run; nothing inside the VPC calls it. RDS reaches its own monitoring, backups
  and managed master secret without any path through your subnets.
`;

function airGappedSection(): string {
  return `### Without internet

Terraform needs hashicorp/aws and hashicorp/random from a mirror; the AWS API endpoints above must still be reachable
(directly or through interface endpoints).

1. On a machine with internet, in a directory holding a caller of this module (for example \`examples/prod\`):

   \`\`\`sh
   terraform providers mirror -platform=linux_amd64 -platform=darwin_arm64 ./tf-mirror
   terraform providers lock -fs-mirror=./tf-mirror -platform=linux_amd64 -platform=darwin_arm64
   \`\`\`

   Copy \`tf-mirror/\` and the caller's \`.terraform.lock.hcl\` to the offline side.
2. There, point the Terraform CLI configuration (\`~/.terraformrc\`, or the file named by \`TF_CLI_CONFIG_FILE\`) at it:

   \`\`\`hcl
${mirrorCliConfig('/opt/terraform/tf-mirror')
  .trimEnd()
  .split('\n')
  .map((line) => `   ${line}`)
  .join('\n')}
   \`\`\`

3. \`terraform init\` then installs both providers from the mirror and never contacts the registry. The tests of this
   repository run exactly this configuration against the provider mirror of their machine.
`;
}

/** The "What an apply needs" section of the module README, for the types the module declares. */
export function applyRequirementsReadme(types: readonly string[]): string {
  return `## What an apply needs

${permissionsSection(types)}
${NETWORK_SECTION}
${airGappedSection()}`;
}
