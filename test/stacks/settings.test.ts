import { loadDeploymentSettings } from '../../src/stacks/settings';

describe('deployment settings', () => {
  test('without context or variables the state is local', () => {
    expect(loadDeploymentSettings(undefined, {}).stateBackend).toEqual({ type: 'local' });
  });

  test('ACCESSWEAVER_STATE_BACKEND=s3 selects S3 with the bucket and region variables', () => {
    const settings = loadDeploymentSettings(undefined, {
      ACCESSWEAVER_STATE_BACKEND: 's3',
      ACCESSWEAVER_STATE_BUCKET: 'acme-terraform-state',
      ACCESSWEAVER_STATE_REGION: 'eu-central-1',
      ACCESSWEAVER_STATE_KEY_PREFIX: 'platform',
    });
    expect(settings.stateBackend).toEqual({
      type: 's3',
      bucket: 'acme-terraform-state',
      region: 'eu-central-1',
      keyPrefix: 'platform',
    });
  });

  test('the S3 state region defaults to the deployment region', () => {
    const settings = loadDeploymentSettings(
      { region: 'eu-west-1' },
      { ACCESSWEAVER_STATE_BACKEND: 's3', ACCESSWEAVER_STATE_BUCKET: 'acme-terraform-state' },
    );
    expect(settings.stateBackend).toMatchObject({ region: 'eu-west-1' });
  });

  test('the variables override the state backend of the context', () => {
    const settings = loadDeploymentSettings(
      { stateBackend: { type: 's3', bucket: 'acme-terraform-state', region: 'eu-west-3' } },
      { ACCESSWEAVER_STATE_BACKEND: 'local', ACCESSWEAVER_STATE_DIR: '/tmp/state' },
    );
    expect(settings.stateBackend).toEqual({ type: 'local', directory: '/tmp/state' });
  });

  test('the context selects an S3 backend', () => {
    const settings = loadDeploymentSettings(
      { stateBackend: { type: 's3', bucket: 'acme-terraform-state', region: 'eu-west-3' } },
      {},
    );
    expect(settings.stateBackend).toEqual({
      type: 's3',
      bucket: 'acme-terraform-state',
      region: 'eu-west-3',
      keyPrefix: undefined,
    });
  });

  test('S3 without a bucket is an error', () => {
    expect(() => loadDeploymentSettings(undefined, { ACCESSWEAVER_STATE_BACKEND: 's3' })).toThrow(
      'ACCESSWEAVER_STATE_BACKEND=s3 needs ACCESSWEAVER_STATE_BUCKET.',
    );
  });

  test('a state variable without ACCESSWEAVER_STATE_BACKEND is an error', () => {
    expect(() => loadDeploymentSettings(undefined, { ACCESSWEAVER_STATE_BUCKET: 'acme-terraform-state' })).toThrow(
      'ACCESSWEAVER_STATE_BUCKET set without ACCESSWEAVER_STATE_BACKEND (local or s3).',
    );
  });

  test('an unknown backend type is an error', () => {
    expect(() => loadDeploymentSettings(undefined, { ACCESSWEAVER_STATE_BACKEND: 'gcs' })).toThrow(
      "ACCESSWEAVER_STATE_BACKEND must be 'local' or 's3', got 'gcs'.",
    );
  });

  test('reads per-environment network, database and service settings', () => {
    const settings = loadDeploymentSettings(
      {
        environments: {
          prod: {
            network: { vpcCidr: '10.40.0.0/16' },
            database: { enableNetworkAcl: true },
            services: { pdpService: { image: 'registry.example.com/pdp:1.4.2', desiredCount: 4 } },
          },
        },
      },
      {},
    );
    expect(settings.environments.prod).toEqual({
      network: expect.objectContaining({ vpcCidr: '10.40.0.0/16' }),
      database: expect.objectContaining({ enableNetworkAcl: true }),
      services: { pdpService: expect.objectContaining({ image: 'registry.example.com/pdp:1.4.2', desiredCount: 4 }) },
      tags: undefined,
    });
  });

  test('refuses a region in the list of no AWS partition', () => {
    expect(() => loadDeploymentSettings({ region: 'eu-west-9' }, {})).toThrow(
      "cdktf.json context.accessweaver.region 'eu-west-9' is not a region of any AWS partition",
    );
  });

  test('an unknown environment in the context is an error', () => {
    expect(() => loadDeploymentSettings({ environments: { qa: {} } }, {})).toThrow(
      "cdktf.json context.accessweaver.environments: Environment must be dev, staging, or prod. Got 'qa'.",
    );
  });

  test('a misspelt key is an error that names it', () => {
    expect(() =>
      loadDeploymentSettings({ environments: { dev: { services: { apiGateway: { desiredcount: 2 } } } } }, {}),
    ).toThrow("cdktf.json context.accessweaver.environments.dev.services.apiGateway has unknown key(s) 'desiredcount'");
  });

  test('an unknown service is an error', () => {
    expect(() => loadDeploymentSettings({ environments: { dev: { services: { billing: {} } } } }, {})).toThrow(
      "cdktf.json context.accessweaver.environments.dev.services has unknown key(s) 'billing'",
    );
  });

  test('a value of the wrong type is an error', () => {
    expect(() =>
      loadDeploymentSettings({ environments: { prod: { services: { apiGateway: { desiredCount: '3' } } } } }, {}),
    ).toThrow(
      'cdktf.json context.accessweaver.environments.prod.services.apiGateway.desiredCount must be a number, got "3".',
    );
  });

  test('every database setting is read from cdktf.json under its declared key', () => {
    const database = {
      backupWindow: '01:00-02:00',
      maintenanceWindow: 'Sat:02:00-Sat:03:00',
      allowedSecurityGroupIds: ['sg-0123456789abcdef0'],
      enableNetworkAcl: true,
      alarmSnsTopicArn: 'arn:aws:sns:eu-west-3:123456789012:alerts',
      instanceOverrides: { instanceClass: 'db.r6g.xlarge', multiAz: true },
      applyImmediately: false,
      parameters: [{ name: 'work_mem', value: '16384', applyMethod: 'immediate' }],
    };
    expect(loadDeploymentSettings({ environments: { dev: { database } } }, {}).environments.dev?.database).toEqual(
      database,
    );
  });

  test('a database setting of the wrong type is an error naming it', () => {
    expect(() =>
      loadDeploymentSettings({ environments: { dev: { database: { allowedSecurityGroupIds: 'sg-1' } } } }, {}),
    ).toThrow(
      'cdktf.json context.accessweaver.environments.dev.database.allowedSecurityGroupIds must be a list of strings.',
    );
    expect(() =>
      loadDeploymentSettings({ environments: { dev: { database: { backupWindw: '01:00-02:00' } } } }, {}),
    ).toThrow("database has unknown key(s) 'backupWindw'");
    expect(() =>
      loadDeploymentSettings({ environments: { dev: { database: { instanceOverrides: { replicaCount: '2' } } } } }, {}),
    ).toThrow('database.instanceOverrides.replicaCount must be a number, got "2".');
    expect(() =>
      loadDeploymentSettings({ environments: { dev: { database: { instanceOverrides: { instanceType: 'x' } } } } }, {}),
    ).toThrow("database.instanceOverrides has unknown key(s) 'instanceType'");
  });
});

describe('disaster-recovery region setting', () => {
  test('read from context and given to the rds stacks', async () => {
    const settings = loadDeploymentSettings({ disasterRecoveryRegion: 'eu-central-1' }, {});
    expect(settings.disasterRecoveryRegion).toBe('eu-central-1');
    const { addEnvironmentStacks } = await import('../../src/stacks');
    const { testApp } = await import('./support');
    const stacks = addEnvironmentStacks(testApp(), settings);
    expect(stacks.prod.rds.disasterRecovery?.provider.region).toBe('eu-central-1');
  });

  test('a non-string value is refused naming the key', () => {
    expect(() => loadDeploymentSettings({ disasterRecoveryRegion: 1 }, {})).toThrow(
      'cdktf.json context.accessweaver.disasterRecoveryRegion must be a string',
    );
  });
});
