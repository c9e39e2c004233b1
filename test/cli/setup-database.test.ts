import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';
import os from 'node:os';
import path from 'node:path';
import type { DatabaseTools } from '../../src/cli/context';
import { setLoginPasswords } from '../../src/db/logins';
import { migrate } from '../../src/db/migrate';
import { contextFor, TEST_CONTEXT_KEY, TEST_PASSWORDS, withConnection, withCredentials } from '../db/fixtures';
import { tenantContextKeySecretString } from '../../src/db/tenant-context-keys';
import { createTestDatabase, type TestDatabase } from '../support/database';
import {
  MASTER_SECRET_ARN,
  primaryInstance,
  rdsMock,
  resetAwsMocks,
  secretsMock,
  sent,
  sentNames,
} from './support/aws';
import { runCli } from './support/harness';

const APP_SECRET = 'accessweaver-dev-app-db-credentials';
const READONLY_SECRET = 'accessweaver-dev-readonly-db-credentials';
const KEY_SECRET = 'accessweaver-dev-tenant-context-key';
const MIGRATION_FILES = readdirSync(path.resolve(__dirname, '../../sql'))
  .filter((f) => f.endsWith('.sql'))
  .sort();

function secretJson(username: string, password: string): { SecretString: string } {
  return {
    SecretString: JSON.stringify({
      username,
      password,
      host: 'db.internal',
      port: 5432,
      dbname: 'accessweaver',
      engine: 'postgres',
    }),
  };
}

/** The real database tools, recording what setup-database asked of them. */
function recordingTools(): DatabaseTools & {
  readonly migrated: string[];
  readonly passwordsSet: { url: string; passwords: object; logins?: object }[];
} {
  const migrated: string[] = [];
  const passwordsSet: { url: string; passwords: object; logins?: object }[] = [];
  return {
    migrated,
    passwordsSet,
    migrate: (url, options) => {
      migrated.push(url);
      return migrate(url, options);
    },
    setLoginPasswords: (url, passwords, logins) => {
      passwordsSet.push({ url, passwords: { ...passwords }, ...(logins === undefined ? {} : { logins }) });
      return setLoginPasswords(url, passwords, logins);
    },
  };
}

let db: TestDatabase;

beforeEach(async () => {
  resetAwsMocks();
  // Logins are cluster-wide: the secrets hold the passwords every suite of the test server sets,
  // so running the real setLoginPasswords here never breaks a suite running alongside.
  secretsMock
    .on(GetSecretValueCommand, { SecretId: APP_SECRET })
    .resolves(secretJson('accessweaver_app', TEST_PASSWORDS.app));
  secretsMock
    .on(GetSecretValueCommand, { SecretId: READONLY_SECRET })
    .resolves(secretJson('accessweaver_readonly', TEST_PASSWORDS.readonly));
  secretsMock.on(GetSecretValueCommand, { SecretId: KEY_SECRET }).resolves({
    SecretString: tenantContextKeySecretString(TEST_CONTEXT_KEY),
    VersionId: 'key-version-1',
  });
  db = await createTestDatabase('aw_cli_setup');
});

afterEach(async () => {
  await db.drop();
});

