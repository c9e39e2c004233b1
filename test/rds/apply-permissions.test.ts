/**
 * What an apply needs: the IAM map covers exactly the types the module declares, and the air-gapped recipe's CLI
 * configuration installs the provider from a mirror.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesizeModuleDocument } from '../../src/rds/emit';
import { AURORA_MODULE_VARIANT } from '../../src/rds/engines/aurora-module';
import { APPLY_ACTIONS, applyActions, declaredTypes, mirrorCliConfig } from '../../src/rds/apply-permissions';
import { describeWithTerraform, offlineModuleCopy, PROVIDER_MIRROR, terraform } from '../support/terraform';

const MODULE_DIR = path.resolve(__dirname, '../../modules/rds');
// Both modules: the map serves modules/rds and modules/rds-aurora.
const types = [
  ...new Set([
    ...declaredTypes(synthesizeModuleDocument()),
    ...declaredTypes(synthesizeModuleDocument(AURORA_MODULE_VARIANT)),
  ]),
].sort();

describe('IAM actions of an apply', () => {
  test('every type the module declares has its actions (a new resource type must be added to APPLY_ACTIONS)', () => {
    expect(types).toEqual(expect.arrayContaining(['aws_db_instance', 'data.aws_subnet', 'random_password']));
    expect(applyActions(types).length).toBeGreaterThan(50);
  });

  test('a type missing from the map stops the README with a message naming it and the file to extend', () => {
    expect(() => applyActions([...types, 'aws_cloudwatch_log_stream'])).toThrow(
      'modules/rds declares aws_cloudwatch_log_stream, which src/rds/apply-permissions.ts APPLY_ACTIONS lacks',
    );
  });

  test('the map holds no type the module does not declare', () => {
    expect(Object.keys(APPLY_ACTIONS).filter((type) => !types.includes(type))).toEqual([]);
  });

  test('actions are service:Action; AWS resources can be created and read; an empty entry says why', () => {
    for (const [type, entry] of Object.entries(APPLY_ACTIONS)) {
      const all = applyActions([type]);
      expect({ type, bad: all.filter((a) => !/^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/.test(a)) }).toEqual({ type, bad: [] });
      if (all.length === 0) expect({ type, note: typeof entry.note }).toEqual({ type, note: 'string' });
      if (type.startsWith('aws_')) {
        expect({ type, create: entry.create.length > 0, read: entry.read.length > 0 }).toEqual({
          type,
          create: true,
          read: true,
        });
      }
    }
  });

  test('the rotation stack needs the Serverless Application Repository and CloudFormation', () => {
    expect(applyActions(['aws_serverlessapplicationrepository_cloudformation_stack'])).toEqual(
      expect.arrayContaining([
        'serverlessrepo:CreateCloudFormationChangeSet',
        'cloudformation:CreateChangeSet',
        'cloudformation:ExecuteChangeSet',
        'lambda:CreateFunction',
        'iam:CreateRole',
      ]),
    );
  });

  test('the module README lists every action in its policy', () => {
    const readme = readFileSync(path.join(MODULE_DIR, 'README.md'), 'utf8');
    const policy = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(readme)![1]);
    expect(policy.Statement[0].Action).toEqual(applyActions(declaredTypes(synthesizeModuleDocument())));
  });
});

describeWithTerraform('the air-gapped recipe', () => {
  jest.setTimeout(5 * 60 * 1000);

  test("its CLI configuration installs the module's aws provider from the mirror alone", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rds-airgap-'));
    try {
      offlineModuleCopy(MODULE_DIR, path.join(dir, 'rds'));
      const cliConfig = path.join(dir, 'terraform.rc');
      writeFileSync(cliConfig, mirrorCliConfig(PROVIDER_MIRROR));
      const result = await terraform(path.join(dir, 'rds', 'examples', 'dev'), ['init', '-backend=false'], {
        TF_CLI_CONFIG_FILE: cliConfig,
        TF_PLUGIN_CACHE_DIR: '',
      });
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
      expect(result.stdout).toMatch(/Installed hashicorp\/aws v5\.\d+\.\d+ \(unauthenticated\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
