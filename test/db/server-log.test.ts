/**
 * What the server log (exported to CloudWatch Logs) holds with the module's parameter values, on Debian's
 * PostgreSQL 15 with pgaudit: DDL and role changes as AUDIT lines with passwords redacted, writes to the
 * authorization tables as object AUDIT lines without their values, and never a password or a bind value.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { APP_LOGIN, READONLY_LOGIN } from '../../src/config/environments';
import { setLoginPasswords } from '../../src/db/logins';
import { migrate } from '../../src/db/migrate';
import { type TenantTransactionOptions, UNSAFE_SESSION_SQLSTATE, withTenant } from '../../src/db/tenant-context';
import { installTenantContextKey } from '../../src/db/tenant-context-keys';
import { DATABASE_PARAMETERS } from '../../src/rds/parameters';
import {
  pgauditServerUnavailableReason,
  serverSettings,
  startPgauditServer,
  type PgauditServer,
} from '../support/pgaudit-server';
import { urlFor } from '../support/database';
import { describeWithTool } from '../support/skip';
import { pgbouncerUnavailableReason, startPgBouncer, type PgBouncer } from '../support/pgbouncer';
import { contextFor, poolFor, TEST_CONTEXT_KEY, TEST_PASSWORDS, withConnection, withCredentials } from './fixtures';

const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
/** A context no other test sends (its actor is new), so a leak is found by the test that caused it. */
const ownContext = (tenantId: string) => contextFor(tenantId, { userId: randomUUID() });

/**
 * Whether `log` holds `value` as text, or as the bytes a plan tree prints a constant with (`:constvalue n [ ... ]`,
 * wrapped over lines anywhere, inside a number too: compared without whitespace).
 */
const logHolds = (log: string, value: string) => {
  const bytes = [...Buffer.from(value, 'utf8')].map((byte) => (byte << 24) >> 24).join('');
  return log.includes(value) || log.replace(/\s+/g, '').includes(bytes);
};

/** Whether `waiter`'s session is blocked on a lock, as seen from `observer`'s session. */
async function waitingOnLock(observer: Client, waiter: Client): Promise<boolean> {
  const pid = (waiter as unknown as { processID: number }).processID;
  const { rows } = await observer.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [
    pid,
  ]);
  return rows.length === 1;
}

