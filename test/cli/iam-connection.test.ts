/**
 * Which credential each SQL command uses when it resolves the connection through AWS: an IAM token
 * for accessweaver_iam_operator by default, the master secret only for setup-database and with
 * --master-secret (break-glass).
 */
import { DescribeAlarmsCommand, GetMetricDataCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  cloudwatchMock,
  MASTER_SECRET_ARN,
  primaryInstance,
  rdsMock,
  resetAwsMocks,
  secretsMock,
  sent,
} from './support/aws';
import { runCli, StubSigner } from './support/harness';

const caBundle = path.join(mkdtempSync(path.join(os.tmpdir(), 'aw-cli-ca-')), 'global-bundle.pem');
writeFileSync(caBundle, '');
// A closed port: the connection fails at once, after the credential was resolved.
const ENDPOINT = { Address: '127.0.0.1', Port: 1 };

let signer: StubSigner;
beforeEach(() => {
  signer = new StubSigner();
  resetAwsMocks();
  rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [primaryInstance({ Endpoint: ENDPOINT })] });
  secretsMock.on(GetSecretValueCommand, { SecretId: MASTER_SECRET_ARN }).resolves({
    SecretString: JSON.stringify({ username: 'accessweaver_admin', password: 'master-password' }),
  });
  cloudwatchMock.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
  cloudwatchMock.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
  cloudwatchMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
});

/** Secret values read (health-check also lists the key secret's version metadata, which reads no value). */
const secretReads = () => sent(secretsMock).filter(([command]) => command === 'GetSecretValueCommand');

const SQL_COMMANDS = [
  ['health-check'],
  ['maintenance', 'stats'],
  ['maintenance', 'connections'],
  ['maintenance', 'slow-queries'],
  ['monitoring'],
];

describe.each(SQL_COMMANDS)('%s %s', (...command) => {
  const argv = [...command.filter(Boolean), '--env', 'prod', '--region', 'eu-west-3', '--ca-bundle', caBundle];

  test('connects with an IAM token for the operator login, reading no secret', async () => {
    const result = await runCli(argv, { iamAuthToken: signer.sign });
    expect(signer.requests).toEqual([
      { hostname: '127.0.0.1', port: 1, username: 'accessweaver_iam_operator', region: 'eu-west-3' },
    ]);
    expect(secretReads()).toEqual([]);
    expect(result.stdout + result.stderr).toContain('accessweaver_iam_operator@127.0.0.1:1/accessweaver');
  });

  test('with --master-secret (break-glass), reads the master secret and signs nothing', async () => {
    const result = await runCli([...argv, '--master-secret'], { iamAuthToken: signer.sign });
    expect(signer.requests).toEqual([]);
    expect(secretReads()).toEqual([['GetSecretValueCommand', { SecretId: MASTER_SECRET_ARN }]]);
    expect(result.stdout + result.stderr).toContain('accessweaver_admin@127.0.0.1:1/accessweaver');
  });
});

describe.each(['vacuum', 'reindex'])('maintenance %s (needs the tables’ owner)', (operation) => {
  test('refuses to run without --master-secret or a URL, before calling AWS', async () => {
    const result = await runCli(['maintenance', operation, '--env', 'prod', '--ca-bundle', caBundle], {
      iamAuthToken: signer.sign,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `${operation} needs the tables' owner, the master user: run it with --master-secret, or give --database-url.`,
    );
    expect([sent(rdsMock), sent(secretsMock), signer.requests]).toEqual([[], [], []]);
  });

  test('with --master-secret, connects as the master user', async () => {
    const result = await runCli(
      ['maintenance', operation, '--env', 'prod', '--ca-bundle', caBundle, '--master-secret'],
      {
        iamAuthToken: signer.sign,
      },
    );
    expect(sent(secretsMock)).toEqual([['GetSecretValueCommand', { SecretId: MASTER_SECRET_ARN }]]);
    expect(result.stderr).toContain('accessweaver_admin@127.0.0.1:1/accessweaver');
  });
});
