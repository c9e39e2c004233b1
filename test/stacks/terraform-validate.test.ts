/**
 * `terraform init -backend=false` + `terraform validate` of every synthesized environment stack,
 * offline, with providers from a filesystem mirror (ACCESSWEAVER_TF_MIRROR, default /opt/tf-plugins).
 *
 * The rds stacks' module needs hashicorp/random, which the mirror does not hold: `terraform get` proves the module
 * source resolves offline, and each rds stack is validated with the module's random resources stood in.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENVIRONMENTS } from '../../src/config/environments';
import { addEnvironmentStacks } from '../../src/stacks';
import { stackName } from '../../src/stacks/environment-stack';
import { describeWithTerraform, offlineModuleCopy, terraform } from '../support/terraform';
import { testApp } from './support';

let workdir: string;
let stacksDir: string;

beforeAll(() => {
  workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'accessweaver-validate-'));
  const app = testApp(path.join(workdir, 'cdktf.out'));
  // Staging on the Aurora engine: every check below holds for both modules.
  addEnvironmentStacks(app, {
    stateBackend: { type: 'local', directory: workdir },
    environments: { staging: { databaseEngine: 'aurora' } },
  });
  app.synth();
  stacksDir = path.join(workdir, 'cdktf.out', 'stacks');
});

afterAll(() => {
  fs.rmSync(workdir, { recursive: true, force: true });
});

/** terraform in a stack's directory (or any directory given as a path). */
const inStack = (stack: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  terraform(path.isAbsolute(stack) ? stack : path.join(stacksDir, stack), args, extraEnv);

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

const VALIDATE_TIMEOUT_MS = 120_000;

describeWithTerraform('terraform validate', () => {
  for (const environment of ENVIRONMENTS) {
    for (const kind of ['vpc', 'ecs'] as const) {
      const name = stackName(kind, environment);
      test(
        `${name} is valid Terraform`,
        async () => {
          const init = await inStack(name, ['init', '-backend=false', '-input=false']);
          expect({ status: init.status, stderr: init.stderr }).toEqual({ status: 0, stderr: '' });
          const validate = await inStack(name, ['validate', '-json']);
          const result = JSON.parse(validate.stdout) as {
            valid: boolean;
            diagnostics: { summary: string; detail: string }[];
          };
          expect(result).toEqual(expect.objectContaining({ valid: true, diagnostics: [] }));
        },
        VALIDATE_TIMEOUT_MS,
      );
    }
  }

  for (const environment of ENVIRONMENTS) {
    const name = stackName('rds', environment);

    test(
      `${name}: terraform resolves the module source without a network`,
      async () => {
        const get = await inStack(name, ['get']);
        expect({ status: get.status, stderr: get.stderr }).toEqual({ status: 0, stderr: '' });
        const index = readJson<{ Modules: { Key: string; Dir: string }[] }>(
          path.join(stacksDir, name, '.terraform', 'modules', 'modules.json'),
        );
        expect(index.Modules.find((m) => m.Key === 'rds')?.Dir).toMatch(/^assets\/__cdktf_module_asset_/);
      },
      VALIDATE_TIMEOUT_MS,
    );

    // Every line of the module is validated as emitted, except its random resources (stood in by terraform_data,
    // see test/support/terraform.ts).
    test(
      `${name} is valid Terraform with the whole module, random resources stood in`,
      async () => {
        const copy = path.join(workdir, 'offline', name);
        fs.cpSync(path.join(stacksDir, name), copy, { recursive: true });
        const source = moduleOf(name).block.source as string;
        offlineModuleCopy(path.join(stacksDir, name, source), path.join(copy, source));
        const init = await inStack(copy, ['init', '-backend=false', '-input=false']);
        expect({ status: init.status, stderr: init.stderr }).toEqual({ status: 0, stderr: '' });
        const validate = await inStack(copy, ['validate', '-json']);
        expect(JSON.parse(validate.stdout)).toEqual(expect.objectContaining({ valid: true, diagnostics: [] }));
      },
      VALIDATE_TIMEOUT_MS,
    );
  }
});

interface ModuleFiles {
  variables: Record<string, { default?: unknown }>;
  outputs: string[];
}

function moduleOf(stack: string): { block: Record<string, unknown>; files: ModuleFiles } {
  const synthesized = readJson<{ module: { rds: Record<string, unknown> } }>(
    path.join(stacksDir, stack, 'cdk.tf.json'),
  );
  const block = synthesized.module.rds;
  const dir = path.join(stacksDir, stack, block.source as string);
  return {
    block,
    files: {
      variables: readJson<{ variable: ModuleFiles['variables'] }>(path.join(dir, 'variables.tf.json')).variable,
      outputs: Object.keys(readJson<{ output: Record<string, unknown> }>(path.join(dir, 'outputs.tf.json')).output),
    },
  };
}

describe('the rds stacks and the module they call', () => {
  for (const environment of ENVIRONMENTS) {
    const name = stackName('rds', environment);

    test(`${name}: every module argument is a variable of the module`, () => {
      const { block, files } = moduleOf(name);
      const meta = ['//', 'source', 'version', 'providers', 'depends_on', 'count', 'for_each'];
      const unknown = Object.keys(block).filter((key) => !meta.includes(key) && !(key in files.variables));
      expect(unknown).toEqual([]);
    });

    test(`${name}: every required variable of the module is set`, () => {
      const { block, files } = moduleOf(name);
      const required = Object.entries(files.variables)
        .filter(([, variable]) => !('default' in variable))
        .map(([variable]) => variable);
      expect(required.filter((variable) => block[variable] === undefined)).toEqual([]);
    });

    test(`${name}: every module output it reads exists`, () => {
      const { files } = moduleOf(name);
      const synthesized = fs.readFileSync(path.join(stacksDir, name, 'cdk.tf.json'), 'utf8');
      const read = [...new Set([...synthesized.matchAll(/module\.rds\.([a-z0-9_]+)/g)].map((match) => match[1]!))];
      expect(read.filter((output) => !files.outputs.includes(output))).toEqual([]);
    });
  }
});

describeWithTerraform('the S3 state backend', () => {
  test(
    'terraform init accepts it, lock file included, and goes on to check the credentials',
    async () => {
      const app = testApp(path.join(workdir, 's3.out'));
      addEnvironmentStacks(app, {
        stateBackend: { type: 's3', bucket: 'accessweaver-terraform-state', region: 'eu-west-3' },
        environments: {},
      });
      app.synth();
      // Fake credentials, an STS endpoint that refuses at once and a single attempt: init fails
      // right after the backend configuration is accepted, without touching AWS.
      const init = await inStack(
        path.join(workdir, 's3.out', 'stacks', 'vpc-dev'),
        ['init', '-input=false', '-backend-config=max_retries=1'],
        {
          HOME: workdir,
          AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9',
        },
      );
      expect(init.stderr).toMatch(/validating provider credentials[\s\S]*127\.0\.0\.1:9/);
    },
    VALIDATE_TIMEOUT_MS,
  );
});
