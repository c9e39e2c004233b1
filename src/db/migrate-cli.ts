/**
 * `npm run db:migrate`: applies sql/ to DATABASE_URL (as the master user), then sets the login
 * passwords when ACCESSWEAVER_APP_PASSWORD and ACCESSWEAVER_READONLY_PASSWORD are set, and installs the
 * tenant-context key when ACCESSWEAVER_TENANT_CONTEXT_KEY holds it (the secret's JSON) (local use; on AWS
 * the operations CLI does both from the module's secrets).
 */
import { Client } from 'pg';
import { ExitCode } from '../cli/exit-codes';
import {
  ConnectionLostError,
  DatabaseUnreachableError,
  isConnectionLoss,
  oneLine,
  watchConnection,
} from './connection-loss';
import { loginPasswordsFromEnvironment, setLoginPasswords } from './logins';
import { migrate } from './migrate';
import {
  installTenantContextKey,
  tenantContextKeyFromEnvironment,
  TENANT_CONTEXT_KEY_VARIABLE,
} from './tenant-context-keys';

const URL_SHAPE = 'postgres://USER:PASSWORD@HOST:PORT/DATABASE of the master user';

/** pg reads anything as a connection string ("not a url" becomes host "base"), so the shape is checked first. */
function checkDatabaseUrl(value: string | undefined): string {
  if (!value) throw new Error(`DATABASE_URL is not set (${URL_SHAPE}).`);
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || !['postgres:', 'postgresql:'].includes(url.protocol) || url.hostname === '') {
    // The value is not echoed: it may hold a password.
    throw new Error(`DATABASE_URL is not a PostgreSQL URL (expected ${URL_SHAPE}).`);
  }
  return value;
}

/** What the run is doing, for the one line a lost connection ends it with. */
const progress = { step: 'applying the migrations' };

async function main(): Promise<void> {
  const databaseUrl = checkDatabaseUrl(process.env.DATABASE_URL);
  const passwords = loginPasswordsFromEnvironment();
  const key = tenantContextKeyFromEnvironment();
  const result = await migrate(databaseUrl, { log: (line) => console.log(line) });
  console.log(
    result.applied.length === 0
      ? `Database is up to date (${result.alreadyApplied.length} migrations already applied).`
      : `Applied ${result.applied.length} migration(s); ${result.alreadyApplied.length} were already applied.`,
  );
  if (passwords) {
    progress.step = 'setting the login passwords';
    await setLoginPasswords(databaseUrl, passwords);
    console.log('Set the passwords of accessweaver_app and accessweaver_readonly from the environment.');
  }
  if (key) {
    progress.step = `installing tenant-context key version ${key.version}`;
    const client = new Client({ connectionString: databaseUrl });
    const connection = watchConnection(client);
    await client.connect();
    try {
      const outcome = await installTenantContextKey(client, key, { overlapSeconds: 24 * 3600 });
      console.log(`Tenant-context key version ${key.version} from ${TENANT_CONTEXT_KEY_VARIABLE}: ${outcome}.`);
    } finally {
      await client.end().catch(() => undefined);
      connection.stop();
    }
  }
}

/**
 * The one line a failure ends with, and its exit code: those of accessweaver-rds (docs/runbook.md), 4 when
 * the database cannot be reached or the connection is lost, 1 for any other failure.
 */
function describeFailure(error: unknown, step: string): { line: string; exitCode: number } {
  if (error instanceof DatabaseUnreachableError) {
    return { line: `db:migrate failed: ${oneLine(error)}`, exitCode: ExitCode.Unavailable };
  }
  if (isConnectionLoss(error)) {
    const what =
      error instanceof ConnectionLostError
        ? oneLine(error)
        : `The database connection was lost while ${step} (${oneLine(error)})`;
    return {
      line:
        `db:migrate failed: ${what}. Rerunning db:migrate is safe: each migration is applied and recorded in one ` +
        'transaction, and the passwords and the key are set again to the same values.',
      exitCode: ExitCode.Unavailable,
    };
  }
  return { line: `db:migrate failed: ${oneLine(error)}`, exitCode: ExitCode.Failed };
}

main().catch((error: unknown) => {
  const { line, exitCode } = describeFailure(error, progress.step);
  console.error(line);
  process.exitCode = exitCode;
});
