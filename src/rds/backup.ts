import { Construct } from 'constructs';
import { TerraformLocal } from 'cdktf';
import { BackupPlan } from '@cdktf/provider-aws/lib/backup-plan';
import { BackupSelection } from '@cdktf/provider-aws/lib/backup-selection';
import { BackupVault } from '@cdktf/provider-aws/lib/backup-vault';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { EnvironmentName, RecoveryObjectives } from '../config/environments';
import { RESOURCE_SUFFIXES } from '../config/names';
import { addressOf, config, encodedDocument, expr, ref, serviceTrustPolicy, tf } from './expressions';
import { address, COMMON_TAGS_LOCAL, nameTags, prefixed } from './naming';

/**
 * When the continuous-backup rule runs its daily maintenance job: noon UTC, away from the snapshot rules (AWS Backup
 * runs only the longer-kept of two rules whose start windows overlap) and from the backup and maintenance windows.
 */
export const CONTINUOUS_BACKUP_SCHEDULE = 'cron(0 12 * * ? *)';
/** Minutes AWS Backup may wait to start a job, and to finish it, before it counts as missed or failed. */
export const BACKUP_START_WINDOW_MINUTES = 60;
export const BACKUP_COMPLETION_WINDOW_MINUTES = 360;
/** The AWS managed policies of the service role: back up (snapshots, continuous backup, copies) and restore. */
export const BACKUP_MANAGED_POLICIES = [
  'service-role/AWSBackupServiceRolePolicyForBackup',
  'service-role/AWSBackupServiceRolePolicyForRestores',
];

/** One rule of the plan as the module's `local.backup_rules` holds it. */
interface RuleRow {
  readonly name: string;
  readonly schedule: string;
  /** null: the continuous rule, kept as long as the instance's automated backups (`local.config.backup_retention`). */
  readonly delete_after: number | null;
  readonly continuous: boolean;
  readonly copy: boolean;
}

/**
 * The backup rules per environment, from the recovery table: the continuous rule first where the table asks for
 * point-in-time recovery, then the snapshot rules.
 */
export function backupRulesLocal(
  recovery: Readonly<Record<EnvironmentName, RecoveryObjectives>>,
): Record<string, RuleRow[]> {
  return Object.fromEntries(
    Object.entries(recovery).map(([environment, objectives]) => [
      environment,
      [
        ...(objectives.continuousBackup
          ? [
              {
                name: 'continuous',
                schedule: CONTINUOUS_BACKUP_SCHEDULE,
                delete_after: null,
                continuous: true,
                copy: false,
              },
            ]
          : []),
        ...objectives.backupRules.map((rule) => ({
          name: rule.name,
          schedule: rule.schedule,
          delete_after: rule.retentionDays,
          continuous: false,
          copy: rule.copyToDisasterRecovery,
        })),
      ],
    ]),
  );
}

/**
 * Rules AWS Backup would refuse stop synthesis here. (The continuous rule keeps backupRetentionDays, which the sizing
 * check already holds to 1-35 days: AWS Backup's range for continuous backup too.)
 */
export function validateRecovery(environment: string, objectives: RecoveryObjectives): void {
  const where = `recovery of '${environment}'`;
  const names = new Set<string>(objectives.continuousBackup ? ['continuous'] : []);
  for (const rule of objectives.backupRules) {
    if (!/^[A-Za-z0-9-]{1,50}$/.test(rule.name))
      throw new Error(`${where}: rule name '${rule.name}' is not 1-50 letters, digits or hyphens`);
    if (names.has(rule.name)) throw new Error(`${where}: rule name '${rule.name}' is used twice`);
    names.add(rule.name);
    if (!/^cron\(.+\)$|^rate\(.+\)$/.test(rule.schedule)) {
      throw new Error(
        `${where}: rule '${rule.name}' schedule '${rule.schedule}' is not a cron(...) or rate(...) expression`,
      );
    }
    if (!Number.isInteger(rule.retentionDays) || rule.retentionDays < 1) {
      throw new Error(
        `${where}: rule '${rule.name}' retentionDays ${rule.retentionDays} is not a positive whole number`,
      );
    }
  }
  if (!(objectives.rpoMinutes > 0) || !(objectives.rtoMinutes > 0)) {
    throw new Error(
      `${where}: rpoMinutes (${objectives.rpoMinutes}) and rtoMinutes (${objectives.rtoMinutes}) must be positive`,
    );
  }
}

/** An AWS Backup vault ARN, and a KMS key ARN, as the copy inputs take them. */
export const BACKUP_VAULT_ARN_PATTERN = '^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:[A-Za-z0-9_.-]+$';
export const KMS_KEY_ARN_PATTERN = '^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$';

