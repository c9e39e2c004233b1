import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RdsStack } from '../../src/stacks/rds-stack';
import { loadDeploymentSettings } from '../../src/stacks/settings';
import { LOCAL_STATE, synthJson, testApp } from './support';

/** The emitted module an rds stack packaged: the files of its module block's source. */
function calledModule(environment: string, databaseEngine?: 'instance' | 'aurora'): string {
  const app = testApp(mkdtempSync(path.join(os.tmpdir(), 'engine-')));
  const stack = new RdsStack(app, `rds-${environment}`, { environment, stateBackend: LOCAL_STATE, databaseEngine });
  const block = synthJson(stack).module.rds as { source: string };
  app.synth();
  return readFileSync(path.join(app.outdir, 'stacks', `rds-${environment}`, block.source, 'main.tf.json'), 'utf8');
}

describe('the engine of rds-<env>', () => {
  test('aurora calls modules/rds-aurora', () => {
    expect(calledModule('staging', 'aurora')).toContain('"aws_rds_cluster"');
  });

  test('every environment keeps the DB instance by default', () => {
    for (const environment of ['dev', 'prod']) {
      const main = calledModule(environment);
      expect({ environment, instance: main.includes('"aws_db_instance"') }).toEqual({ environment, instance: true });
    }
  });
});

describe('databaseEngine in cdktf.json', () => {
  const load = (engine: unknown) =>
    loadDeploymentSettings({ environments: { staging: { databaseEngine: engine } } }, {});

  test('is read per environment', () => {
    expect(load('aurora').environments.staging?.databaseEngine).toBe('aurora');
  });

  test('refuses an engine the stacks do not know, naming the key', () => {
    expect(() => load('cluster')).toThrow(
      "cdktf.json context.accessweaver.environments.staging.databaseEngine must be 'instance' or 'aurora', got \"cluster\".",
    );
  });
});
