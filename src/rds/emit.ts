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
import { postgresInstanceEngine } from './engine';
import { providerRangeReadme } from './provider-range';
import { ENGINE_MAJOR_VERSIONS } from './rules';
import { MODULE_VERSION } from './version';

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

/** The module README's prose, with `{{name}}` where generated tables and values go. */
const MODULE_README_TEMPLATE = readFileSync(path.join(__dirname, 'templates', 'module-readme.md'), 'utf8');

/** `template` with each `{{name}}` replaced by its value; a name without a value, or a value not used, throws. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const used = new Set<string>();
  const text = template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`template placeholder {{${name}}} has no value`);
    used.add(name);
    return values[name]!;
  });
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`template has no placeholder for ${unused.join(', ')}`);
  return text;
}

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
  const engine = postgresInstanceEngine();
  return fillTemplate(MODULE_README_TEMPLATE, {
    majorVersion: engine.majorVersion,
    moduleVersion: MODULE_VERSION,
    parameterFamily: engine.parameterGroupFamily,
    majorVersions: ENGINE_MAJOR_VERSIONS.join(', '),
    sizing,
    recovery: recoveryReadme(),
    cost: costReadme(),
    classes,
    staticParameters: STATIC_PARAMETERS.join(', '),
    alarmPeriodMinutes: String(ALARM_PERIOD_SECONDS / 60),
    alarms,
    replicaLagSeconds: String(REPLICA_LAG_THRESHOLD_SECONDS),
    inputs,
    outputs,
    awsVersion: MODULE_REQUIRED_PROVIDERS.aws.version,
    randomVersion: MODULE_REQUIRED_PROVIDERS.random.version,
    providerRange: providerRangeReadme(),
    applyRequirements: applyRequirementsReadme(declaredTypes(document)),
  });
}
