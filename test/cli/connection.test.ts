import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { resolveConnection } from '../../src/cli/connection';
import { CliError } from '../../src/cli/exit-codes';
import {
  MASTER_SECRET_ARN,
  primaryInstance,
  rdsMock,
  resetAwsMocks,
  secretsMock,
  sent,
  sentNames,
} from './support/aws';
import { StubSigner, testAwsClients } from './support/harness';

const caBundle = path.join(mkdtempSync(path.join(os.tmpdir(), 'aw-cli-ca-')), 'global-bundle.pem');
writeFileSync(caBundle, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
/** How pg itself reads the connection string (no connection is made). */
function parse(url: string): {
  host: string;
  port: string;
  database: string | undefined;
  user: string | undefined;
  password: string | undefined;
} {
  const client = new Client({ connectionString: url });
  return {
    host: client.host,
    port: String(client.port),
    database: client.database,
    user: client.user,
    password: client.password ?? undefined,
  };
}
let signer: StubSigner;
const deps = (env: Record<string, string> = {}) => ({ aws: () => testAwsClients(), env, iamAuthToken: signer.sign });

async function failure(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CliError)) throw new Error(`expected a CliError, got ${String(error)}`);
  return error;
}

beforeEach(() => {
  signer = new StubSigner();
  resetAwsMocks();
  rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'accessweaver-staging-primary' }).resolves({
    DBInstances: [primaryInstance({ DBInstanceIdentifier: 'accessweaver-staging-primary' })],
  });
  secretsMock.on(GetSecretValueCommand, { SecretId: MASTER_SECRET_ARN }).resolves({
    SecretString: JSON.stringify({ username: 'accessweaver_admin', password: 'p@ss:w/rd#?' }),
  });
});

describe('operator connection with an IAM token', () => {
  const ENDPOINT = 'accessweaver-prod-primary.c9akciq32.eu-west-3.rds.amazonaws.com';

  test('signs a token for the instance endpoint and the IAM operator login', async () => {
    await resolveConnection({ env: 'staging', caBundle, region: 'eu-west-3' }, 'operator', deps());
    expect(signer.requests).toEqual([
      { hostname: ENDPOINT, port: 5432, username: 'accessweaver_iam_operator', region: 'eu-west-3' },
    ]);
  });

  test('reads no secret at all, the master secret included', async () => {
    await resolveConnection({ env: 'staging', caBundle }, 'operator', deps());
    expect(sent(secretsMock)).toEqual([]);
    expect(sent(rdsMock)).toEqual([
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: 'accessweaver-staging-primary' }],
    ]);
  });

  test('connects as the IAM operator login with the token as password, verifying the certificate', async () => {
    const { url, display, source } = await resolveConnection({ env: 'staging', caBundle }, 'operator', deps());
    expect(parse(url)).toEqual({
      host: ENDPOINT,
      port: '5432',
      database: 'accessweaver',
      user: 'accessweaver_iam_operator',
      password: `${ENDPOINT}:5432/?Action=connect&DBUser=accessweaver_iam_operator&X-Amz-Signature=stub1`,
    });
    expect([display, source]).toEqual([
      `accessweaver_iam_operator@${ENDPOINT}:5432/accessweaver (sslmode=verify-full)`,
      'iam',
    ]);
    expect(new URL(url).searchParams.get('sslmode')).toBe('verify-full');
  });

  test('says what to do when IAM database authentication is off on the instance', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [primaryInstance({ IAMDatabaseAuthenticationEnabled: false })] });
    const error = await failure(resolveConnection({ env: 'staging', caBundle }, 'operator', deps()));
    expect([error.exitCode, error.message]).toEqual([
      1,
      'accessweaver-staging-primary has IAM database authentication off: apply the module (it enables it on every ' +
        'instance), or connect with --master-secret (break-glass).',
    ]);
    expect(signer.requests).toEqual([]);
  });
});

describe('master connection from the RDS-managed secret', () => {
  test('reads the secret named by DescribeDBInstances', async () => {
    await resolveConnection({ env: 'staging', caBundle }, 'master', deps());
    expect(sent(rdsMock)).toEqual([
      ['DescribeDBInstancesCommand', { DBInstanceIdentifier: 'accessweaver-staging-primary' }],
    ]);
    expect(sent(secretsMock)).toEqual([['GetSecretValueCommand', { SecretId: MASTER_SECRET_ARN }]]);
  });

  test('takes host, port and database name from the instance, which the secret does not hold', async () => {
    const { url } = await resolveConnection({ env: 'staging', caBundle }, 'master', deps());
    expect(parse(url)).toMatchObject({
      host: 'accessweaver-prod-primary.c9akciq32.eu-west-3.rds.amazonaws.com',
      port: '5432',
      database: 'accessweaver',
      user: 'accessweaver_admin',
    });
  });

  test('keeps a password with URL metacharacters intact', async () => {
    const { url } = await resolveConnection({ env: 'staging', caBundle }, 'master', deps());
    expect(parse(url).password).toBe('p@ss:w/rd#?');
  });

  test('verifies the server certificate against the CA bundle (sslmode=verify-full)', async () => {
    const { url, display } = await resolveConnection({ env: 'staging', caBundle }, 'master', deps());
    const params = new URL(url).searchParams;
    expect([params.get('sslmode'), params.get('sslrootcert')]).toEqual(['verify-full', caBundle]);
    expect(display).toBe(
      'accessweaver_admin@accessweaver-prod-primary.c9akciq32.eu-west-3.rds.amazonaws.com:5432/accessweaver ' +
        '(sslmode=verify-full)',
    );
  });

  test('takes the CA bundle from PGSSLROOTCERT', async () => {
    const { url } = await resolveConnection({ env: 'staging' }, 'master', deps({ PGSSLROOTCERT: caBundle }));
    expect(new URL(url).searchParams.get('sslrootcert')).toBe(caBundle);
  });

  test('exits 4 when the instance has no managed master secret', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [primaryInstance({ MasterUserSecret: undefined })] });
    const error = await failure(resolveConnection({ env: 'staging', caBundle }, 'master', deps()));
    expect([error.exitCode, error.message]).toEqual([
      4,
      'accessweaver-staging-primary has no RDS-managed master user secret (MasterUserSecret is empty).',
    ]);
  });

  test('exits 4 naming the secret when it cannot be read', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    const error = await failure(resolveConnection({ env: 'staging', caBundle }, 'master', deps()));
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain(`GetSecretValue ${MASTER_SECRET_ARN} (master credentials)`);
  });
});