describeWithTool(
  'server log with the module parameters (PostgreSQL 15 with pgaudit)',
  pgauditServerUnavailableReason(),
  () => {
    let server: PgauditServer;
    let masterUrl: string;
    let appUrl: string;
    let tenantId: string;

    beforeAll(async () => {
      server = await startPgauditServer(serverSettings(DATABASE_PARAMETERS));
      await withConnection(server.adminUrl, (client) => client.query('CREATE DATABASE accessweaver'));
      masterUrl = urlFor('accessweaver', server.adminUrl);
      await migrate(masterUrl);
      await setLoginPasswords(masterUrl, TEST_PASSWORDS);
      await withConnection(masterUrl, (client) =>
        installTenantContextKey(client, TEST_CONTEXT_KEY, { overlapSeconds: 0 }),
      );
      appUrl = withCredentials(masterUrl, APP_LOGIN, TEST_PASSWORDS.app);
      tenantId = await withConnection(masterUrl, async (client) => {
        const { rows } = await client.query<{ id: string }>(
          "INSERT INTO accessweaver.tenants (name, subdomain) VALUES ('Logged', 'logged') RETURNING id",
        );
        return rows[0].id;
      });
    }, 120_000);
    afterAll(() => {
      server?.stop();
    });

    /**
     * Runs `work` with errors logged in full. The module logs them terse, which drops the DETAIL lines plan trees are
     * printed in and the CONTEXT line bound values of a failed statement are: the tests of a refused request run
     * without that help, so that what keeps the request out of the log is the refusal itself.
     */
    const withErrorsInFull = async <T>(work: () => Promise<T>): Promise<T> => {
      await errorVerbosity('default');
      try {
        return await work();
      } finally {
        await errorVerbosity('terse');
      }
    };
    const errorVerbosity = async (value: 'default' | 'terse') => {
      await withConnection(masterUrl, async (client) => {
        // terse is the module's value, which the server was started with.
        await client.query(
          value === 'terse'
            ? 'ALTER SYSTEM RESET log_error_verbosity'
            : `ALTER SYSTEM SET log_error_verbosity = '${value}'`,
        );
        await client.query('SELECT pg_reload_conf()');
      });
      // Sessions started after the server has read the file run with the new value.
      for (let attempt = 0; attempt < 100; attempt += 1) {
        const { rows } = await withConnection(masterUrl, (client) => client.query('SHOW log_error_verbosity'));
        if (rows[0].log_error_verbosity === value) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`log_error_verbosity did not become ${value}`);
    };

    test(
      'the server runs every parameter-group value ' + 'PostgreSQL knows, and the migrations installed ' + 'pgaudit',
      async () => {
        const expected = serverSettings(DATABASE_PARAMETERS);
        const { settings, installed } = await withConnection(masterUrl, async (client) => {
          const { rows } = await client.query<{ name: string; setting: string; vartype: string }>(
            'SELECT name, setting, vartype FROM pg_settings WHERE name = ANY ($1)',
            [Object.keys(expected)],
          );
          const extension = await client.query("SELECT 1 FROM pg_extension WHERE extname = 'pgaudit'");
          const { rows: grants } = await client.query<{ ok: boolean }>(
            "SELECT has_table_privilege('rds_pgaudit', 'accessweaver.user_roles', 'INSERT, UPDATE, DELETE') AS ok",
          );
          return { settings: rows, installed: extension.rowCount === 1 && grants[0].ok };
        });
        // Booleans read back as on/off whether the group says 1/0 or on/off.
        const asBoolean: Record<string, string> = { '0': 'off', '1': 'on' };
        const actual = settings.map((row) => [row.name, row.setting]);
        const wanted = settings.map((row) => [
          row.name,
          row.vartype === 'bool' ? (asBoolean[expected[row.name]] ?? expected[row.name]) : expected[row.name],
        ]);
        expect(actual).toEqual(wanted);
        expect(settings.map((row) => row.name).sort()).toEqual(Object.keys(expected).sort());
        expect(expected['pgaudit.log']).toBeDefined();
        expect(installed).toBe(true);
      },
    );

    test(
      'a password change sent with a literal, as the ' + 'rotation function does, is an AUDIT line without it',
      async () => {
        const password = secret('Rotated');
        const failedPassword = secret('Failed');
        await withConnection(masterUrl, async (client) => {
          await client.query(`ALTER USER ${READONLY_LOGIN} WITH PASSWORD '${password}'`);
          await expect(client.query(`ALTER USER no_such_login WITH PASSWORD '${failedPassword}'`)).rejects.toThrow();
        });
        const log = server.log();
        expect(log).toMatch(
          new RegExp(
            `AUDIT: SESSION,\\d+,\\d+,ROLE,ALTER ROLE,,,ALTER USER ${READONLY_LOGIN} WITH PASSWORD <REDACTED>`,
          ),
        );
        expect(log).not.toContain(password);
        expect(log).not.toContain(failedPassword);
      },
    );

    test('a slow password change (queued behind a lock) is not logged with its text', async () => {
      const password = secret('Slow');
      await withConnection(masterUrl, async (holder) => {
        await holder.query('BEGIN');
        await holder.query('LOCK TABLE pg_catalog.pg_authid IN EXCLUSIVE MODE');
        await withConnection(masterUrl, async (client) => {
          const change = client.query(`ALTER ROLE ${READONLY_LOGIN} PASSWORD '${password}'`);
          // Released only once the change is seen waiting on the lock, however slowly it got there.
          while (!(await waitingOnLock(holder, client))) await new Promise((resolve) => setTimeout(resolve, 50));
          await holder.query('COMMIT');
          await change;
        });
      });
      expect(server.log()).not.toContain(password);
    });

    test(
      'a parameterized INSERT by the app login is an object ' + 'AUDIT line without the value, also when it fails',
      async () => {
        const email = `${secret('person')}@customer.example`;
        await withConnection(appUrl, async (client: Client) => {
          for (let attempt = 0; attempt < 2; attempt += 1) {
            await client.query('BEGIN');
            await client.query('SELECT accessweaver.set_tenant_context($1)', [contextFor(tenantId)]);
            // The second attempt violates users_tenant_email_key, whose error DETAIL quotes the key.
            const insert = client.query('INSERT INTO accessweaver.users (tenant_id, email) VALUES ($1, $2)', [
              tenantId,
              email,
            ]);
            await (attempt === 0 ? insert : expect(insert).rejects.toThrow(/users_tenant_email_key/));
            await client.query(attempt === 0 ? 'COMMIT' : 'ROLLBACK');
          }
        });
        const log = server.log();
        expect(log).toMatch(
          new RegExp(
            String.raw`AUDIT: OBJECT,\d+,\d+,WRITE,INSERT,TABLE,accessweaver\.users,` +
              String.raw`"INSERT INTO accessweaver\.users \(tenant_id, email\) VALUES \(\$1, \$2\)",<not logged>`,
          ),
        );
        expect(log).not.toContain(email);
        // Nor the tenant-context key installed at setup, nor the signed contexts the login sent.
        expect(log).not.toContain(TEST_CONTEXT_KEY.key.toString('utf8'));
        expect(log).not.toContain(TEST_CONTEXT_KEY.key.toString('hex'));
        expect(log).not.toContain(contextFor(tenantId).split('.').slice(0, 3).join('.'));
      },
    );

    const lookUp = (pool: Pool, context: string, email: string, options: TenantTransactionOptions = {}) =>
      withTenant(
        pool,
        context,
        (client) => client.query('SELECT id FROM accessweaver.users WHERE email = $1', [email]),
        options,
      );

    // An injected request switches plan or parameter logging on for its pooled session. The next tenant's request on
    // that connection is refused with its BEGIN, before its context is sent: neither a plan tree nor an error's
    // CONTEXT line can carry it, even with errors logged in full.
    test.each([
      ['debug_print_plan', 'on', false, 'debug_print_plan is on'],
      ['debug_print_plan', 'on', true, 'debug_print_plan is on'],
      ['log_parameter_max_length_on_error', '-1', false, 'log_parameter_max_length_on_error is not 0'],
      ['log_parameter_max_length_on_error', '-1', true, 'log_parameter_max_length_on_error is not 0'],
    ])('%s = %s left on a pooled session: refused before the context is sent (read only: %s)', async (...row) => {
      const [name, value, readOnly, reason] = row;
      const context = ownContext(tenantId);
      const pool = poolFor(appUrl, 1);
      try {
        await withErrorsInFull(async () => {
          const injected = await pool.connect();
          await injected.query(`SET ${name} = ${value}`);
          injected.release();
          await expect(lookUp(pool, context, secret('unsent'), { readOnly })).rejects.toMatchObject({
            code: UNSAFE_SESSION_SQLSTATE,
            message: `tenant context refused: unsafe session: ${reason}`,
          });
        });
      } finally {
        await pool.end();
      }
      const log = server.log();
      expect(log).toContain(`tenant context refused: unsafe session: ${reason}`);
      expect(logHolds(log, context)).toBe(false);
    });

    // Plan logging the login stores for its later sessions: refused in full too, until a migration run resets it.
    test('plan logging the login stores for itself: refused, unlogged, until the next migration run', async () => {
      const context = ownContext(tenantId);
      const email = `${secret('looked-up')}@customer.example`;
      const pool = poolFor(appUrl, 1);
      try {
        await withErrorsInFull(async () => {
          await withConnection(appUrl, (client) => client.query(`ALTER ROLE ${APP_LOGIN} SET debug_print_plan = on`));
          await expect(lookUp(pool, context, email)).rejects.toMatchObject({ code: UNSAFE_SESSION_SQLSTATE });
          await migrate(masterUrl);
          expect((await lookUp(pool, context, email)).rowCount).toBe(0);
        });
      } finally {
        await pool.end();
        await withConnection(masterUrl, (client) => client.query(`ALTER ROLE ${APP_LOGIN} RESET debug_print_plan`));
      }
      const log = server.log();
      expect(log).toContain('tenant context refused: unsafe session: debug_print_plan is on');
      expect(logHolds(log, context)).toBe(false);
      expect(logHolds(log, email)).toBe(false);
    });

    // The same attacks by a client of the shipped PgBouncer configuration (one server connection): the victim is
    // another client served on the server connection the attacker used. Errors are logged in full throughout.
    describeWithTool('through PgBouncer', pgbouncerUnavailableReason(), () => {
      const startBouncer = () =>
        startPgBouncer({ serverUrl: masterUrl, logins: { [APP_LOGIN]: TEST_PASSWORDS.app }, poolSize: 1 });
      const throughBouncer = async <T>(work: (attacker: Pool, victim: Pool) => Promise<T>): Promise<T> => {
        const bouncer: PgBouncer = await startBouncer();
        const url = bouncer.url(APP_LOGIN, TEST_PASSWORDS.app);
        const [attacker, victim] = [poolFor(url, 1), poolFor(url, 1)];
        try {
          return await work(attacker, victim);
        } finally {
          await Promise.all([attacker.end(), victim.end()]);
          await bouncer.stop();
        }
      };

      test('logging one client switches on for its session: the next client runs, unlogged', async () => {
        const context = ownContext(tenantId);
        const email = `${secret('bounced')}@customer.example`;
        await withErrorsInFull(() =>
          throughBouncer(async (attacker, victim) => {
            await attacker.query('SET debug_print_plan = on');
            await attacker.query('SET log_parameter_max_length_on_error = -1');
            expect((await lookUp(victim, context, email)).rowCount).toBe(0);
          }),
        );
        expect(logHolds(server.log(), context)).toBe(false);
        expect(logHolds(server.log(), email)).toBe(false);
      });

      // Each server connection starts with the stored setting, with BEGIN or BEGIN READ ONLY: refused before the
      // context is sent. withTenant closes the refused connection inside its failed transaction, so PgBouncer closes
      // that server connection too; the next one, started after the migration run, runs the request.
      test('logging the login stores for itself: refused, not logged, until the next migration run', async () => {
        const context = ownContext(tenantId);
        const email = `${secret('bounced-stored')}@customer.example`;
        try {
          await withErrorsInFull(async () => {
            await throughBouncer((attacker) => attacker.query(`ALTER ROLE ${APP_LOGIN} SET debug_print_plan = on`));
            await throughBouncer(async (_attacker, victim) => {
              for (const readOnly of [false, true]) {
                await expect(lookUp(victim, context, email, { readOnly })).rejects.toMatchObject({
                  code: UNSAFE_SESSION_SQLSTATE,
                });
              }
              await migrate(masterUrl);
              expect((await lookUp(victim, context, email, { readOnly: true })).rowCount).toBe(0);
            });
          });
        } finally {
          await withConnection(masterUrl, (client) => client.query(`ALTER ROLE ${APP_LOGIN} RESET debug_print_plan`));
        }
        expect(server.log()).toContain('tenant context refused: unsafe session: debug_print_plan is on');
        expect(logHolds(server.log(), context)).toBe(false);
        expect(logHolds(server.log(), email)).toBe(false);
      });
    });

    test('DDL and a role grant are AUDIT lines', async () => {
      await withConnection(masterUrl, async (client) => {
        await client.query('CREATE TABLE public.audit_probe (id int)');
        await client.query(`GRANT readonly_role TO ${APP_LOGIN}`);
        await client.query(`REVOKE readonly_role FROM ${APP_LOGIN}`);
      });
      const log = server.log();
      expect(log).toMatch(
        /AUDIT: SESSION,\d+,\d+,DDL,CREATE TABLE,TABLE,public\.audit_probe,CREATE TABLE public\.audit_probe/,
      );
      expect(log).toMatch(new RegExp(`AUDIT: SESSION,\\d+,\\d+,ROLE,GRANT ROLE,,,GRANT readonly_role TO ${APP_LOGIN}`));
      expect(log).toMatch(
        new RegExp(`AUDIT: SESSION,\\d+,\\d+,ROLE,REVOKE ROLE,,,REVOKE readonly_role FROM ${APP_LOGIN}`),
      );
    });
  },
);
