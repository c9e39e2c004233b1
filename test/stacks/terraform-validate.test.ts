/**
 * `terraform init -backend=false` + `terraform validate` of every synthesized environment stack,
 * offline, with providers from a filesystem mirror (ACCESSWEAVER_TF_MIRROR, default /opt/tf-plugins).
 *
 * A stack whose providers are not all in the mirror cannot be validated (Terraform needs every
 * provider's schema); such a stack is reported skipped with the missing providers named. For the
 * rds stacks, whose module needs hashicorp/random, `terraform get` still proves the module source
 * resolves offline, and the whole stack is validated with the module's random resources stood in.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENVIRONMENTS } from '../../src/config/environments';
import { addEnvironmentStacks } from '../../src/stacks';
import { StackKind, stackName } from '../../src/stacks/environment-stack';
import {
  mirroredProviders,
  offlineModuleCopy,
  PROVIDER_MIRROR,
  terraform,
  terraformUnavailableReason,
} from '../support/terraform';
import { testApp } from './support';

const unavailable = terraformUnavailableReason();
const hasTerraform = unavailable === undefined;
if (!hasTerraform) {
  console.warn(`SKIPPED terraform validate of the stacks: ${unavailable}`);
}

/** Providers the emitted RDS module requires, as `namespace/name`. */
function rdsModuleProviders(): string[] {
  const versions = JSON.parse(
    fs.readFileSync(path.resolve(__dirname, '../../modules/rds/versions.tf.json'), 'utf8'),
  ) as {
    terraform: { required_providers: Record<string, { source: string }> };
  };
  return Object.values(versions.terraform.required_providers).map(({ source }) =>
    source.replace(/^registry\.terraform\.io\//, ''),
  );
}

const mirrored = mirroredProviders();
// Root stacks use hashicorp/aws and the built-in terraform_remote_state; rds stacks add the module's providers.
const missing: Record<StackKind, string[]> = {
  vpc: ['hashicorp/aws'].filter((p) => !mirrored.includes(p)),
  ecs: ['hashicorp/aws'].filter((p) => !mirrored.includes(p)),
  rds: [...new Set(['hashicorp/aws', ...rdsModuleProviders()])].filter((p) => !mirrored.includes(p)),
};
for (const kind of ['vpc', 'rds', 'ecs'] as const) {
  if (hasTerraform && missing[kind].length > 0) {
    console.warn(
      `terraform validate of the ${kind} stacks is skipped: ${missing[kind].join(', ')} not in the offline provider mirror ${PROVIDER_MIRROR}.`,
    );
  }
}

let workdir: string;
let stacksDir: string;

beforeAll(() => {
  workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'accessweaver-validate-'));
  const app = testApp(path.join(workdir, 'cdktf.out'));
  addEnvironmentStacks(app, { stateBackend: { type: 'local', directory: workdir }, environments: {} });
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

describe('terraform validate', () => {
  for (const environment of ENVIRONMENTS) {
    for (const kind of ['vpc', 'rds', 'ecs'] as const) {
      const name = stackName(kind, environment);
      const run = hasTerraform && missing[kind].length === 0 ? test : test.skip;
      run(
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
});

describe('the rds stacks offline', () => {
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

  for (const environment of ENVIRONMENTS) {
    const name = stackName('rds', environment);

    (hasTerraform ? test : test.skip)(
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

    // hashicorp/random is not in the offline mirror, so the stack is validated with the module's random
    // resources stood in by terraform_data (test/support/terraform.ts); every other line of the module is
    // validated as emitted.
    (hasTerraform && missing.vpc.length === 0 ? test : test.skip)(
      `${name}: is valid Terraform with the whole module, random resources stood in`,
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

(hasTerraform ? describe : describe.skip)('the S3 state backend', () => {
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
