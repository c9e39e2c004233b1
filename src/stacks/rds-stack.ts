/**
 * rds-<env>: the database, as the `modules/rds` Terraform module called through the binding that
 * `cdktf get` generates into `.gen` — the same module block an HCL root would write, fed with
 * vpc-<env>'s outputs, so the stacks and Terraform callers run the same module.
 *
 * It re-exports the module's outputs under the module's own names, so ecs-<env> and any HCL
 * consumer read `primary_address`, `app_secret_arn`... from this stack's state.
 */
import { Fn, TerraformOutput, Token } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { Rds, RdsConfig } from '../../.gen/modules/rds';
import { RdsAurora } from '../../.gen/modules/rds-aurora';
import { ENVIRONMENT_CONFIGS, EnvironmentName } from '../config/environments';
import { DEFAULT_BACKUP_WINDOW, DEFAULT_MAINTENANCE_WINDOW } from '../rds/database';
import { MODULE_OUTPUTS } from '../rds/module-stack';
import { validateWindows } from '../rds/validation';
import { DatabaseEngineName, DEFAULT_DATABASE_ENGINES } from './database-engine';
import { DatabaseSettings, moduleInputs, validateDatabaseSettings, withDefaults } from './database-settings';
import { disasterRecoveryRegion, DisasterRecoveryVault } from './disaster-recovery';
import { SERVICE_ACCESS, SERVICE_KEYS, SERVICE_NAMES, type ServiceAccess } from './ecs-stack';
import { executionRoleName } from './ecs-service';
import { EnvironmentStack, EnvironmentStackProps, RDS_OUTPUTS, VPC_OUTPUTS } from './environment-stack';

/** Tags prod's database carries on top of the stacks' own (what its backup and monitoring tooling selects on). */
export const DATABASE_TAGS: Readonly<Record<EnvironmentName, Readonly<Record<string, string>>>> = {
  dev: {},
  staging: {},
  prod: { Backup: 'critical', Monitoring: 'enhanced' },
};

/** The environment, plus every database setting (declared in DATABASE_SETTINGS, with its default). */
export interface RdsStackProps extends EnvironmentStackProps, DatabaseSettings {
  /**
   * Region of the disaster-recovery vault and key, for environments whose backup rules copy (prod).
   * @default DEFAULT_DR_REGIONS[region] (eu-west-3 -> eu-west-1)
   */
  readonly disasterRecoveryRegion?: string;
  /**
   * Roles that read every module secret besides the services: the role that runs
   * `accessweaver-rds setup-database` (it sets the login passwords and installs the signing key).
   * @default [] (an administrator adds itself to a secret's resource policy when needed)
   */
  readonly databaseSetupRoleArns?: readonly string[];
  /**
   * The module the stack calls: `instance` (modules/rds) or `aurora` (modules/rds-aurora).
   * @default DEFAULT_DATABASE_ENGINES[environment]
   */
  readonly databaseEngine?: DatabaseEngineName;
}

const SECURITY_GROUP_ID_PATTERN = /^sg-[0-9a-f]{8,17}$/;

export class RdsStack extends EnvironmentStack {
  /** The module block: modules/rds or modules/rds-aurora, which share inputs and outputs. */
  readonly database: Rds | RdsAurora;
  /** The DR region's vault and key, where the environment copies its recovery points. */
  readonly disasterRecovery?: DisasterRecoveryVault;

