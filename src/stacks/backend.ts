/**
 * Where each environment stack keeps its Terraform state, and how a downstream stack reads it.
 *
 * Stacks are wired through `terraform_remote_state` reads of each other's outputs rather than
 * CDKTF cross-stack references: the output names stay a stable contract that HCL consumers can
 * read too, and the state location is computed by the same function for the writer and the reader.
 */
import * as path from 'path';
import {
  DataTerraformRemoteStateLocal,
  DataTerraformRemoteStateS3,
  LocalBackend,
  S3Backend,
  TerraformRemoteState,
  TerraformStack,
} from 'cdktf';
import { Construct } from 'constructs';
import { regionProblem } from '../config/regions';

/** State files on the local disk: no AWS account needed to synth, init or validate. */
export interface LocalStateBackend {
  readonly type: 'local';
  /**
   * Directory holding one `terraform.<stack>.tfstate` file per stack.
   * @default the working directory of the synth (the project root for `cdktf` commands)
   */
  readonly directory?: string;
}

/** State in S3, locked with an S3 lock file (`use_lockfile`, Terraform >= 1.10; no DynamoDB table). */
export interface S3StateBackend {
  readonly type: 's3';
  /** Existing, versioned bucket holding the state objects. */
  readonly bucket: string;
  /** Region of the bucket. */
  readonly region: string;
  /**
   * Key prefix; each stack's state is `<keyPrefix>/<stack>.tfstate`.
   * @default 'accessweaver'
   */
  readonly keyPrefix?: string;
}

export type StateBackendConfig = LocalStateBackend | S3StateBackend;

export const DEFAULT_STATE_KEY_PREFIX = 'accessweaver';

/** The local state file of a stack; the same name CDKTF uses when no backend is configured. */
export function localStatePath(config: LocalStateBackend, stackName: string): string {
  return path.resolve(config.directory ?? process.cwd(), `terraform.${stackName}.tfstate`);
}

/** The S3 object key of a stack's state. */
export function s3StateKey(config: S3StateBackend, stackName: string): string {
  return `${config.keyPrefix ?? DEFAULT_STATE_KEY_PREFIX}/${stackName}.tfstate`;
}

// S3 bucket naming rules (the subset that catches typos): 3-63 characters, lowercase, digits, dots, hyphens.
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY_PREFIX_PATTERN = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;

/** Throws on a backend configuration that `terraform init` would reject or misplace. */
export function validateStateBackend(config: StateBackendConfig): void {
  if (config.type === 'local') return;
  if (!BUCKET_PATTERN.test(config.bucket)) {
    throw new Error(`S3 state bucket '${config.bucket}' is not a valid bucket name.`);
  }
  const regionIssue = regionProblem(config.region);
  if (regionIssue !== undefined) throw new Error(`S3 state region ${regionIssue}`);
  if (config.keyPrefix !== undefined && !KEY_PREFIX_PATTERN.test(config.keyPrefix)) {
    throw new Error(
      `S3 state key prefix '${config.keyPrefix}' must be non-empty path segments without leading or trailing '/'.`,
    );
  }
}

/** Declares the backend of `stack` (whose node id is the stack name). */
export function configureStateBackend(stack: TerraformStack, config: StateBackendConfig): void {
  const stackName = stack.node.id;
  if (config.type === 'local') {
    new LocalBackend(stack, { path: localStatePath(config, stackName) });
    return;
  }
  const backend = new S3Backend(stack, {
    bucket: config.bucket,
    key: s3StateKey(config, stackName),
    region: config.region,
    encrypt: true,
  });
  // cdktf 0.21's S3BackendConfig predates `use_lockfile`; the override writes the attribute as is.
  backend.addOverride('use_lockfile', true);
}

/** A `terraform_remote_state` data source reading the outputs of the stack named `stackName`. */
export function readStackState(
  scope: Construct,
  id: string,
  stackName: string,
  config: StateBackendConfig,
): TerraformRemoteState {
  if (config.type === 'local') {
    return new DataTerraformRemoteStateLocal(scope, id, { path: localStatePath(config, stackName) });
  }
  return new DataTerraformRemoteStateS3(scope, id, {
    bucket: config.bucket,
    key: s3StateKey(config, stackName),
    region: config.region,
  });
}
