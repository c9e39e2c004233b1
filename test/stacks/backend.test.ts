import { Testing, TerraformStack } from 'cdktf';
import {
  configureStateBackend,
  localStatePath,
  readStackState,
  s3StateKey,
  validateStateBackend,
} from '../../src/stacks/backend';
import './support';

function synthBackend(configure: (stack: TerraformStack) => void): Record<string, unknown> {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'rds-dev');
  configure(stack);
  return JSON.parse(Testing.synth(stack)) as Record<string, unknown>;
}

const S3 = { type: 's3', bucket: 'acme-terraform-state', region: 'eu-west-3' } as const;

describe('state backend', () => {
  test('local state lives in terraform.<stack>.tfstate under the configured directory', () => {
    expect(localStatePath({ type: 'local', directory: '/srv/state' }, 'vpc-prod')).toBe(
      '/srv/state/terraform.vpc-prod.tfstate',
    );
  });

  test('local state defaults to the working directory, as cdktf does without a backend', () => {
    expect(localStatePath({ type: 'local' }, 'vpc-prod')).toBe(`${process.cwd()}/terraform.vpc-prod.tfstate`);
  });

  test('a local backend writes the stack state to its path', () => {
    const synth = synthBackend((stack) => configureStateBackend(stack, { type: 'local', directory: '/srv/state' }));
    expect(synth.terraform).toMatchObject({ backend: { local: { path: '/srv/state/terraform.rds-dev.tfstate' } } });
  });

  test('an S3 backend is encrypted, keyed by stack and locked with a lock file', () => {
    const synth = synthBackend((stack) => configureStateBackend(stack, S3));
    expect(synth.terraform).toMatchObject({
      backend: {
        s3: {
          bucket: 'acme-terraform-state',
          key: 'accessweaver/rds-dev.tfstate',
          region: 'eu-west-3',
          encrypt: true,
          use_lockfile: true,
        },
      },
    });
  });

  test('an S3 backend needs no DynamoDB lock table', () => {
    const synth = synthBackend((stack) => configureStateBackend(stack, S3));
    expect(JSON.stringify(synth.terraform)).not.toContain('dynamodb');
  });

  test('the S3 key prefix is configurable', () => {
    expect(s3StateKey({ ...S3, keyPrefix: 'platform/accessweaver' }, 'ecs-prod')).toBe(
      'platform/accessweaver/ecs-prod.tfstate',
    );
  });

  test('a reader of S3 state looks where the writer wrote', () => {
    const synth = synthBackend((stack) => readStackState(stack, 'vpc', 'vpc-dev', S3));
    expect(synth.data).toEqual({
      terraform_remote_state: {
        vpc: {
          backend: 's3',
          config: { bucket: 'acme-terraform-state', key: 'accessweaver/vpc-dev.tfstate', region: 'eu-west-3' },
        },
      },
    });
  });

  test('a reader of local state looks where the writer wrote', () => {
    const synth = synthBackend((stack) =>
      readStackState(stack, 'vpc', 'vpc-dev', { type: 'local', directory: '/srv/state' }),
    );
    expect(synth.data).toMatchObject({
      terraform_remote_state: { vpc: { backend: 'local', config: { path: '/srv/state/terraform.vpc-dev.tfstate' } } },
    });
  });

  test('rejects an invalid bucket name', () => {
    expect(() => validateStateBackend({ ...S3, bucket: 'Acme_State' })).toThrow(
      "S3 state bucket 'Acme_State' is not a valid bucket name.",
    );
  });

  test('rejects a key prefix with a trailing slash', () => {
    expect(() => validateStateBackend({ ...S3, keyPrefix: 'accessweaver/' })).toThrow(
      "S3 state key prefix 'accessweaver/' must be non-empty path segments",
    );
  });
});
