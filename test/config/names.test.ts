/**
 * One project-name rule: the operations CLI, the environment stacks and the module (its TypeScript check at synth
 * and its HCL validation at plan, evaluated by Terraform itself) accept and refuse the same names.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Testing } from 'cdktf';
import { resolveTarget } from '../../src/cli/target';
import { naming } from '../../src/config/names';
import { AccessWeaverDatabase } from '../../src/rds/database';
import { VpcStack } from '../../src/stacks/vpc-stack';
import { describeWithTerraform, terraformEnv } from '../support/terraform';

const REFUSED = ['a', 'accessweaver-', '-accessweaver', '1weaver', 'Access', 'access_weaver', 'a'.repeat(31), ''];
const ACCEPTED = ['ab', 'accessweaver', 'acme-2', 'a'.repeat(30)];

const cli = (name: string) => () => resolveTarget({ env: 'dev', project: name });
const stack = (name: string) => () => new VpcStack(Testing.app(), 'vpc-dev', { environment: 'dev', projectName: name });
const moduleSynth = (name: string) => () =>
  Testing.synthScope((scope) => {
    new AccessWeaverDatabase(scope, 'database', {
      projectName: name,
      environment: 'dev',
      vpcId: 'vpc-0123456789abcdef0',
      privateSubnetIds: ['subnet-0aaa', 'subnet-0bbb'],
    });
  });

describe.each(REFUSED)('the project name %p', (name) => {
  test('is refused by the CLI, the stacks and the module at synth', () => {
    expect(cli(name)).toThrow(`--project '${name}' is not a valid name`);
    expect(stack(name)).toThrow(`vpc-dev: project name '${name}' must be 2 to 30`);
    expect(moduleSynth(name)).toThrow(`project_name '${name}' must be 2 to 30`);
  });
});

describe.each(ACCEPTED)('the project name %p', (name) => {
  test('is accepted by the CLI, the stacks and the module at synth', () => {
    expect(cli(name)().primaryIdentifier).toBe(`${name}-dev-primary`);
    expect(stack(name)).not.toThrow();
    expect(moduleSynth(name)).not.toThrow();
  });
});

test('the CLI looks up the names the module gives its resources', () => {
  expect(naming.replicaIdentifier('acme', 'prod', 0)).toBe('acme-prod-replica-1');
  expect(naming.subnetGroupName('acme', 'prod')).toBe('acme-prod-db-subnet-group');
});

describeWithTerraform('the module at plan', () => {
  test('its project_name validation, evaluated by terraform, refuses exactly the names the others refuse', () => {
    const variables = JSON.parse(readFileSync(path.resolve(__dirname, '../../modules/rds/variables.tf.json'), 'utf8'));
    const condition: string = variables.variable.project_name.validation[0].condition.replace(/^\$\{|\}$/g, '');
    const names = [...REFUSED, ...ACCEPTED];
    const expression = `[${names.map((n) => condition.replace('var.project_name', JSON.stringify(n))).join(', ')}]`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'project-name-'));
    try {
      const output = execFileSync('terraform', ['console'], {
        cwd: dir,
        input: `jsonencode(${expression})\n`,
        env: terraformEnv(),
        encoding: 'utf8',
      });
      const results: boolean[] = JSON.parse(JSON.parse(output.trim()));
      expect(Object.fromEntries(names.map((n, i) => [n, results[i]]))).toEqual(
        Object.fromEntries([...REFUSED.map((n) => [n, false]), ...ACCEPTED.map((n) => [n, true])]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