describe('setup-database', () => {
  test('installs the tenant-context key from its secret: contexts signed with it verify as the app login', async () => {
    const result = await runCli(['setup-database', '--env', 'dev', '--database-url', db.url, '--json'], {
      database: recordingTools(),
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).tenantContextKey).toEqual({
      secret: KEY_SECRET,
      version: 1,
      outcome: 'installed',
    });
    const tenantId = await withConnection(db.url, async (client) => {
      const { rows } = await client.query(
        "INSERT INTO accessweaver.tenants (name, subdomain) VALUES ('t', 't') RETURNING id",
      );
      return rows[0].id as string;
    });
    const appUrl = withCredentials(db.url, 'accessweaver_app', TEST_PASSWORDS.app);
    const seen = await withConnection(appUrl, async (client) => {
      await client.query('BEGIN');
      await client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(tenantId)]);
      return (await client.query('SELECT id FROM accessweaver.tenants')).rows;
    });
    expect(seen).toEqual([{ id: tenantId }]);
    const again = await runCli(['setup-database', '--env', 'dev', '--database-url', db.url, '--json'], {
      database: recordingTools(),
    });
    expect(JSON.parse(again.stdout).tenantContextKey.outcome).toBe('already installed');
  });

  test('reports what installing pgaudit did (the embedded test server has no pgaudit)', async () => {
    const result = await runCli(['setup-database', '--env', 'dev', '--database-url', db.url, '--json'], {
      database: recordingTools(),
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).pgaudit).toBe(
      'pgaudit is not available on this server: no DDL, role or object audit lines in its log',
    );
  });

  test('exits 4 naming a missing tenant-context key secret, before touching the database', async () => {
    secretsMock
      .on(GetSecretValueCommand, { SecretId: KEY_SECRET })
      .rejects(
        new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }),
      );
    const tools = recordingTools();
    const result = await runCli(['setup-database', '--env', 'dev', '--database-url', db.url], { database: tools });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(
      `GetSecretValue ${KEY_SECRET} (AWSCURRENT, tenant-context key): ResourceNotFoundException`,
    );
    expect(tools.migrated).toEqual([]);
  });

  test('exits 1 on a key secret of the wrong shape, naming the secret and not its value', async () => {
    secretsMock
      .on(GetSecretValueCommand, { SecretId: KEY_SECRET })
      .resolves({ SecretString: JSON.stringify({ version: 1, key: 'c2hvcnQ=' }), VersionId: 'v' });
    const tools = recordingTools();
    const result = await runCli(['setup-database', '--env', 'dev', '--database-url', db.url], { database: tools });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Secret ${KEY_SECRET} has no 'key' holding 32 base64-encoded bytes.`);
    expect(result.stderr).not.toContain('c2hvcnQ=');
    expect(tools.migrated).toEqual([]);
  });

  test('applies every migration of the project', async () => {
    const result = await runCli(['setup-database', '--env', 'dev', '--database-url', db.url, '--json'], {
      database: recordingTools(),
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ applied: MIGRATION_FILES, alreadyApplied: [] });
  });

  test('sets the app and read-only passwords from their secrets, over the master connection', async () => {
    const tools = recordingTools();
    await runCli(['setup-database', '--env', 'dev', '--database-url', db.url], { database: tools });
    expect(tools.passwordsSet).toEqual([
      {
        url: db.url,
        passwords: { app: TEST_PASSWORDS.app, readonly: TEST_PASSWORDS.readonly },
        logins: { app: 'accessweaver_app', readonly: 'accessweaver_readonly' },
      },
    ]);
    expect(sent(secretsMock)).toEqual([
      ['GetSecretValueCommand', { SecretId: APP_SECRET }],
      ['GetSecretValueCommand', { SecretId: READONLY_SECRET }],
      ['GetSecretValueCommand', { SecretId: KEY_SECRET, VersionStage: 'AWSCURRENT' }],
    ]);
  });

  test('is idempotent: a second run applies nothing and still succeeds', async () => {
    await runCli(['setup-database', '--env', 'dev', '--database-url', db.url], { database: recordingTools() });
    const result = await runCli(['setup-database', '--env', 'dev', '--database-url', db.url, '--json'], {
      database: recordingTools(),
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ applied: [], alreadyApplied: MIGRATION_FILES });
  });

  test('exits 4 naming a missing secret, before touching the database', async () => {
    secretsMock
      .on(GetSecretValueCommand, { SecretId: READONLY_SECRET })
      .rejects(
        new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }),
      );
    const tools = recordingTools();
    const result = await runCli(['setup-database', '--env', 'dev', '--database-url', db.url], { database: tools });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(
      `GetSecretValue ${READONLY_SECRET} (accessweaver_readonly credentials): ResourceNotFoundException`,
    );
    expect(tools.migrated).toEqual([]);
  });

  test('after a multi-user rotation, sets the password of the clone the secret names', async () => {
    const clonePassword = `clone-${Date.now()}`;
    secretsMock
      .on(GetSecretValueCommand, { SecretId: APP_SECRET })
      .resolves(secretJson('accessweaver_app_clone', clonePassword));
    const tools = recordingTools();
    const result = await runCli(['setup-database', '--env', 'dev', '--database-url', db.url, '--json'], {
      database: tools,
    });
    expect(result.code).toBe(0);
    expect(tools.passwordsSet[0]?.logins).toEqual({ app: 'accessweaver_app_clone', readonly: 'accessweaver_readonly' });
    expect(JSON.parse(result.stdout).passwordsSet).toEqual(['accessweaver_app_clone', 'accessweaver_readonly']);
    const clone = new URL(db.url);
    clone.username = 'accessweaver_app_clone';
    clone.password = clonePassword;
    const client = new Client({ connectionString: clone.toString() });
    await client.connect();
    await client.end();
  });

  test('refuses a secret made for another login', async () => {
    secretsMock.on(GetSecretValueCommand, { SecretId: APP_SECRET }).resolves(secretJson('someone_else', 'pw'));
    const tools = recordingTools();
    const result = await runCli(['setup-database', '--env', 'dev', '--database-url', db.url], { database: tools });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Secret ${APP_SECRET} is for 'someone_else', but the migrations create the login 'accessweaver_app'`,
    );
    expect(tools.migrated).toEqual([]);
  });

  test('fails without setting passwords when a migration fails', async () => {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'aw-cli-migrations-'));
    writeFileSync(path.join(directory, '0001_broken.sql'), 'SELEC 1;');
    const tools = recordingTools();
    const result = await runCli(
      ['setup-database', '--env', 'dev', '--database-url', db.url, '--migrations-dir', directory],
      { database: tools },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Migrations failed/);
    expect(tools.passwordsSet).toEqual([]);
  });

  test('without --env: says the secrets need it, exit 2, before any call', async () => {
    const result = await runCli(['setup-database', '--database-url', db.url]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr:
        'error: setup-database needs --env (dev, staging, prod): the app and read-only login passwords come ' +
        "from that environment's secrets, with or without --database-url (or, without AWS, set " +
        'ACCESSWEAVER_APP_PASSWORD, ACCESSWEAVER_READONLY_PASSWORD, ACCESSWEAVER_TENANT_CONTEXT_KEY and give ' +
        '--database-url).\n',
    });
    expect(sentNames(secretsMock)).toEqual([]);
  });

  const LOCAL_ENV = {
    ACCESSWEAVER_APP_PASSWORD: TEST_PASSWORDS.app,
    ACCESSWEAVER_READONLY_PASSWORD: TEST_PASSWORDS.readonly,
    ACCESSWEAVER_TENANT_CONTEXT_KEY: tenantContextKeySecretString(TEST_CONTEXT_KEY),
  };

  test('without AWS: passwords and key from the environment variables, no --env, no AWS call', async () => {
    const result = await runCli(['setup-database', '--database-url', db.url, '--json'], {
      database: recordingTools(),
      env: LOCAL_ENV,
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).tenantContextKey).toEqual({
      secret: 'ACCESSWEAVER_TENANT_CONTEXT_KEY',
      version: 1,
      outcome: 'installed',
    });
    expect(sentNames(secretsMock)).toEqual([]);
    const appUrl = withCredentials(db.url, 'accessweaver_app', TEST_PASSWORDS.app);
    expect(await withConnection(appUrl, async (client) => (await client.query('SELECT 1 AS one')).rows)).toEqual([
      { one: 1 },
    ]);
  });

  test('with only some of the variables set: names all three, exit 2, before any call', async () => {
    const tools = recordingTools();
    const result = await runCli(['setup-database', '--database-url', db.url], {
      database: tools,
      env: { ...LOCAL_ENV, ACCESSWEAVER_TENANT_CONTEXT_KEY: undefined },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Set ACCESSWEAVER_APP_PASSWORD, .*ACCESSWEAVER_TENANT_CONTEXT_KEY together/);
    expect(sentNames(secretsMock)).toEqual([]);
    expect(tools.migrated).toEqual([]);
  });

  test('a --migrations-dir that does not exist is a usage error, exit 2, before any call', async () => {
    const result = await runCli([
      'setup-database',
      '--env',
      'dev',
      '--database-url',
      db.url,
      '--migrations-dir',
      '/nonexistent/sql',
    ]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr: 'error: --migrations-dir /nonexistent/sql is not a directory.\n',
    });
    expect(sentNames(secretsMock)).toEqual([]);
  });

  test('exits 4 when the database is unreachable, before migrating', async () => {
    const tools = recordingTools();
    const result = await runCli(
      ['setup-database', '--env', 'dev', '--database-url', 'postgres://postgres:x@127.0.0.1:1/accessweaver'],
      { database: tools },
    );
    expect(result.code).toBe(4);
    expect(tools.migrated).toEqual([]);
  });
});

