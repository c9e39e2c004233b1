/**
 * `npm run db:migrate`: applies sql/ to DATABASE_URL (as the master user), then sets the login
 * passwords when ACCESSWEAVER_APP_PASSWORD and ACCESSWEAVER_READONLY_PASSWORD are set, and installs the
 * tenant-context key when ACCESSWEAVER_TENANT_CONTEXT_KEY holds it (the secret's JSON) (local use; on AWS
 * the operations CLI does both from the module's secrets).
 */
import { Client } from 'pg';
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
    await setLoginPasswords(databaseUrl, passwords);
    console.log('Set the passwords of accessweaver_app and accessweaver_readonly from the environment.');
  }
  if (key) {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const outcome = await installTenantContextKey(client, key, { overlapSeconds: 24 * 3600 });
      console.log(`Tenant-context key version ${key.version} from ${TENANT_CONTEXT_KEY_VARIABLE}: ${outcome}.`);
    } finally {
      await client.end();
    }
  }
}

main().catch((error: unknown) => {
  console.error(`db:migrate failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
