import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENVIRONMENTS } from '../../src/config/environments';
import { describeWithTerraform } from '../support/terraform';

// `npm run module:plan` on a platform repository laid out as the README's caller assumes: the module vendored under
// modules/rds, the caller's own vpc and ecs modules beside it, one root per environment.
const ROOT = path.resolve(__dirname, '..', '..');

jest.setTimeout(10 * 60 * 1000);

function modulePlan(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/module-plan.ts', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const CALLER = (env: string) => `variable "project_name" {
  type    = string
  default = "acme-authz"
}

provider "aws" {
  region = "eu-west-3"
}

module "vpc" {
  source = "../../modules/vpc"
}

module "ecs" {
  source = "../../modules/ecs"
}

module "rds" {
  source = "../../modules/rds"

  project_name       = var.project_name
  environment        = "${env}"
  vpc_id             = module.vpc.vpc_id
  private_subnet_ids = module.vpc.private_subnet_ids

  allowed_security_groups = [module.ecs.service_security_group_id]
  backup_window           = "02:00-03:00"
  maintenance_window      = "Sun:03:00-Sun:04:00"
  tags                    = { Backup = "critical" }
}
`;

/** A platform repository: the vendored module, stub vpc and ecs modules with literal outputs, environments/<env>. */
function platformRepository(dir: string): void {
  cpSync(path.join(ROOT, 'modules', 'rds'), path.join(dir, 'modules', 'rds'), { recursive: true });
  const outputs = (values: Record<string, string>) =>
    Object.entries(values)
      .map(([name, value]) => `output "${name}" {\n  value = ${value}\n}\n`)
      .join('\n');
  mkdirSync(path.join(dir, 'modules', 'vpc'), { recursive: true });
  writeFileSync(
    path.join(dir, 'modules', 'vpc', 'outputs.tf'),
    outputs({
      vpc_id: '"vpc-0a1b2c3d4e5f60718"',
      private_subnet_ids: '["subnet-0a00000000000000a", "subnet-0b00000000000000b", "subnet-0c00000000000000c"]',
    }),
  );
  mkdirSync(path.join(dir, 'modules', 'ecs'), { recursive: true });
  writeFileSync(
    path.join(dir, 'modules', 'ecs', 'outputs.tf'),
    outputs({ service_security_group_id: '"sg-0a1b2c3d4e5f60718"' }),
  );
  for (const env of ENVIRONMENTS) {
    mkdirSync(path.join(dir, 'environments', env), { recursive: true });
    writeFileSync(path.join(dir, 'environments', env, 'main.tf'), CALLER(env));
  }
}

describeWithTerraform('npm run module:plan', () => {
  let repository: string;

  beforeAll(() => {
    repository = mkdtempSync(path.join(os.tmpdir(), 'aw-platform-'));
    platformRepository(repository);
  });

  afterAll(() => {
    rmSync(repository, { recursive: true, force: true });
  });

  test.each(ENVIRONMENTS)('plans the README caller for %s offline, leaving the caller untouched', async (env) => {
    const caller = path.join(repository, 'environments', env);
    const result = await modulePlan([caller]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^terraform validate: Success! The configuration is valid\.$/m);
    expect(result.stdout).toMatch(/^terraform plan: Plan: \d+ to add, 0 to change, 0 to destroy\.$/m);
    expect(readdirSync(caller)).toEqual(['main.tf']);
  });

  test('a caller breaking a module rule fails with exit 1 and the rule', async () => {
    const caller = path.join(repository, 'environments', 'broken');
    mkdirSync(caller);
    writeFileSync(path.join(caller, 'main.tf'), CALLER('qa'));
    const result = await modulePlan([caller]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Environment must be dev, staging, or prod\./);
  });

  test('a directory without a modules/rds caller is a usage error, exit 2', async () => {
    const result = await modulePlan([path.join(repository, 'modules', 'vpc')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/calls no local copy of modules\/rds/);
  });
});
