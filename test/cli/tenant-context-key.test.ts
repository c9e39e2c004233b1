/**
 * rotate-tenant-context-key: Secrets Manager through aws-sdk-client-mock, the database for real. The new key is
 * stored as AWSPENDING, installed (the previous version keeps verifying for the overlap), then made AWSCURRENT.
 */
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { signTenantContext } from '../../src/db/tenant-context';
import {
  installedKeyVersions,
  installTenantContextKey,
  parseTenantContextKey,
  tenantContextKeySecretString,
  type TenantContextKey,
} from '../../src/db/tenant-context-keys';
import {
  createMigratedDatabase,
  seedTenants,
  TEST_CONTEXT_KEY,
  withConnection,
  type MigratedDatabase,
} from '../db/fixtures';
import { resetAwsMocks, secretsMock, sent, sentNames } from './support/aws';
import { runCli } from './support/harness';

const KEY_SECRET = 'accessweaver-dev-tenant-context-key';
const CURRENT_VERSION_ID = 'secret-version-of-key-1';
let database: MigratedDatabase;
let tenantId: string;

beforeEach(async () => {
  resetAwsMocks();
  secretsMock
    .on(GetSecretValueCommand, { SecretId: KEY_SECRET, VersionStage: 'AWSCURRENT' })
    .resolves({ SecretString: tenantContextKeySecretString(TEST_CONTEXT_KEY), VersionId: CURRENT_VERSION_ID });
  secretsMock
    .on(GetSecretValueCommand, { SecretId: KEY_SECRET, VersionStage: 'AWSPENDING' })
    .rejects(new ResourceNotFoundException({ message: 'no pending version', $metadata: {} }));
  secretsMock.on(PutSecretValueCommand).resolves({});
  secretsMock.on(UpdateSecretVersionStageCommand).resolves({});
  database = await createMigratedDatabase();
  [{ id: tenantId }] = await seedTenants(database.url, 1);
});
afterEach(async () => {
  await database.drop();
});

const rotateArgs = (...extra: string[]) => [
  'rotate-tenant-context-key',
  '--env',
  'dev',
  '--database-url',
  database.url,
  ...extra,
];

const versions = () => withConnection(database.url, installedKeyVersions);

/** What set_tenant_context says of a context signed with `key`, as the app login. */
async function verdict(key: TenantContextKey): Promise<string> {
  const context = signTenantContext({ tenantId, ttlSeconds: 60, keyVersion: key.version, key: key.key });
  return withConnection(database.appUrl, async (client) => {
    try {
      return (await client.query('SELECT accessweaver.set_tenant_context($1) AS t', [context])).rows[0].t;
    } catch (error) {
      return (error as Error).message;
    }
  });
}

function storedKey(): TenantContextKey {
  const put = sent(secretsMock).find(([name]) => name === 'PutSecretValueCommand');
  const input = put?.[1] as { SecretString: string };
  return parseTenantContextKey(input.SecretString, 'PutSecretValue');
}

test('--dry-run prints the plan, writes nothing and never prints a key', async () => {
  const result = await runCli(rotateArgs('--dry-run'));
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('Dry run, nothing changed.');
  expect(result.stdout).toContain('install key version 2 as current; version 1 keeps verifying for 24 h');
  expect(sentNames(secretsMock)).toEqual(['GetSecretValueCommand', 'GetSecretValueCommand']);
  expect(await versions()).toEqual([expect.objectContaining({ version: 1, validUntil: null })]);
  expect(result.stdout + result.stderr).not.toMatch(/[A-Za-z0-9+/]{43}=/);
});

test('refuses without --yes or a typed confirmation, changing nothing', async () => {
  const result = await runCli(rotateArgs());
  expect(result.code).toBe(3);
  expect(sentNames(secretsMock)).not.toContain('PutSecretValueCommand');
  expect(await versions()).toHaveLength(1);
});