  constructor(scope: Construct, id: string, props: RdsStackProps) {
    super(scope, id, props);
    const settings = withDefaults(props, this.config.name);
    try {
      // The module's own rules, so a bad window fails this synth rather than the plan.
      validateWindows(
        settings.backupWindow ?? DEFAULT_BACKUP_WINDOW,
        settings.maintenanceWindow ?? DEFAULT_MAINTENANCE_WINDOW,
      );
    } catch (error) {
      throw new Error(`${id}: ${(error as Error).message}.`, { cause: error });
    }
    try {
      validateDatabaseSettings(settings, this.config.name);
    } catch (error) {
      throw new Error(`${id}: ${(error as Error).message}.`, { cause: error });
    }
    for (const groupId of settings.allowedSecurityGroupIds ?? []) {
      if (!Token.isUnresolved(groupId) && !SECURITY_GROUP_ID_PATTERN.test(groupId)) {
        throw new Error(`${id}: allowedSecurityGroupIds entry '${groupId}' is not a security group id.`);
      }
    }

    // Environments whose table copies recovery points get a vault and key in the DR region, passed to the module.
    const copies = ENVIRONMENT_CONFIGS[this.config.name].recovery.backupRules.some((r) => r.copyToDisasterRecovery);
    this.disasterRecovery = copies
      ? new DisasterRecoveryVault(this, 'disaster-recovery', {
          projectName: this.projectName,
          environment: this.config.name,
          region: disasterRecoveryRegion(this.region, props.disasterRecoveryRegion, id),
          tags: this.tags,
        })
      : undefined;

    const vpc = this.readState('vpc');
    const inputs: RdsConfig = {
      projectName: this.projectName,
      environment: this.config.name,
      vpcId: vpc.getString(VPC_OUTPUTS.vpcId),
      privateSubnetIds: vpc.getList(VPC_OUTPUTS.privateSubnetIds),
      vpcCidr: vpc.getString(VPC_OUTPUTS.vpcCidr),
      allowedSecurityGroups: [],
      instanceOverrides: {},
      ...moduleInputs(settings),
      tags: { ...DATABASE_TAGS[this.config.name], ...this.tags },
      ...(this.disasterRecovery === undefined
        ? {}
        : {
            backupCopyVaultArn: this.disasterRecovery.vault.arn,
            backupCopyKmsKeyArn: this.disasterRecovery.key.arn,
          }),
      secretReaders: this.secretReaders(props.databaseSetupRoleArns ?? []),
    };
    const aurora = (props.databaseEngine ?? DEFAULT_DATABASE_ENGINES[this.config.name]) === 'aurora';
    this.database = aurora ? new RdsAurora(this, 'rds', inputs) : new Rds(this, 'rds', inputs);

    const db = this.database;
    // Every module output under its own name and description; a test holds the list to modules/rds's outputs.
    for (const output of MODULE_OUTPUTS) {
      new TerraformOutput(this, output.name, {
        value: db.interpolationForOutput(output.name),
        description: output.description,
      });
    }
    new TerraformOutput(this, RDS_OUTPUTS.readerAddresses, {
      value: Fn.coalescelist([Token.asList(db.replicaAddressesOutput), [db.primaryAddressOutput]]),
      description: 'Hosts for read-only connections: the replicas, or the primary when there is none',
    });
  }

  /**
   * Who may read each secret: the ECS services that receive it (SERVICE_ACCESS; their execution
   * roles are named by convention, so this stack needs no state of ecs-<env>, which is deployed
   * after it), plus the setup roles.
   */
  private secretReaders(setupRoles: readonly string[]): Record<'app' | 'readonly' | 'tenant_context_key', string[]> {
    const caller = new DataAwsCallerIdentity(this, 'caller');
    const partition = new DataAwsPartition(this, 'partition');
    const roles = (wanted: (access: ServiceAccess) => boolean) => [
      ...SERVICE_KEYS.filter((key) => wanted(SERVICE_ACCESS[key])).map(
        (key) =>
          `arn:${partition.partition}:iam::${caller.accountId}:role/${executionRoleName(this.namePrefix, SERVICE_NAMES[key])}`,
      ),
      ...setupRoles,
    ];
    return {
      app: roles((access) => access.login === 'app'),
      readonly: roles((access) => access.login === 'readonly'),
      tenant_context_key: roles((access) => access.signsTenantContexts),
    };
  }
}
