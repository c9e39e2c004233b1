import { APP_LOGIN, READONLY_LOGIN } from '../../src/config/environments';
import {
  APP_PASSWORD_VARIABLE,
  READONLY_PASSWORD_VARIABLE,
  loginPasswordsFromEnvironment,
  scramSha256Verifier,
  setLoginPasswords,
} from '../../src/db/logins';
import { Client } from 'pg';
import { urlFor } from '../support/database';
import {
  createMigratedDatabase,
  TEST_PASSWORDS,
  withConnection,
  withCredentials,
  type MigratedDatabase,
} from './fixtures';

let database: MigratedDatabase;

beforeAll(async () => {
  database = await createMigratedDatabase();
});
afterEach(async () => {
  // Logins are cluster-wide: put back the passwords every suite uses.
  await setLoginPasswords(database.url, TEST_PASSWORDS);
});
afterAll(async () => {
  await database.drop();
});

/**
 * Whether `login` can connect with `password`: false only when PostgreSQL refuses the password (SQLSTATE 28P01);
 * any other failure (no such database, no server) fails the test instead of passing for a refused password.
 */
async function canLogIn(login: string, password: string, databaseUrl = database.url): Promise<boolean> {
  try {
    return await withConnection(
      withCredentials(databaseUrl, login, password),
      async (client) => (await client.query<{ user: string }>('SELECT current_user AS user')).rows[0].user === login,
    );
  } catch (error) {
    if ((error as { code?: string }).code === '28P01') return false;
    throw error;
  }
}

const originalQuery = Client.prototype.query;

/**
 * Runs `work` with every statement text sent by any pg client recorded; `rewrite` may change a statement
 * before it leaves the client.
 */
async function recordingStatements(
  work: () => Promise<void>,
  rewrite: (text: string) => string = (text) => text,
): Promise<string[]> {
  const sent: string[] = [];
  const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: any[]) {
    if (typeof args[0] === 'string') {
      args[0] = rewrite(args[0]);
      sent.push(args[0]);
    }
    return (originalQuery as any).apply(this, args);
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return sent;
}

async function storedVerifier(login: string): Promise<string> {
  return withConnection(
    database.url,
    async (client) =>
      (await client.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [login]))
        .rows[0].rolpassword,
  );
}

describe('setLoginPasswords()', () => {
  const passwords = { app: 'n3w-App_pa$$word!', readonly: 'r3ad\'only "pass\\word' };

  test('canLogIn: a wrong password is refused with SQLSTATE 28P01, any other failure is an error', async () => {
    expect(await canLogIn(APP_LOGIN, 'not-the-password')).toBe(false);
    await expect(
      canLogIn(APP_LOGIN, TEST_PASSWORDS.app, urlFor('no_such_database', database.url)),
    ).rejects.toMatchObject({ code: '3D000' });
  });

  test('lets both logins authenticate with their new passwords', async () => {
    await setLoginPasswords(database.url, passwords);
    expect([await canLogIn(APP_LOGIN, passwords.app), await canLogIn(READONLY_LOGIN, passwords.readonly)]).toEqual([
      true,
      true,
    ]);
  });

  test('retires the previous passwords', async () => {
    await setLoginPasswords(database.url, passwords);
    expect([
      await canLogIn(APP_LOGIN, TEST_PASSWORDS.app),
      await canLogIn(READONLY_LOGIN, TEST_PASSWORDS.readonly),
    ]).toEqual([false, false]);
  });

  // PostgreSQL 15 would hash a plaintext password itself, with a salt of its own: the stored verifier can equal the
  // text sent only when the client sent a verifier.
  test('sends a SCRAM verifier, which the server stores as sent, and never the password', async () => {
    const sent = await recordingStatements(() => setLoginPasswords(database.url, passwords));
    const alters = sent.filter((text) => text.startsWith('ALTER ROLE'));
    const literal = (text: string) => /PASSWORD '(.*)'$/.exec(text)?.[1];
    expect(alters.map(literal)).toEqual([await storedVerifier(APP_LOGIN), await storedVerifier(READONLY_LOGIN)]);
    expect(alters.map(literal)).toEqual([
      expect.stringMatching(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/),
      expect.stringMatching(/^SCRAM-SHA-256\$4096:/),
    ]);
    const escaped = [passwords.app, passwords.readonly].flatMap((p) => [p, p.replace(/'/g, "''")]);
    expect(sent.filter((text) => escaped.some((password) => text.includes(password)))).toEqual([]);
  });

  // The server refuses the second ALTER ROLE after it has applied the first: only the transaction undoes the first.
  test('changes neither password when the second change fails', async () => {
    const sent = await recordingStatements(
      () => expect(setLoginPasswords(database.url, passwords)).rejects.toMatchObject({ code: '42704' }),
      (text) => text.replace(`ALTER ROLE "${READONLY_LOGIN}"`, 'ALTER ROLE "accessweaver_no_such_login"'),
    );
    expect(sent.filter((text) => text.startsWith('ALTER ROLE')).map((text) => text.split(' ')[2])).toEqual([
      `"${APP_LOGIN}"`,
      '"accessweaver_no_such_login"',
    ]);
    expect([await canLogIn(APP_LOGIN, TEST_PASSWORDS.app), await canLogIn(APP_LOGIN, passwords.app)]).toEqual([
      true,
      false,
    ]);
  });

  test('refuses an unusable password before changing anything', async () => {
    await expect(setLoginPasswords(database.url, { app: 'fine-password', readonly: '' })).rejects.toThrow(
      /readonly password/,
    );
    expect(await canLogIn(APP_LOGIN, TEST_PASSWORDS.app)).toBe(true);
  });
});

describe('scramSha256Verifier()', () => {
  test('salts every verifier', () => {
    expect(scramSha256Verifier('same password')).not.toBe(scramSha256Verifier('same password'));
  });

  test('refuses a password outside printable ASCII', () => {
    expect(() => scramSha256Verifier('pässword')).toThrow(/printable ASCII/);
  });
});

describe('loginPasswordsFromEnvironment()', () => {
  test('reads both passwords', () => {
    expect(loginPasswordsFromEnvironment({ [APP_PASSWORD_VARIABLE]: 'a', [READONLY_PASSWORD_VARIABLE]: 'r' })).toEqual({
      app: 'a',
      readonly: 'r',
    });
  });

  test('is undefined when neither is set', () => {
    expect(loginPasswordsFromEnvironment({})).toBeUndefined();
  });

  test('refuses only one of them', () => {
    expect(() => loginPasswordsFromEnvironment({ [APP_PASSWORD_VARIABLE]: 'a' })).toThrow(/both/);
  });
});