describe('setup-database through the RDS-managed master secret', () => {
  const caBundle = path.join(mkdtempSync(path.join(os.tmpdir(), 'aw-cli-ca-')), 'global-bundle.pem');
  writeFileSync(caBundle, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');

  beforeEach(() => {
    const server = new URL(db.url);
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'accessweaver-dev-primary' }).resolves({
      DBInstances: [
        primaryInstance({
          DBInstanceIdentifier: 'accessweaver-dev-primary',
          DBName: db.name,
          Endpoint: { Address: server.hostname, Port: Number(server.port) },
        }),
      ],
    });
    // What RDS stores: username and password only, no host and no dbname.
    secretsMock.on(GetSecretValueCommand, { SecretId: MASTER_SECRET_ARN }).resolves({
      SecretString: JSON.stringify({
        username: decodeURIComponent(server.username),
        password: decodeURIComponent(server.password),
      }),
    });
  });

  test('finds the master secret through DescribeDBInstances', async () => {
    await runCli(['setup-database', '--env', 'dev', '--ca-bundle', caBundle], { database: recordingTools() });
    expect(sent(rdsMock)).toEqual([
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: 'accessweaver-dev-primary' }],
    ]);
    expect(sentNames(secretsMock)).toHaveLength(4);
    expect(sent(secretsMock)[3]).toEqual(['GetSecretValueCommand', { SecretId: MASTER_SECRET_ARN }]);
  });

  test('connects to the instance endpoint and DBName, and only with TLS (the test server has none)', async () => {
    const tools = recordingTools();
    const result = await runCli(['setup-database', '--env', 'dev', '--ca-bundle', caBundle], { database: tools });
    const server = new URL(db.url);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(
      `Cannot connect to ${decodeURIComponent(server.username)}@${server.hostname}:${server.port}/${db.name} ` +
        `(sslmode=verify-full)`,
    );
    expect(result.stderr).toMatch(/does not support SSL/);
    expect(tools.migrated).toEqual([]);
  });

  test('exits 2 without a CA bundle, before reading the master secret', async () => {
    const result = await runCli(['setup-database', '--env', 'dev'], { database: recordingTools() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--ca-bundle <file> or set PGSSLROOTCERT/);
    expect(sentNames(rdsMock)).toEqual([]);
  });
});
