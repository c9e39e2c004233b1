/**
 * Names shared by the module, the stacks and the operations CLI: the rule a project name follows, and the suffix
 * of each resource the CLI looks up by name. The module builds these names in HCL and the CLI in TypeScript, from
 * the same data here.
 */

/**
 * A project name prefixes every resource name (`<project>-<env>-primary`...), so it follows RDS identifier rules:
 * a lowercase letter first, then lowercase letters, digits and hyphens, no hyphen last (RDS refuses an identifier
 * ending in one), and at most 30 characters so the longest name built from it stays within AWS limits.
 */
export const PROJECT_NAME_RULE = {
  /** Written once for JavaScript's RegExp and Terraform's regex() (RE2): the syntax both share. */
  pattern: '^[a-z][a-z0-9-]{0,28}[a-z0-9]$',
  minLength: 2,
  maxLength: 30,
  description: '2 to 30 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen',
} as const;

const PROJECT_NAME = new RegExp(PROJECT_NAME_RULE.pattern);

export function isValidProjectName(name: string): boolean {
  return PROJECT_NAME.test(name);
}

/** The suffix after `<project>-<env>-` of each named resource. */
export const RESOURCE_SUFFIXES = {
  primary: 'primary',
  /** The Aurora engine's DB cluster (its writer instance is `primary`). */
  cluster: 'cluster',
  /** `n` is 1-based: a number, or an HCL expression such as `${count.index + 1}`. */
  replica: (n: number | string) => `replica-${n}`,
  subnetGroup: 'db-subnet-group',
  appSecret: 'app-db-credentials',
  readonlySecret: 'readonly-db-credentials',
  /** AWS Backup vault of the module, in the primary's region. */
  backupVault: 'backup',
  /** AWS Backup vault receiving the copies, in the disaster-recovery region. */
  drBackupVault: 'backup-dr',
  /** Temporary instances (and their security groups) of `accessweaver-rds restore-drill`; nothing else has it. */
  drillPrefix: 'drill-',
  /** JSON `{"version": <integer>, "key": "<base64 of 32 bytes>"}`: the key that signs tenant contexts. */
  tenantContextKeySecret: 'tenant-context-key',
  /** A CloudWatch alarm on the primary, from its rule's logicalId (src/config/alarms.ts). */
  alarm: (logicalId: string) => `rds-${logicalId.replace(/_/g, '-')}`,
} as const;

/** `<project>-<env>-<suffix>`. */
const named = (project: string, env: string, suffix: string) => `${project}-${env}-${suffix}`;

/** Names of the module's resources for one project and environment, as the CLI and the stacks look them up. */
export const naming = {
  primaryIdentifier: (project: string, env: string) => named(project, env, RESOURCE_SUFFIXES.primary),
  clusterIdentifier: (project: string, env: string) => named(project, env, RESOURCE_SUFFIXES.cluster),
  /** `index` is 0-based, as in the module's `count.index`. */
  replicaIdentifier: (project: string, env: string, index: number) =>
    named(project, env, RESOURCE_SUFFIXES.replica(index + 1)),
  subnetGroupName: (project: string, env: string) => named(project, env, RESOURCE_SUFFIXES.subnetGroup),
  appSecretName: (project: string, env: string) => named(project, env, RESOURCE_SUFFIXES.appSecret),
  readonlySecretName: (project: string, env: string) => named(project, env, RESOURCE_SUFFIXES.readonlySecret),
  backupVaultName: (project: string, env: string) => named(project, env, RESOURCE_SUFFIXES.backupVault),
  drBackupVaultName: (project: string, env: string) => named(project, env, RESOURCE_SUFFIXES.drBackupVault),
  drillIdentifierPrefix: (project: string, env: string) => named(project, env, RESOURCE_SUFFIXES.drillPrefix),
  tenantContextKeySecretName: (project: string, env: string) =>
    named(project, env, RESOURCE_SUFFIXES.tenantContextKeySecret),
  alarmName: (project: string, env: string, logicalId: string) =>
    named(project, env, RESOURCE_SUFFIXES.alarm(logicalId)),
} as const;
