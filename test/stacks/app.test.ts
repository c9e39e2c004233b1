import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EnvironmentStacks, addEnvironmentStacks } from '../../src/stacks';
import { EnvironmentName } from '../../src/config/environments';
import { LOCAL_STATE, PROJECT_ROOT, relativeModules, testApp } from './support';

function environmentStacks(): Readonly<Record<EnvironmentName, EnvironmentStacks>> {
  return addEnvironmentStacks(testApp(), { stateBackend: LOCAL_STATE, environments: {} });
}

describe('the environment stacks of the app', () => {
  test('are vpc-, rds- and ecs- stacks for dev, staging and prod', () => {
    const stacks = environmentStacks();
    const names = Object.values(stacks).flatMap(({ vpc, rds, ecs }) => [vpc, rds, ecs].map((stack) => stack.node.id));
    expect(names.sort()).toEqual([
      'ecs-dev',
      'ecs-prod',
      'ecs-staging',
      'rds-dev',
      'rds-prod',
      'rds-staging',
      'vpc-dev',
      'vpc-prod',
      'vpc-staging',
    ]);
  });

  test('depend vpc -> rds -> ecs within each environment and never across environments', () => {
    const stacks = environmentStacks();
    const graph = Object.fromEntries(
      Object.values(stacks).flatMap(({ vpc, rds, ecs }) =>
        [vpc, rds, ecs].map((stack) => [stack.node.id, stack.dependencies.map((d) => d.node.id).sort()]),
      ),
    );
    expect(graph).toEqual({
      'vpc-dev': [],
      'rds-dev': ['vpc-dev'],
      'ecs-dev': ['rds-dev', 'vpc-dev'],
      'vpc-staging': [],
      'rds-staging': ['vpc-staging'],
      'ecs-staging': ['rds-staging', 'vpc-staging'],
      'vpc-prod': [],
      'rds-prod': ['vpc-prod'],
      'ecs-prod': ['rds-prod', 'vpc-prod'],
    });
  });

  test('apply the per-environment settings to the right stack only', () => {
    const stacks = addEnvironmentStacks(testApp(), {
      stateBackend: LOCAL_STATE,
      environments: { staging: { services: { pdpService: { desiredCount: 4 } } } },
    });
    expect([
      stacks.dev.ecs.services.pdpService.desiredCount,
      stacks.staging.ecs.services.pdpService.desiredCount,
    ]).toEqual([1, 4]);
  });

  test('tag the stacks with the project-wide and the environment tags', () => {
    const stacks = addEnvironmentStacks(testApp(), {
      stateBackend: LOCAL_STATE,
      tags: { CostCenter: 'platform', Owner: 'data' },
      environments: { prod: { tags: { Owner: 'sre' } } },
    });
    expect(stacks.prod.ecs.tags).toMatchObject({ CostCenter: 'platform', Owner: 'sre', Environment: 'prod' });
  });

  test('stop at the first bad setting', () => {
    expect(() =>
      addEnvironmentStacks(testApp(), {
        stateBackend: LOCAL_STATE,
        environments: { prod: { network: { vpcCidr: '10.30.0.0/24' } } },
      }),
    ).toThrow("vpc-prod: VPC CIDR '10.30.0.0/24' is too small");
  });
});