describe('application and read-only connections from their secrets', () => {
  const secret = (username: string, extra: object = {}) => ({
    SecretString: JSON.stringify({
      username,
      password: 'pw',
      host: 'ro.internal',
      port: 5433,
      dbname: 'accessweaver',
      engine: 'postgres',
      ...extra,
    }),
  });

  test('reads <project>-<env>-readonly-db-credentials for the read-only login', async () => {
    secretsMock
      .on(GetSecretValueCommand, { SecretId: 'acme-dev-readonly-db-credentials' })
      .resolves(secret('accessweaver_readonly'));
    const { url } = await resolveConnection({ env: 'dev', project: 'acme', caBundle }, 'readonly', deps());
    expect(parse(url)).toMatchObject({
      host: 'ro.internal',
      port: '5433',
      user: 'accessweaver_readonly',
      database: 'accessweaver',
    });
    expect(sentNames(rdsMock)).toEqual([]);
  });

  test('reads <project>-<env>-app-db-credentials for the app login', async () => {
    secretsMock
      .on(GetSecretValueCommand, { SecretId: 'accessweaver-dev-app-db-credentials' })
      .resolves(secret('accessweaver_app'));
    await resolveConnection({ env: 'dev', caBundle }, 'app', deps());
    expect(sent(secretsMock)).toEqual([['GetSecretValueCommand', { SecretId: 'accessweaver-dev-app-db-credentials' }]]);
  });

  test('fails naming the field when the secret lacks one', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ username: 'accessweaver_app', password: 'pw', port: 5432, dbname: 'x' }),
    });
    const error = await failure(resolveConnection({ env: 'dev', caBundle }, 'app', deps()));
    expect([error.exitCode, error.message]).toEqual([
      1,
      "Secret accessweaver-dev-app-db-credentials has no 'host' string.",
    ]);
  });
});

describe('connection precedence and input checks', () => {
  test('--database-url wins over DATABASE_URL and calls no AWS API', async () => {
    const resolved = await resolveConnection(
      { databaseUrl: 'postgres://a@h1/db' },
      'master',
      deps({ DATABASE_URL: 'postgres://b@h2/db' }),
    );
    expect([resolved.url, resolved.source]).toEqual(['postgres://a@h1/db', 'url']);
    expect([...sentNames(rdsMock), ...sentNames(secretsMock)]).toEqual([]);
  });

  test('DATABASE_URL is used when no --database-url is given', async () => {
    const resolved = await resolveConnection(
      { env: 'dev' },
      'master',
      deps({ DATABASE_URL: 'postgres://b@h2/db?sslmode=verify-full' }),
    );
    expect(resolved.display).toBe('b@h2/db (sslmode=verify-full)');
  });

  test('exits 2 without a CA bundle, before calling AWS', async () => {
    const error = await failure(resolveConnection({ env: 'dev' }, 'master', deps()));
    expect(error.exitCode).toBe(2);
    expect([...sentNames(rdsMock), ...sentNames(secretsMock)]).toEqual([]);
  });

  test('exits 2 when the CA bundle file does not exist', async () => {
    const error = await failure(
      resolveConnection({ env: 'dev', caBundle: '/nonexistent/bundle.pem' }, 'master', deps()),
    );
    expect([error.exitCode, error.message]).toEqual([2, 'CA bundle /nonexistent/bundle.pem does not exist.']);
  });

  test('exits 2 for a URL that is not a PostgreSQL URL', async () => {
    const error = await failure(resolveConnection({ databaseUrl: 'mysql://x@y/z' }, 'master', deps()));
    expect(error.exitCode).toBe(2);
  });

  test('exits 2 explaining both ways to name the database when neither a URL nor --env is given', async () => {
    const error = await failure(resolveConnection({}, 'readonly', deps()));
    expect([error.exitCode, error.message]).toEqual([
      2,
      "No database to connect to: give --database-url (or set DATABASE_URL), or --env to use the module's secrets.",
    ]);
  });
});
