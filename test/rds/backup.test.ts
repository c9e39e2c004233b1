/** The module's AWS Backup part at synth: what it emits, and the recovery rows and copy inputs it refuses. */
import { Testing } from 'cdktf';
import { ENVIRONMENT_CONFIGS, RecoveryObjectives } from '../../src/config/environments';
import { backupRulesLocal } from '../../src/rds/backup';
import { AccessWeaverDatabase, AccessWeaverDatabaseProps, recoveryOf } from '../../src/rds/database';

const valid: AccessWeaverDatabaseProps = {
  projectName: 'accessweaver',
  environment: 'prod',
  vpcId: 'vpc-0123456789abcdef0',
  privateSubnetIds: ['subnet-0aaa', 'subnet-0bbb'],
};

const synth = (overrides: Partial<AccessWeaverDatabaseProps>): any =>
  JSON.parse(
    Testing.synthScope((scope) => {
      new AccessWeaverDatabase(scope, 'database', { ...valid, ...overrides });
    }),
  );

const withProdRecovery = (prod: Partial<RecoveryObjectives>) => ({
  recovery: { ...recoveryOf(ENVIRONMENT_CONFIGS), prod: { ...ENVIRONMENT_CONFIGS.prod.recovery, ...prod } },
});

describe('the backup plan from the recovery table', () => {
  test('rules per environment: continuous first where the table asks for it, then the snapshot rules', () => {
    expect(backupRulesLocal(recoveryOf(ENVIRONMENT_CONFIGS))).toEqual({
      dev: [{ name: 'daily', schedule: 'cron(0 0 * * ? *)', delete_after: 7, continuous: false, copy: false }],
      staging: [
        { name: 'continuous', schedule: 'cron(0 12 * * ? *)', delete_after: null, continuous: true, copy: false },
        { name: 'daily', schedule: 'cron(0 0 * * ? *)', delete_after: 14, continuous: false, copy: false },
      ],
      prod: [
        { name: 'continuous', schedule: 'cron(0 12 * * ? *)', delete_after: null, continuous: true, copy: false },
        { name: 'daily', schedule: 'cron(0 0 * * ? *)', delete_after: 35, continuous: false, copy: true },
        { name: 'monthly', schedule: 'cron(0 0 1 * ? *)', delete_after: 365, continuous: false, copy: true },
      ],
    });
  });

  test("the continuous rule keeps the instance's own retention, so AWS Backup never changes it", () => {
    const plan = synth({}).resource.aws_backup_plan.main;
    expect(plan.dynamic.rule.content.lifecycle.delete_after).toBe(
      '${rule.value.continuous ? local.config.backup_retention : rule.value.delete_after}',
    );
    expect(plan.dynamic.rule.content.enable_continuous_backup).toBe('${rule.value.continuous}');
    expect(plan.rule).toBeUndefined();
  });

  test('the vault is encrypted with the module key; the selection covers the primary by ARN', () => {
    const json = synth({});
    expect(json.resource.aws_backup_vault.main.kms_key_arn).toBe('${aws_kms_key.rds.arn}');
    expect(json.resource.aws_backup_selection.primary).toEqual({
      name: '${local.name_prefix}-primary',
      plan_id: '${aws_backup_plan.main.id}',
      iam_role_arn: '${aws_iam_role.backup.arn}',
      resources: ['${aws_db_instance.main.arn}'],
    });
  });

  test('a copy action only for copied rules, and only when a destination vault is given', () => {
    const json = synth({
      backupCopyVaultArn: 'arn:aws:backup:eu-west-1:123456789012:backup-vault:accessweaver-prod-backup-dr',
    });
    expect(json.locals.backup_copy_vault_arn).toBe(
      'arn:aws:backup:eu-west-1:123456789012:backup-vault:accessweaver-prod-backup-dr',
    );
    expect(json.resource.aws_backup_plan.main.dynamic.rule.content.dynamic.copy_action.for_each).toBe(
      '${rule.value.copy && local.backup_copy_vault_arn != null ? [local.backup_copy_vault_arn] : []}',
    );
  });
});

describe('recovery rows and copy inputs are checked at synth, naming the bad value', () => {
  test('a rule name used twice', () => {
    const daily = ENVIRONMENT_CONFIGS.prod.recovery.backupRules[0];
    expect(() => synth(withProdRecovery({ backupRules: [daily, daily] }))).toThrow(
      "recovery of 'prod': rule name 'daily' is used twice",
    );
  });

  test('a schedule that is not a cron or rate expression', () => {
    const daily = { ...ENVIRONMENT_CONFIGS.prod.recovery.backupRules[0], schedule: '0 0 * * *' };
    expect(() => synth(withProdRecovery({ backupRules: [daily] }))).toThrow(
      "recovery of 'prod': rule 'daily' schedule '0 0 * * *' is not a cron(...) or rate(...) expression",
    );
  });

  test('objectives that are not positive', () => {
    expect(() => synth(withProdRecovery({ rtoMinutes: 0 }))).toThrow(
      "recovery of 'prod': rpoMinutes (15) and rtoMinutes (0) must be positive",
    );
  });

  test('a retention of zero days', () => {
    const daily = { ...ENVIRONMENT_CONFIGS.prod.recovery.backupRules[0], retentionDays: 0 };
    expect(() => synth(withProdRecovery({ backupRules: [daily] }))).toThrow(
      "recovery of 'prod': rule 'daily' retentionDays 0 is not a positive whole number",
    );
  });

  test('a copy vault that is not a backup vault ARN', () => {
    expect(() => synth({ backupCopyVaultArn: 'arn:aws:s3:::dr-bucket' })).toThrow(
      "backupCopyVaultArn 'arn:aws:s3:::dr-bucket' does not match",
    );
  });

  test('a copy key that is not a KMS key ARN', () => {
    expect(() => synth({ backupCopyKeyArn: 'alias/dr' })).toThrow("backupCopyKeyArn 'alias/dr' does not match");
  });
});
