import { ENVIRONMENT_CONFIGS, ENVIRONMENTS } from '../../src/config/environments';

describe('recovery objectives', () => {
  test('RTO per environment is the design KPI: under 1 h dev, 30 min staging, 15 min prod', () => {
    expect(ENVIRONMENTS.map((env) => [env, ENVIRONMENT_CONFIGS[env].recovery.rtoMinutes])).toEqual([
      ['dev', 60],
      ['staging', 30],
      ['prod', 15],
    ]);
  });

  test('RPO per environment', () => {
    expect(ENVIRONMENTS.map((env) => [env, ENVIRONMENT_CONFIGS[env].recovery.rpoMinutes])).toEqual([
      ['dev', 1440],
      ['staging', 60],
      ['prod', 15],
    ]);
  });

  test('continuous backup (point-in-time recovery) in staging and prod, within AWS Backup 1-35 day retention', () => {
    const continuous = ENVIRONMENTS.filter((env) => ENVIRONMENT_CONFIGS[env].recovery.continuousBackup);
    expect(continuous).toEqual(['staging', 'prod']);
    for (const env of continuous) {
      const days = ENVIRONMENT_CONFIGS[env].database.backupRetentionDays;
      expect(days).toBeGreaterThanOrEqual(1);
      expect(days).toBeLessThanOrEqual(35);
    }
  });

  test('a point-in-time RPO needs continuous backup; a daily one does not', () => {
    for (const env of ENVIRONMENTS) {
      const { rpoMinutes, continuousBackup } = ENVIRONMENT_CONFIGS[env].recovery;
      if (rpoMinutes < 1440) expect(continuousBackup).toBe(true);
    }
  });

  test('snapshot rules: names unique per plan; only prod copies to the disaster-recovery vault', () => {
    for (const env of ENVIRONMENTS) {
      const names = ENVIRONMENT_CONFIGS[env].recovery.backupRules.map((rule) => rule.name);
      expect(new Set(names).size).toBe(names.length);
    }
    expect(ENVIRONMENT_CONFIGS.prod.recovery.backupRules).toEqual([
      { name: 'daily', schedule: 'cron(0 0 * * ? *)', retentionDays: 35, copyToDisasterRecovery: true },
      { name: 'monthly', schedule: 'cron(0 0 1 * ? *)', retentionDays: 365, copyToDisasterRecovery: true },
    ]);
    expect(ENVIRONMENT_CONFIGS.dev.recovery.backupRules.some((rule) => rule.copyToDisasterRecovery)).toBe(false);
    expect(ENVIRONMENT_CONFIGS.staging.recovery.backupRules.some((rule) => rule.copyToDisasterRecovery)).toBe(false);
  });
});