export interface DatabaseBackupProps {
  /** Encrypts the vault. */
  readonly key: KmsKey;
  readonly partition: DataAwsPartition;
  /** What the plan covers: the engine's backup target (an instance or cluster ARN, as HCL). */
  readonly target: string;
  /** The environment's rules (a list of RuleRow), selected from `backupRulesLocal`. */
  readonly rules: TerraformLocal;
  /** Vault in another region receiving copies of the rules that say so (an ARN), or null for no copy. */
  readonly copyVaultArn: TerraformLocal;
  /** The key of that vault (an ARN), or null: the service role gets what a copy needs on it. */
  readonly copyKeyArn: TerraformLocal;
  /** Delete the vault's recovery points with it on destroy (where the primary is not protected from deletion). */
  readonly forceDestroy: string;
}

/**
 * AWS Backup for the primary: a vault encrypted with the module key, a plan whose rules and retention come from
 * the environment table (continuous backup for point-in-time recovery where the table says so), a selection
 * covering the primary (what Security Hub's RDS.26 checks), and the service role AWS Backup acts as, with AWS's
 * managed backup and restore policies. A destination vault, when given, receives a copy of each rule's recovery
 * points that the table marks for disaster recovery, kept as long as the original.
 */
export class DatabaseBackup extends Construct {
  public readonly vault: BackupVault;
  public readonly plan: BackupPlan;
  public readonly role: IamRole;
  public readonly selection: BackupSelection;

  constructor(scope: Construct, id: string, props: DatabaseBackupProps) {
    super(scope, id);

    this.vault = address(
      new BackupVault(this, 'vault', {
        name: prefixed(RESOURCE_SUFFIXES.backupVault),
        kmsKeyArn: props.key.arn,
        forceDestroy: tf.bool(props.forceDestroy),
        tags: nameTags(RESOURCE_SUFFIXES.backupVault),
      }),
      'main',
    );
    this.plan = this.addPlan(props);
    this.role = this.addRole(props);
    this.selection = address(
      new BackupSelection(this, 'selection', {
        name: prefixed('primary'),
        planId: this.plan.id,
        iamRoleArn: this.role.arn,
        resources: [tf.string(props.target)],
      }),
      'primary',
    );
  }

  /** The plan: the environment's rules, each copied to the disaster-recovery vault where it says so. */
  private addPlan(props: DatabaseBackupProps): BackupPlan {
    // The rules differ in number per environment: one dynamic block over the selected list. The copy action is a
    // nested dynamic block, present only for copied rules when a destination vault is given.
    const plan = address(
      new BackupPlan(this, 'plan', { name: prefixed('backup-plan'), rule: [], tags: nameTags('backup-plan') }),
      'main',
    );
    plan.addOverride('rule', undefined);
    const copyVault = addressOf(props.copyVaultArn);
    plan.addOverride('dynamic.rule', {
      for_each: `\${${addressOf(props.rules)}}`,
      content: {
        rule_name: '${rule.value.name}',
        target_vault_name: `\${${ref(this.vault, 'name')}}`,
        schedule: '${rule.value.schedule}',
        start_window: BACKUP_START_WINDOW_MINUTES,
        completion_window: BACKUP_COMPLETION_WINDOW_MINUTES,
        enable_continuous_backup: '${rule.value.continuous}',
        recovery_point_tags: `\${local.${COMMON_TAGS_LOCAL}}`,
        lifecycle: {
          delete_after: `\${rule.value.continuous ? ${config('backupRetentionDays')} : rule.value.delete_after}`,
        },
        dynamic: {
          copy_action: {
            for_each: `\${rule.value.copy && ${copyVault} != null ? [${copyVault}] : []}`,
            content: {
              destination_vault_arn: '${copy_action.value}',
              lifecycle: { delete_after: '${rule.value.delete_after}' },
            },
          },
        },
      },
    });
    return plan;
  }

  /** The role AWS Backup assumes: its managed policies, and the copy key where there is one. */
  private addRole(props: DatabaseBackupProps): IamRole {
    const role = address(
      new IamRole(this, 'role', {
        name: prefixed('backup-role'),
        assumeRolePolicy: encodedDocument(this, 'backup_role_trust_policy', serviceTrustPolicy('backup.amazonaws.com')),
        tags: nameTags('backup-role'),
      }),
      'backup',
    );
    BACKUP_MANAGED_POLICIES.forEach((policy, index) =>
      address(
        new IamRolePolicyAttachment(this, `role-policy-${index}`, {
          role: role.name,
          policyArn: `arn:${props.partition.partition}:iam::aws:policy/${policy}`,
        }),
        index === 0 ? 'backup' : 'backup_restores',
      ),
    );
    // A copy into another region is encrypted with that vault's key: the role must be able to use it.
    address(
      new IamRolePolicy(this, 'copy-key', {
        count: tf.number(`${addressOf(props.copyKeyArn)} == null ? 0 : 1`),
        name: 'copy-to-disaster-recovery-key',
        role: role.id,
        policy: encodedDocument(this, 'backup_copy_key_policy', {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: [
                'kms:CreateGrant',
                'kms:DescribeKey',
                'kms:Encrypt',
                'kms:Decrypt',
                'kms:ReEncrypt*',
                'kms:GenerateDataKey*',
              ],
              Resource: expr(addressOf(props.copyKeyArn)),
            },
          ],
        }),
      }),
      'backup_copy_key',
    );
    return role;
  }
}
