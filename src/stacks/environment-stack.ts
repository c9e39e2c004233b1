/**
 * What the vpc-, rds- and ecs- stacks share: the environment lookup, the AWS provider with the
 * project's default tags, the state backend, and the names of the stacks and of their outputs.
 */
import { MODULE_OUTPUTS } from '../rds/module-stack';
import { TerraformRemoteState, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { DEFAULT_PROJECT_NAME, EnvironmentConfig, EnvironmentName, environmentConfig } from '../config/environments';
import { isValidProjectName, PROJECT_NAME_RULE } from '../config/names';
import { regionProblem } from '../config/regions';
import { StateBackendConfig, configureStateBackend, readStackState, validateStateBackend } from './backend';

export type StackKind = 'vpc' | 'rds' | 'ecs';

/** `vpc-dev`, `rds-prod`...: the CDKTF stack ids, the state file names and the `cdktf deploy` arguments. */
export function stackName(kind: StackKind, environment: EnvironmentName): string {
  return `${kind}-${environment}`;
}

/** Outputs of vpc-<env>. The values are the names in the state: a contract with every reader. */
export const VPC_OUTPUTS = {
  vpcId: 'vpc_id',
  vpcCidr: 'vpc_cidr',
  privateSubnetIds: 'private_subnet_ids',
  publicSubnetIds: 'public_subnet_ids',
  availabilityZones: 'availability_zones',
} as const;

type ModuleOutputKey = (typeof MODULE_OUTPUTS)[number]['key'];

/** Outputs of rds-<env>: the module's outputs under their module names, plus `reader_addresses`. */
export const RDS_OUTPUTS = {
  ...(Object.fromEntries(MODULE_OUTPUTS.map((output) => [output.key, output.name])) as Record<ModuleOutputKey, string>),
  /** Replica addresses, or the primary's alone when the environment has no replica. */
  readerAddresses: 'reader_addresses',
} as const;

/** Paris: the backup and maintenance windows are chosen for French working hours. */
export const DEFAULT_REGION = 'eu-west-3';

export interface EnvironmentStackProps {
  /** `dev`, `staging` or `prod`; any other value throws before anything is synthesized. */
  readonly environment: string;
  /**
   * Prefix of every resource name.
   * @default DEFAULT_PROJECT_NAME ('accessweaver')
   */
  readonly projectName?: string;
  /**
   * AWS region of the environment.
   * @default DEFAULT_REGION ('eu-west-3')
   */
  readonly region?: string;
  /**
   * Where this stack keeps its state and reads the state of the stacks it depends on.
   * @default { type: 'local' }: state files in the working directory
   */
  readonly stateBackend?: StateBackendConfig;
  /**
   * Extra tags on every resource, on top of Project, Environment, Stack and ManagedBy.
   * @default {}
   */
  readonly tags?: Readonly<Record<string, string>>;
}

export abstract class EnvironmentStack extends TerraformStack {
  readonly config: EnvironmentConfig;
  readonly projectName: string;
  readonly region: string;
  readonly stateBackend: StateBackendConfig;
  /** Tags applied to every resource through the provider's default_tags. */
  readonly tags: Readonly<Record<string, string>>;

  protected constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    this.config = environmentConfig(props.environment);
    this.projectName = props.projectName ?? DEFAULT_PROJECT_NAME;
    if (!isValidProjectName(this.projectName)) {
      throw new Error(`${id}: project name '${this.projectName}' must be ${PROJECT_NAME_RULE.description}.`);
    }
    this.region = props.region ?? DEFAULT_REGION;
    const regionIssue = regionProblem(this.region);
    if (regionIssue !== undefined) throw new Error(`${id}: region ${regionIssue}`);
    this.stateBackend = props.stateBackend ?? { type: 'local' };
    validateStateBackend(this.stateBackend);

    this.tags = {
      Project: this.projectName,
      Environment: this.config.name,
      Stack: id,
      ManagedBy: 'cdktf',
      ...props.tags,
    };
    new AwsProvider(this, 'aws', { region: this.region, defaultTags: [{ tags: { ...this.tags } }] });
    configureStateBackend(this, this.stateBackend);
  }

  /** `<project>-<env>`: the prefix of every name in this environment. */
  get namePrefix(): string {
    return `${this.projectName}-${this.config.name}`;
  }

  /** Reads the outputs of this environment's `kind` stack from its state. */
  protected readState(kind: StackKind): TerraformRemoteState {
    return readStackState(this, kind, stackName(kind, this.config.name), this.stateBackend);
  }
}
