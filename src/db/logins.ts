/**
 * Passwords of the application logins (accessweaver_app, accessweaver_readonly).
 *
 * The migrations create the logins without a password; they get one here, at setup time, from the
 * RDS module's credential secrets (or from environment variables locally). The password never
 * reaches the server in clear: it is sent as a SCRAM-SHA-256 verifier computed here, the way psql's
 * \password does, so statement logging (log_statement = 'ddl') cannot record it.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { watchConnection } from './connection-loss';
import { APP_CLONE_LOGIN, APP_LOGIN, READONLY_CLONE_LOGIN, READONLY_LOGIN } from '../config/environments';

export interface LoginPasswords {
  readonly app: string;
  readonly readonly: string;
}

export const APP_PASSWORD_VARIABLE = 'ACCESSWEAVER_APP_PASSWORD';
export const READONLY_PASSWORD_VARIABLE = 'ACCESSWEAVER_READONLY_PASSWORD';

/** Which login of each rotation pair a secret currently names (multi-user rotation alternates them). */
export interface SecretLogins {
  readonly app: typeof APP_LOGIN | typeof APP_CLONE_LOGIN;
  readonly readonly: typeof READONLY_LOGIN | typeof READONLY_CLONE_LOGIN;
}

/**
 * Run as the master user (it has CREATEROLE); both passwords change in one transaction. `logins`
 * says which login of each pair the passwords are for: after a rotation a secret names the clone.
 */
export async function setLoginPasswords(
  databaseUrl: string,
  passwords: { app: string; readonly: string },
  logins: SecretLogins = { app: APP_LOGIN, readonly: READONLY_LOGIN },
): Promise<void> {
  if (
    ![APP_LOGIN, APP_CLONE_LOGIN].includes(logins.app) ||
    ![READONLY_LOGIN, READONLY_CLONE_LOGIN].includes(logins.readonly)
  ) {
    throw new Error(`Passwords can be set only on the application and read-only logins and their clones.`);
  }
  const verifiers: ReadonlyArray<readonly [string, string]> = [
    [logins.app, scramSha256Verifier(passwords.app, 'app')],
    [logins.readonly, scramSha256Verifier(passwords.readonly, 'readonly')],
  ];
  const client = new Client({ connectionString: databaseUrl });
  // A dropped connection rejects the statement in flight; unheard, its 'error' event would end the process.
  const connection = watchConnection(client);
  await client.connect();
  try {
    await client.query('BEGIN');
    for (const [login, verifier] of verifiers) {
      // ALTER ROLE takes no bind parameters: both parts are quoted by pg.
      await client.query(
        `ALTER ROLE ${client.escapeIdentifier(login)} WITH PASSWORD ${client.escapeLiteral(verifier)}`,
      );
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
    connection.stop();
  }
}

/**
 * Both passwords from ACCESSWEAVER_APP_PASSWORD and ACCESSWEAVER_READONLY_PASSWORD, undefined when
 * neither is set; setting only one is an error rather than a silently half-configured database.
 */
export function loginPasswordsFromEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): LoginPasswords | undefined {
  const app = env[APP_PASSWORD_VARIABLE];
  const readonly = env[READONLY_PASSWORD_VARIABLE];
  if (app === undefined && readonly === undefined) return undefined;
  if (!app || !readonly) {
    throw new Error(`Set both ${APP_PASSWORD_VARIABLE} and ${READONLY_PASSWORD_VARIABLE}, or neither.`);
  }
  return { app, readonly };
}

const SCRAM_ITERATIONS = 4096; // PostgreSQL's own default (scram_iterations)
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (RFC 5802/7677), as PostgreSQL stores it.
 * Printable ASCII only: SASLprep leaves it unchanged, so the verifier matches what the server derives
 * at login (random passwords from Secrets Manager are of this kind).
 */
export function scramSha256Verifier(password: string, label = 'password'): string {
  if (!PRINTABLE_ASCII.test(password)) {
    throw new Error(`The ${label} password must be non-empty printable ASCII.`);
  }
  const salt = randomBytes(16);
  const saltedPassword = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', saltedPassword).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', saltedPassword).update('Server Key').digest();
  return (
    `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:` +
    `${serverKey.toString('base64')}`
  );
}
