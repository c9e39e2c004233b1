/**
 * `npm run db:migrate`: applies sql/ to DATABASE_URL (as the master user), then sets the login
 * passwords when ACCESSWEAVER_APP_PASSWORD and ACCESSWEAVER_READONLY_PASSWORD are set (local use;
 * on AWS the operations CLI sets them from the credential secrets).
 */
import { loginPasswordsFromEnvironment, setLoginPasswords } from './logins';
import { migrate } from './migrate';

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    throw new Error('DATABASE_URL is not set (postgres://USER:PASSWORD@HOST:PORT/DATABASE of the master user).');
  }
  const passwords = loginPasswordsFromEnvironment();
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
}

main().catch((error: unknown) => {
  console.error(`db:migrate failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
