/**
 * A Java service through PgBouncer: Debian's OpenJDK, pgjdbc and HikariCP, through Debian's PgBouncer with the
 * shipped configuration (transaction pooling, two server connections), eight threads over twelve tenants
 * (test/java/TenantLoad.java, compiled here). With the settings docs/database.md gives, every transaction
 * completes and sees its own tenant only; with the driver's defaults transactions fail, with the server's errors,
 * and none shows another tenant's rows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { APP_LOGIN, READONLY_LOGIN } from '../../src/config/environments';
import { compileJava, javaUnavailableReason, type JavaPrograms } from '../support/java';
import { describeWithTool } from '../support/skip';
import { pgbouncerUnavailableReason, PGBOUNCER_DATABASE, startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import {
  contextFor,
  createMigratedDatabase,
  LOGIN_NAMES,
  seedTenants,
  TEST_CONTEXT_KEY,
  TEST_PASSWORDS,
  type Login,
  type MigratedDatabase,
  type TenantFixture,
} from './fixtures';

const TENANTS = 12;
const THREADS = 8;
const TRANSACTIONS = 1500;
/** A bound on each run (it stops starting transactions then), not an expectation. */
const SECONDS = 20;
const JAVA_SOURCES = path.resolve(__dirname, '../java');

interface LoadReport {
  readonly planned: number;
  readonly committed: number;
  readonly failed: number;
  readonly clientErrors: number;
  readonly unfinished: number;
  readonly withoutContext: number;
  readonly ownRows: number;
  readonly foreignRows: number;
  readonly foreignRowTransactions: number;
  readonly staleContexts: number;
  readonly errors: Record<string, number>;
}

/** The HikariCP and pgjdbc settings docs/database.md gives, direct or through PgBouncer before 1.21. */
function documentedSettings(server: string, login: Login): Record<string, string> {
  return {
    // TLS (sslmode=verify-full in the docs) is off here: the test servers have no certificate.
    jdbcUrl: `jdbc:postgresql://${server}?prepareThreshold=0&sslmode=disable`,
    autoCommit: 'false',
    readOnly: String(login === 'readonly'),
    maximumPoolSize: String(THREADS),
    maxLifetime: '1800000',
  };
}

/** pgjdbc's and HikariCP's defaults: nothing but where to connect. */
function defaultSettings(port: number): Record<string, string> {
  return { jdbcUrl: `jdbc:postgresql://127.0.0.1:${port}/${PGBOUNCER_DATABASE}?sslmode=disable` };
}

const unavailable = pgbouncerUnavailableReason() ?? javaUnavailableReason();

describeWithTool('a Java service through PgBouncer (pgjdbc, HikariCP)', unavailable, () => {
  let database: MigratedDatabase;
  let tenants: TenantFixture[];
  let bouncer: PgBouncer;
  let programs: JavaPrograms;
  let directory: string;
  let direct: string;
  let pooled: string;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    directory = mkdtempSync(path.join(os.tmpdir(), 'accessweaver-java-load-'));
    // One step at a time, so that a step that fails leaves only what afterAll knows about.
    programs = await compileJava(
      ['TenantLoad', 'ReplacedStatement'].map((name) => path.join(JAVA_SOURCES, `${name}.java`)),
    );
    tenants = await seedTenants(database.url, TENANTS);
    bouncer = await startPgBouncer({
      serverUrl: database.url,
      logins: { [APP_LOGIN]: TEST_PASSWORDS.app, [READONLY_LOGIN]: TEST_PASSWORDS.readonly },
      poolSize: 2,
    });
    const server = new URL(database.url);
    direct = `${server.host}${server.pathname}`;
    pooled = `127.0.0.1:${bouncer.port}/${PGBOUNCER_DATABASE}`;
  }, 60_000);
  afterAll(async () => {
    programs?.remove();
    await bouncer?.stop();
    await database?.drop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  function properties(name: string, values: Record<string, string>): string {
    const file = path.join(directory, `${name}.properties`);
    const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/[:=]/g, (c) => `\\${c}`);
    writeFileSync(
      file,
      Object.entries(values)
        .map(([key, value]) => `${key}=${escape(value)}\n`)
        .join(''),
      { mode: 0o600 },
    );
    return file;
  }

  async function runLoad(login: Login, settings: Record<string, string>): Promise<LoadReport> {
    const pool = properties('pool', { ...settings, username: LOGIN_NAMES[login], password: TEST_PASSWORDS[login] });
    const load = properties('load', {
      'key.hex': TEST_CONTEXT_KEY.key.toString('hex'),
      'key.version': String(TEST_CONTEXT_KEY.version),
      tenants: tenants.map((tenant) => tenant.id).join(','),
      threads: String(THREADS),
      transactions: String(TRANSACTIONS),
      seconds: String(SECONDS),
    });
    const report = JSON.parse(await programs.run('TenantLoad', [pool, load], (SECONDS + 20) * 1000)) as LoadReport;
    console.log(`${login} login, ${settings.jdbcUrl}: ${JSON.stringify(report)}`);
    return report;
  }

  test.each<Login>(['app', 'readonly'])(
    'with the documented settings every transaction of the %s login completes and sees its own tenant only',
    async (login) => {
      const report = await runLoad(login, documentedSettings(pooled, login));
      expect(report).toMatchObject({ failed: 0, unfinished: 0, foreignRows: 0, staleContexts: 0, errors: {} });
      expect(report.ownRows).toBeGreaterThan(0);
    },
    60_000,
  );

  test('directly, with the documented settings every transaction completes and sees its own tenant only', async () => {
    const report = await runLoad('app', documentedSettings(direct, 'app'));
    expect(report).toMatchObject({ failed: 0, unfinished: 0, foreignRows: 0, staleContexts: 0, errors: {} });
    expect(report.ownRows).toBeGreaterThan(0);
  }, 60_000);

  test("with the driver's defaults they fail with the server's errors, never showing others' rows", async () => {
    const report = await runLoad('app', defaultSettings(bouncer.port));
    // The driver's stream stays in step with the server's: out of step, it reads results of other statements.
    expect(report).toMatchObject({ foreignRows: 0, staleContexts: 0, clientErrors: 0, unfinished: 0 });
  }, 60_000);

  /** What tenant B's query answers after an injected request of tenant A replaced named statements. */
  async function afterReplacedStatements(
    settings: Record<string, string>,
  ): Promise<{ answer: string; honest: string }> {
    const pool = properties('pool', { ...settings, username: APP_LOGIN, password: TEST_PASSWORDS.app });
    const [a, b] = [contextFor(tenants[0].id), contextFor(tenants[1].id)];
    const { answer } = JSON.parse(await programs.run('ReplacedStatement', [pool, a, b], 30_000)) as { answer: string };
    return { answer, honest: `${tenants[1].id} honest` };
  }

  test.each([
    ['directly', () => direct],
    ['through PgBouncer', () => pooled],
  ])(
    "%s, with the documented settings an injected PREPARE does not replace the next tenant's query",
    async (_, where) => {
      const { answer, honest } = await afterReplacedStatements(documentedSettings(where(), 'app'));
      expect(answer).toBe(honest);
    },
  );

  // Why the documented settings turn named statements off on a direct pool too.
  test("directly, with the driver's defaults the next tenant's query does not give its own answer", async () => {
    const { answer, honest } = await afterReplacedStatements({
      jdbcUrl: `jdbc:postgresql://${direct}?sslmode=disable`,
    });
    expect(answer).not.toBe(honest);
  });
});
