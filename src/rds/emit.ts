import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from 'cdktf';
import { ALARM_PERIOD_SECONDS, AlarmThreshold, PRIMARY_ALARMS, REPLICA_LAG_THRESHOLD_SECONDS } from '../config/alarms';
import { ENVIRONMENTS, ENVIRONMENT_CONFIGS, EnvironmentName, SIZING_ATTRIBUTES } from '../config/environments';
import { INSTANCE_CLASSES } from '../config/instance-classes';
import { STATIC_PARAMETERS } from './parameters';
import {
  MODULE_OUTPUTS,
  MODULE_REQUIRED_PROVIDERS,
  MODULE_VARIABLES,
  ModuleVariant,
  RdsModuleStack,
  stripMetadata,
} from './module-stack';
import { applyRequirementsReadme, declaredTypes } from './apply-permissions';
import { costReadme } from './cost';
import { providerRangeReadme } from './provider-range';

export const MODULE_STACK_ID = 'rds-module';

/** Synthesizes the module stack and returns its Terraform JSON document. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read by key
export function synthesizeModuleDocument(variant: ModuleVariant = {}): Record<string, any> {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'rds-module-'));
  try {
    const app = new App({ outdir });
    new RdsModuleStack(app, MODULE_STACK_ID, variant);
    app.synth();
    return stripMetadata(JSON.parse(readFileSync(path.join(outdir, 'stacks', MODULE_STACK_ID, 'cdk.tf.json'), 'utf8')));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The files of `modules/rds`, split as a hand-written module would be (versions, variables, main, outputs), plus
 * its README and one example caller per environment. Keys are relative paths.
 */
export function moduleFiles(document = synthesizeModuleDocument()): Record<string, string> {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  const { terraform, variable, output, ...main } = document;
  const files: Record<string, string> = {
    'versions.tf.json': json({ terraform }),
    'variables.tf.json': json({ variable }),
    'main.tf.json': json(main),
    'outputs.tf.json': json({ output }),
    'README.md': moduleReadme(document),
  };
  for (const environment of ENVIRONMENTS) {
    files[`examples/${environment}/main.tf`] = exampleCaller(environment);
  }
  return files;
}