describe('main.ts', () => {
  const tsx = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
  let workdir: string;

  beforeEach(() => {
    workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'accessweaver-main-'));
  });
  afterEach(() => {
    fs.rmSync(workdir, { recursive: true, force: true });
  });

  /** Runs main.ts as `cdktf synth` does: context from cdktf.json in CDKTF_CONTEXT_JSON, output in CDKTF_OUTDIR. */
  function runMain(context: Record<string, unknown>) {
    const outdir = path.join(workdir, 'cdktf.out');
    const result = spawnSync(tsx, ['main.ts'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDKTF_OUTDIR: outdir,
        CDKTF_CONTEXT_JSON: JSON.stringify({ cdktfRelativeModules: relativeModules(), ...context }),
        ACCESSWEAVER_STATE_BACKEND: 'local',
        ACCESSWEAVER_STATE_DIR: workdir,
      },
    });
    return { ...result, outdir };
  }

  test('writes the nine environment stacks and the module emission', () => {
    const { status, stderr, outdir } = runMain({});
    expect({ status, stderr: status === 0 ? '' : stderr }).toEqual({ status: 0, stderr: '' });
    expect(fs.readdirSync(path.join(outdir, 'stacks')).sort()).toEqual([
      'ecs-dev',
      'ecs-prod',
      'ecs-staging',
      'rds-dev',
      'rds-module',
      'rds-prod',
      'rds-staging',
      'vpc-dev',
      'vpc-prod',
      'vpc-staging',
    ]);
  });

  test('gives every stack the "//" metadata cdktf-cli reads after a synth', () => {
    const { outdir } = runMain({});
    const stacks = fs.readdirSync(path.join(outdir, 'stacks')).sort();
    const withoutMetadata = stacks.filter((stack) => {
      const document = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as {
        '//'?: { metadata?: unknown };
      };
      return document['//']?.metadata === undefined;
    });
    expect(withoutMetadata).toEqual([]);
  });

  test('records the stack dependencies in the manifest cdktf deploy orders by', () => {
    const { outdir } = runMain({});
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as {
      stacks: Record<string, { dependencies: string[] }>;
    };
    expect(manifest.stacks['ecs-dev']?.dependencies.sort()).toEqual(['rds-dev', 'vpc-dev']);
  });

  test('an unknown environment fails with a clear error and writes nothing', () => {
    const { status, stderr, outdir } = runMain({ accessweaver: { environments: { qa: {} } } });
    expect({ status, stderr: stderr.trim(), written: fs.existsSync(outdir) }).toEqual({
      status: 1,
      stderr:
        "error: cdktf.json context.accessweaver.environments: Environment must be dev, staging, or prod. Got 'qa'.",
      written: false,
    });
  });

  test('a missing image fails with a clear error and writes nothing', () => {
    const { status, stderr, outdir } = runMain({
      accessweaver: { environments: { staging: { services: { apiGateway: { image: '' } } } } },
    });
    expect({ status, stderr: stderr.trim(), written: fs.existsSync(outdir) }).toEqual({
      status: 1,
      stderr:
        'error: ecs-staging: apiGateway.image is empty; give a container image reference or leave it out for ' +
        'the default.',
      written: false,
    });
  });

  test('zero desired tasks in prod fails with a clear error and writes nothing', () => {
    const { status, stderr, outdir } = runMain({
      accessweaver: { environments: { prod: { services: { authService: { desiredCount: 0 } } } } },
    });
    expect({ status, stderr: stderr.trim(), written: fs.existsSync(outdir) }).toEqual({
      status: 1,
      stderr: 'error: ecs-prod: authService.desiredCount is 0; prod services need at least one running task.',
      written: false,
    });
  });

  test('a CIDR that does not fit the subnets fails with a clear error and writes nothing', () => {
    const { status, stderr, outdir } = runMain({
      accessweaver: { environments: { dev: { network: { vpcCidr: '10.10.0.0/22' } } } },
    });
    expect({ status, stderr: stderr.trim(), written: fs.existsSync(outdir) }).toEqual({
      status: 1,
      stderr: "error: vpc-dev: VPC CIDR '10.10.0.0/22' is too small for 3 private /20 and 3 public /24 subnets.",
      written: false,
    });
  });

  test('npm run cdktf -- synth writes the stacks and prints no error line (no telemetry call)', () => {
    const outdir = path.join(workdir, 'cli.out');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ACCESSWEAVER_STATE_BACKEND: 'local',
      ACCESSWEAVER_STATE_DIR: workdir,
    };
    delete env.CHECKPOINT_DISABLE; // the script must set it: offline, the telemetry call logs an [ERROR] line
    // A CLI configuration file that does not exist makes terraform complain on every call (CI unsets it too).
    if (env.TF_CLI_CONFIG_FILE && !fs.existsSync(env.TF_CLI_CONFIG_FILE)) delete env.TF_CLI_CONFIG_FILE;
    const result = spawnSync('npm', ['run', '--silent', 'cdktf', '--', 'synth', '--output', outdir], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env,
    });
    const errors = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => /error/i.test(line));
    expect({ status: result.status, errors, stacks: fs.readdirSync(path.join(outdir, 'stacks')).length }).toEqual({
      status: 0,
      errors: [],
      stacks: 10,
    });
  }, 120_000);
});
