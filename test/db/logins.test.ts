import { APP_LOGIN, READONLY_LOGIN } from '../../src/config/environments';
import {
  APP_PASSWORD_VARIABLE,
  READONLY_PASSWORD_VARIABLE,
  loginPasswordsFromEnvironment,
  scramSha256Verifier,
  setLoginPasswords,
} from '../../src/db/logins';
import { createMigratedDatabase, TEST_PASSWORDS, withConnection, type MigratedDatabase } from './fixtures';

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

async function canLogIn(login: string, password: string): Promise<boolean> {
  try {
    return await withConnection(
      database.loginUrl(login, password),
      async (client) => (await client.query<{ user: string }>('SELECT current_user AS user')).rows[0].user === login,
    );
  } catch {
    return false;
  }
}

describe('setLoginPasswords()', () => {
  const passwords = { app: 'n3w-App_pa$$word!', readonly: 'r3ad\'only "pass\\word' };

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

  test('stores a SCRAM verifier, never the password', async () => {
    await setLoginPasswords(database.url, passwords);
    const stored = await withConnection(
      database.url,
      async (client) =>
        (
          await client.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [
            APP_LOGIN,
          ])
        ).rows[0].rolpassword,
    );
    expect(stored).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(stored).not.toContain(passwords.app);
  });

  test('changes neither password when one is unusable', async () => {
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