test('with --yes: the new key is pending, installed, then current; both keys verify during the overlap', async () => {
  const started = Date.now();
  const result = await runCli(rotateArgs('--yes', '--overlap-hours', '2', '--json'));
  expect(result.code).toBe(0);

  const calls = sent(secretsMock).filter(([name]) => name !== 'GetSecretValueCommand');
  const versionId = (calls[0][1] as { ClientRequestToken: string }).ClientRequestToken;
  expect(calls).toEqual([
    [
      'PutSecretValueCommand',
      {
        SecretId: KEY_SECRET,
        ClientRequestToken: versionId,
        SecretString: expect.any(String),
        VersionStages: ['AWSPENDING'],
      },
    ],
    [
      'UpdateSecretVersionStageCommand',
      {
        SecretId: KEY_SECRET,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: versionId,
        RemoveFromVersionId: CURRENT_VERSION_ID,
      },
    ],
    [
      'UpdateSecretVersionStageCommand',
      { SecretId: KEY_SECRET, VersionStage: 'AWSPENDING', RemoveFromVersionId: versionId },
    ],
  ]);
  const next = storedKey();
  expect(next.version).toBe(2);
  expect(next.key.equals(TEST_CONTEXT_KEY.key)).toBe(false);

  const [previous, current] = await versions();
  expect(current).toMatchObject({ version: 2, validUntil: null });
  const overlapEnd = previous.validUntil?.getTime() ?? 0;
  expect(overlapEnd - started).toBeGreaterThanOrEqual(2 * 3600_000 - 60_000);
  expect(overlapEnd - started).toBeLessThanOrEqual(2 * 3600_000 + 60_000);
  expect(JSON.parse(result.stdout)).toMatchObject({ version: 2, previousVersion: 1 });

  expect(await verdict(next)).toBe(tenantId);
  expect(await verdict(TEST_CONTEXT_KEY)).toBe(tenantId);
  expect(result.stdout + result.stderr).not.toContain(next.key.toString('base64'));
});

test('an operator at a terminal confirms by typing the instance identifier', async () => {
  const result = await runCli(rotateArgs(), { interactive: true, answers: ['accessweaver-dev-primary'] });
  expect(result.code).toBe(0);
  expect(result.questions).toEqual([
    "Type the instance identifier 'accessweaver-dev-primary' to rotate its tenant-context key: ",
  ]);
  expect((await versions()).map((row) => row.version)).toEqual([1, 2]);
});

test('a rotation interrupted after storing the pending key is finished with that key', async () => {
  const pending: TenantContextKey = { version: 2, key: Buffer.alloc(32, 0x42) };
  secretsMock
    .on(GetSecretValueCommand, { SecretId: KEY_SECRET, VersionStage: 'AWSPENDING' })
    .resolves({ SecretString: tenantContextKeySecretString(pending), VersionId: 'pending-version' });
  const result = await runCli(rotateArgs('--yes'));
  expect(result.code).toBe(0);
  expect(sentNames(secretsMock)).not.toContain('PutSecretValueCommand');
  expect(sent(secretsMock)).toContainEqual([
    'UpdateSecretVersionStageCommand',
    {
      SecretId: KEY_SECRET,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: 'pending-version',
      RemoveFromVersionId: CURRENT_VERSION_ID,
    },
  ]);
  expect(await verdict(pending)).toBe(tenantId);
});

test('a rotation interrupted after installing the pending key is finished too', async () => {
  const pending: TenantContextKey = { version: 2, key: Buffer.alloc(32, 0x43) };
  secretsMock
    .on(GetSecretValueCommand, { SecretId: KEY_SECRET, VersionStage: 'AWSPENDING' })
    .resolves({ SecretString: tenantContextKeySecretString(pending), VersionId: 'pending-version' });
  await withConnection(database.url, (client) => installTenantContextKey(client, pending, { overlapSeconds: 3600 }));
  const result = await runCli(rotateArgs('--yes'));
  expect(result.code).toBe(0);
  expect(sentNames(secretsMock).filter((name) => name === 'UpdateSecretVersionStageCommand')).toHaveLength(2);
  expect((await versions()).map((row) => [row.version, row.validUntil === null])).toEqual([
    [1, false],
    [2, true],
  ]);
});

test('exits 1 when the secret and the database disagree on the current key, before writing anything', async () => {
  secretsMock.on(GetSecretValueCommand, { SecretId: KEY_SECRET, VersionStage: 'AWSCURRENT' }).resolves({
    SecretString: tenantContextKeySecretString({ version: 4, key: Buffer.alloc(32, 4) }),
    VersionId: 'v4',
  });
  const result = await runCli(rotateArgs('--yes'));
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('Key version 4 of accessweaver-dev-tenant-context-key is not the current key');
  expect(sentNames(secretsMock)).not.toContain('PutSecretValueCommand');
});