/** Writes the module into `directory`, replacing what was there. */
export function writeModule(directory: string, files = moduleFiles()): void {
  rmSync(directory, { recursive: true, force: true });
  for (const [relative, content] of Object.entries(files)) {
    const target = path.join(directory, relative);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
}

/** The literal network IDs an example caller passes (stand-ins for a VPC module's outputs). */
export function exampleNetwork(environment: EnvironmentName) {
  const n = { dev: 10, staging: 20, prod: 30 }[environment];
  return {
    vpcId: `vpc-0${n}00000000000000`,
    /** Subnet ID by the zone letter it stands for. */
    subnets: { a: `subnet-0${n}a0000000000000`, b: `subnet-0${n}b0000000000000`, c: `subnet-0${n}c0000000000000` },
    securityGroupId: `sg-0${n}e0000000000000`,
  };
}

/** An HCL caller as an existing pipeline writes one (`environments/<env>/main.tf`), with literal network IDs. */
export function exampleCaller(environment: EnvironmentName): string {
  const network = exampleNetwork(environment);
  return (
    `# Example: the AccessWeaver database for ${environment}, called as an existing Terraform pipeline would.
# The IDs stand for the outputs of your VPC and ECS modules (module.vpc.vpc_id, ` +
    `module.ecs.service_security_group_id).

terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = { source = "hashicorp/aws", version = "${MODULE_REQUIRED_PROVIDERS.aws.version}" }
  }
}

provider "aws" {
  region = "eu-west-3"
}

module "rds" {
  source = "../.."

  project_name = "accessweaver"
  environment  = "${environment}"

  vpc_id             = "${network.vpcId}"
  private_subnet_ids = ${JSON.stringify(Object.values(network.subnets)).replace(/,/g, ', ')}

  allowed_security_groups = ["${network.securityGroupId}"]

  backup_window      = "02:00-03:00"
  maintenance_window = "Sun:03:00-Sun:04:00"

  tags = {
    Backup     = "${environment === 'prod' ? 'critical' : 'standard'}"
    Monitoring = "${environment === 'dev' ? 'basic' : 'enhanced'}"
  }
${environment === 'prod' ? EXAMPLE_DR_COPY : ''}
  # The roles of the services that connect (module.ecs outputs), and the role that runs setup-database.
  secret_readers = {
    app                = ["${exampleRole(environment, 'auth-service-execution')}", "` +
    `${exampleRole(environment, 'database-setup')}"]
    readonly           = ["${exampleRole(environment, 'pdp-service-execution')}", "` +
    `${exampleRole(environment, 'database-setup')}"]
    tenant_context_key = ["${exampleRole(environment, 'auth-service-execution')}", "` +
    `${exampleRole(environment, 'database-setup')}"]
  }
}

output "primary_endpoint" {
  value = module.rds.primary_endpoint
}

output "app_secret_arn" {
  value = module.rds.app_secret_arn
}
`
  );
}

/** The DR vault and key an example prod caller copies to (the rds-prod stack creates them in its DR region). */
export const EXAMPLE_DR_VAULT_ARN = 'arn:aws:backup:eu-west-1:123456789012:backup-vault:accessweaver-prod-backup-dr';
export const EXAMPLE_DR_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-4987-8a6b-5c4d3e2f1a0b';
const EXAMPLE_DR_COPY = `
  # Copies of the recovery points the table marks for disaster recovery go to a vault in another region.
  backup_copy_vault_arn   = "${EXAMPLE_DR_VAULT_ARN}"
  backup_copy_kms_key_arn = "${EXAMPLE_DR_KEY_ARN}"
`;

/** RPO, RTO and the backup rules per environment, from the recovery table. */
function recoveryReadme(): string {
  const rows = ENVIRONMENTS.map((name) => {
    const r = ENVIRONMENT_CONFIGS[name].recovery;
    const d = ENVIRONMENT_CONFIGS[name].database;
    const duration = (minutes: number) => (minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`);
    const continuous = r.continuousBackup ? `${d.backupRetentionDays} d` : 'no';
    const rules = r.backupRules
      .map(
        (rule) =>
          `${rule.name} \`${rule.schedule}\` kept ${rule.retentionDays} d${rule.copyToDisasterRecovery ? ', copied' : ''}`,
      )
      .join('; ');
    return `| ${name} | ${duration(r.rpoMinutes)} | ${duration(r.rtoMinutes)} | ${continuous} | ${rules} |`;
  }).join('\n');
  return `## Recovery

Recovery objectives per environment, from \`recovery\` in the environment table. The RTO is measured from the restore
request to a verified, usable database; \`accessweaver-rds restore-drill\` measures it (and the age of the restored
point against the RPO) on a temporary instance. AWS Backup keeps the primary in the vault \`<project>-<env>-backup\`
(encrypted with the module key); continuous backup gives point-in-time recovery and, once on, also manages the
instance's automated backups with the same retention. With \`backup_copy_vault_arn\`, the rules marked "copied" also
copy each recovery point to that vault, kept as long as the original.

| environment | RPO | RTO | continuous backup (PITR) | snapshot rules (UTC) |
|---|---|---|---|---|
${rows}
`;
}

/** An IAM role of the example account (the offline plan's stand-in account). */
export const exampleRole = (environment: string, name: string) =>
  `arn:aws:iam::123456789012:role/accessweaver-${environment}-${name}`;

const escapeHtml = (text: string) => text.replace(/</g, '&lt;').replace(/>/g, '&gt;');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Terraform JSON, read by key
function moduleReadme(document: Record<string, any>): string {
  const cell = (value: unknown) => (value === undefined ? 'required' : `\`${JSON.stringify(value)}\``);
  const inputs = MODULE_VARIABLES.map(
    (v) => `| \`${v.name}\` | ${escapeHtml(v.description)} | \`${v.type}\` | ${cell(v.default)} |`,
  ).join('\n');
  const outputs = MODULE_OUTPUTS.map((o) => `| \`${o.name}\` | ${escapeHtml(o.description)} |`).join('\n');
  const sizing = ENVIRONMENTS.map((name) => {
    const d = ENVIRONMENT_CONFIGS[name].database;
    const storage = `${d.allocatedStorage} GiB ${d.storageType}${d.iops ? ` ${d.iops} IOPS` : ''} (max ${d.maxAllocatedStorage})`;
    const retention = d.performanceInsightsRetentionDays === null ? 'off' : `${d.performanceInsightsRetentionDays} d`;
    const insights = `${retention}, ${d.databaseInsightsMode}`;
    const lifecycle = d.engineLifecycleSupport.endsWith('-disabled') ? 'RDS upgrades' : 'Extended Support';
    return `| ${name} | ${d.instanceClass} | ${storage} | ${d.multiAz ? 'yes' : 'no'} | ${d.backupRetentionDays} d | ${d.replicaCount} | ${d.monitoringIntervalSeconds || 'off'} | ${insights} | ${d.protectFromDeletion ? 'yes' : 'no'} | ${d.rotateCredentials ? '30 d' : 'no'} | ${lifecycle} |`;
  }).join('\n');
  const classes = Object.entries(INSTANCE_CLASSES)
    .map(([name, spec]) => `${name} (${spec.memoryGiB} GiB)`)
    .join(', ');
  const threshold = (t: AlarmThreshold) =>
    'field' in t
      ? `\`${SIZING_ATTRIBUTES[t.field]}\``
      : 'shareOf' in t
        ? `${typeof t.percent === 'number' ? `${t.percent}%` : `\`${SIZING_ATTRIBUTES[t.percent]}\` %`} of the ${t.shareOf === 'storage' ? 'allocated storage' : 'class memory'}`
        : String(t.value);
  const instances = (a: (typeof PRIMARY_ALARMS)[number]) =>
    a.burstableOnly ? 'primary, burstable classes only' : a.onReplicas ? 'primary and each replica' : 'primary';
  const alarms = PRIMARY_ALARMS.map(
    (a) =>
      `| ${a.logicalId} | ${a.metric} | ${a.comparison === 'LessThanThreshold' ? '<' : '>'} ${threshold(a.threshold)} | ${a.evaluationPeriods} | ${instances(a)} |`,
  ).join('\n');
  return (
    `# modules/rds

The AccessWeaver database on Amazon RDS for PostgreSQL 15, as a plain Terraform module.

**Generated file: do not edit.** This folder is synthesized from the TypeScript constructs in ` +
    `\`src/rds/\` by
\`npm run modules\`; a test fails when it differs from what they produce.

\`\`\`hcl
module "rds" {
  source = "../../modules/rds"

  project_name       = var.project_name
  environment        = "prod"
  vpc_id             = module.vpc.vpc_id
  private_subnet_ids = module.vpc.private_subnet_ids

  allowed_security_groups = [module.ecs.service_security_group_id]
  backup_window           = "02:00-03:00"
  maintenance_window      = "Sun:03:00-Sun:04:00"
  tags                    = { Backup = "critical" }
}
\`\`\`

Runnable callers for each environment are in [examples/](examples/).

## Sizing

Selected by \`environment\` from \`local.instance_configs\`:

| environment | class | storage | Multi-AZ | backups | replicas | enhanced monitoring (s) | Performance ` +
    `Insights retention, Database Insights mode | deletion protection + final snapshot | credential rotation | ` +
    `after standard support |
|---|---|---|---|---|---|---|---|---|---|---|
${sizing}

${recoveryReadme()}
${costReadme()}

## Overriding the sizing row

\`instance_overrides\` replaces any field of the selected row (attributes named as in ` +
    `\`local.instance_configs\`);
the table stays the default. Each field is validated at plan, with a message naming it. ` +
    `\`instance_class\` must be
one of the catalogue (\`local.instance_classes\`), which also gives the memory the freeable-memory alarm ` +
    `is a share
of: ${classes}. \`parameters\` adds parameter-group entries or replaces the module's entry of the same ` +
    `name; static
parameters (${STATIC_PARAMETERS.join(', ')}) apply at the next reboot.

\`\`\`hcl
  instance_overrides = { instance_class = "db.r6g.xlarge", allocated_storage = 800, max_allocated_storage ` +
    `= 2000 }
  apply_immediately  = false
  parameters         = [{ name = "max_wal_senders", value = "20" }]   # static: pending-reboot
\`\`\`

## Alarms

Every alarm evaluates ${ALARM_PERIOD_SECONDS / 60}-minute periods and notifies \`alarm_topic_arn\`; ` +
    `thresholds named by a field come
from the sizing row (or \`instance_overrides\`).

| alarm | metric | threshold | periods | on |
|---|---|---|---|---|
${alarms}
| replica_lag | ReplicaLag | ${REPLICA_LAG_THRESHOLD_SECONDS} s | 3 | each replica |

## Inputs

| name | description | type | default |
|---|---|---|---|
${inputs}

## Outputs

| name | description |
|---|---|
${outputs}

## After the first apply

The database exists but holds no schema and the logins have no password yet. Run, from the repository:

\`\`\`sh
npx accessweaver-rds setup-database --env <environment> --ca-bundle global-bundle.pem
\`\`\`

It applies the migrations in \`sql/\` as the master user and sets the application and read-only passwords ` +
    `from
their secrets. Credential rotation (prod) starts 30 days later, once the logins exist.

## Versions

The engine major version is pinned (15, with the \`postgres15\` parameter group); RDS applies minor ` +
    `versions in the
maintenance window (\`auto_minor_version_upgrade = true\`) and the plan accepts whichever 15.x is ` +
    `running. A major
upgrade is a deliberate change of this module.

## Coming from the original HCL module

Addresses are unchanged, so the state carries over. Three things change on the first apply, on purpose:

- The master password becomes RDS-managed: \`random_password.master_password\` and
  \`aws_secretsmanager_secret.db_password\` are destroyed, RDS creates its own secret (output ` +
    `\`secret_arn\`).
- Security group rules become separate resources. Before the first apply, import the original inline ` +
    `rules into
  them, or revoke them: the database group's ingress from the client group
  (\`aws_vpc_security_group_ingress_rule.rds_from_clients\`) and the client group's egress on 5432 ` +
    `(replaced by
  \`aws_vpc_security_group_egress_rule.rds_client_to_rds\`, to the database group only). The database ` +
    `group's
  allow-all egress is revoked by the module itself.
- \`final_snapshot_identifier\` no longer changes on every plan.

## Requirements

Terraform >= 1.5, hashicorp/aws ${MODULE_REQUIRED_PROVIDERS.aws.version}, hashicorp/random ` +
    `${MODULE_REQUIRED_PROVIDERS.random.version}. The module configures no provider and no backend.

${providerRangeReadme()}
${applyRequirementsReadme(declaredTypes(document))}`
  );
}
