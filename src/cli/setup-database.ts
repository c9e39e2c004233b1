import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { APP_LOGIN, ENVIRONMENTS, READONLY_LOGIN, ROTATION_CLONE_SUFFIX } from '../config/environments';
import {
  APP_PASSWORD_VARIABLE,
  loginPasswordsFromEnvironment,
  READONLY_PASSWORD_VARIABLE,
  type LoginPasswords,
  type SecretLogins,
} from '../db/logins';
import {
  installTenantContextKey,
  tenantContextKeyFromEnvironment,
  TENANT_CONTEXT_KEY_VARIABLE,
  type TenantContextKey,
} from '../db/tenant-context-keys';
import { readSecretJson, secretString } from './aws';
import type { GlobalOptions, Runner } from './command';
import { resolveConnection, withDatabase, type ResolvedConnection } from './connection';
import type { CliDeps } from './context';
import { ExitCode, failedError, usageError } from './exit-codes';
import { renderRecord, type Reporter } from './output';
import { resolveTarget } from './target';
import { KEY_OVERLAP_DEFAULT_HOURS, readTenantContextKey } from './tenant-context-key';

export interface SetupDatabaseOptions extends GlobalOptions {
  readonly databaseUrl?: string;
  readonly caBundle?: string;
  readonly migrationsDir?: string;
}

/**
 * Reads one login's secret and checks it names the login the migrations create, or its clone (the
 * secret alternates between the two once multi-user rotation has run).
 */
async function loginPassword<L extends string>(
  deps: CliDeps,
  region: string | undefined,
  secretId: string,
  login: L,
): Promise<{ login: L | `${L}${typeof ROTATION_CLONE_SUFFIX}`; password: string }> {
  const secret = await readSecretJson(deps.aws(region).secrets, secretId, `${login} credentials`);
  const username = secretString(secret, 'username', secretId);
  const clone = `${login}${ROTATION_CLONE_SUFFIX}` as const;
  if (username !== login && username !== clone) {
    throw failedError(`Secret ${secretId} is for '${username}', but the migrations create the login '${login}'.`);
  }
  return { login: username as L | typeof clone, password: secretString(secret, 'password', secretId) };
}

/** The passwords and key setup-database installs, and where each came from (for the report). */
interface SetupSources {
  readonly passwords: LoginPasswords;
  readonly logins: SecretLogins;
  readonly key: TenantContextKey;
  readonly from: { readonly app: string; readonly readonly: string; readonly key: string };
  /** What the closing line names: `<project>-<env>`, or the local variables. */
  readonly label: string;
}

const LOCAL_VARIABLES = [APP_PASSWORD_VARIABLE, READONLY_PASSWORD_VARIABLE, TENANT_CONTEXT_KEY_VARIABLE];

/**
 * Passwords and key from the environment variables (a local server, `npm start`): all three or none, so a
 * database is never set up half from the variables and half from AWS.
 */
function localSources(env: Readonly<Record<string, string | undefined>>): SetupSources | undefined {
  let passwords: LoginPasswords | undefined;
  let key: TenantContextKey | undefined;
  try {
    passwords = loginPasswordsFromEnvironment(env);
    key = tenantContextKeyFromEnvironment(env);
  } catch (error) {
    throw usageError((error as Error).message);
  }
  if (passwords === undefined && key === undefined) return undefined;
  if (passwords === undefined || key === undefined) {
    throw usageError(
      `Set ${LOCAL_VARIABLES.join(', ')} together (a database without AWS), or none of them (the environment's ` +
        'secrets).',
    );
  }
  return {
    passwords,
    logins: { app: APP_LOGIN, readonly: READONLY_LOGIN },
    key,
    from: { app: APP_PASSWORD_VARIABLE, readonly: READONLY_PASSWORD_VARIABLE, key: TENANT_CONTEXT_KEY_VARIABLE },
    label: 'this database (passwords and key from the environment)',
  };
}

/** Both login secrets and the key secret of the environment, read before the database is touched. */
async function secretSources(options: SetupDatabaseOptions, deps: CliDeps): Promise<SetupSources> {
  const target = resolveTarget(options);
  const app = await loginPassword(deps, options.region, target.appSecretName, APP_LOGIN);
  const readonly = await loginPassword(deps, options.region, target.readonlySecretName, READONLY_LOGIN);
  const contextKey = await readTenantContextKey(deps, options.region, target.tenantContextKeySecretName);
  return {
    passwords: { app: app.password, readonly: readonly.password },
    logins: { app: app.login, readonly: readonly.login },
    key: contextKey.key,
    from: { app: target.appSecretName, readonly: target.readonlySecretName, key: target.tenantContextKeySecretName },
    label: `${target.project}-${target.env}`,
  };
}

/** What can be checked without AWS or the database, so a bad invocation fails before any of them is reached. */
function checkInputs(options: SetupDatabaseOptions, local: SetupSources | undefined): void {
  if (options.env === undefined && local === undefined) {
    throw usageError(
      `setup-database needs --env (${ENVIRONMENTS.join(', ')}): the app and read-only login passwords come from that ` +
        `environment's secrets, with or without --database-url (or, without AWS, set ${LOCAL_VARIABLES.join(', ')} ` +
        'and give --database-url).',
    );
  }
  const dir = options.migrationsDir;
  if (dir !== undefined && !(existsSync(dir) && statSync(dir).isDirectory())) {
    throw usageError(`--migrations-dir ${path.resolve(dir)} is not a directory.`);
  }
}

/** The project's migrations as the master login; a failure says that nothing after the failing file ran. */
async function migrate(
  connection: ResolvedConnection,
  options: SetupDatabaseOptions,
  deps: CliDeps,
  reporter: Reporter,
): Promise<{ applied: string[]; alreadyApplied: string[] }> {
  try {
    return await deps.database.migrate(connection.url, {
      ...(options.migrationsDir === undefined ? {} : { directory: options.migrationsDir }),
      log: (line) => reporter.progress(`  ${line}`),
    });
  } catch (error) {
    throw failedError(
      `Migrations failed (nothing after the failing file was applied): ${(error as Error).message}`,
      error,
    );
  }
}

/**
 * The tenant-context key from its secret. A newer version in the secret than in the database (rotated elsewhere)
 * becomes current; the one it replaces keeps verifying for the default overlap, as with rotate-tenant-context-key.
 */
async function installKey(connection: ResolvedConnection, key: TenantContextKey, secret: string): Promise<string> {
  try {
    return await withDatabase(connection, (client) =>
      installTenantContextKey(client, key, { overlapSeconds: KEY_OVERLAP_DEFAULT_HOURS * 3600 }),
    );
  } catch (error) {
    throw failedError(
      `Migrations applied, but installing tenant-context key version ${key.version} from ${secret} ` +
        `failed: ${(error as Error).message}`,
      error,
    );
  }
}

/**
 * First setup of the database: the project's migrations, the tenant-context key, then the logins' passwords. Every
 * secret is read and the
 * database reached before anything is written, so a missing secret or an unreachable server leaves
 * the database untouched. The master connection comes from DescribeDBInstances (endpoint, port,
 * DBName) and the RDS-managed secret (username, password): that secret never holds a database
 * name.
 */
export function registerSetupDatabase(program: Command, deps: CliDeps, run: Runner): void {
  program
    .command('setup-database')
    .description(
      'apply the migrations as the master login, install the tenant-context key and set the login passwords, ' +
        'all from their secrets',
    )
    .option(
      '--database-url <url>',
      'master connection URL (also DATABASE_URL) instead of the RDS-managed master secret',
    )
    .option('--ca-bundle <file>', 'RDS CA bundle for TLS verification (also PGSSLROOTCERT)')
    .option('--migrations-dir <dir>', "migrations folder (default: the project's sql/)")
    .action(
      run<SetupDatabaseOptions>(async (options, reporter) => {
        const local = localSources(deps.env);
        checkInputs(options, local);
        const { passwords, logins, key, from, label } = local ?? (await secretSources(options, deps));
        const connection = await resolveConnection(options, 'master', deps);
        reporter.progress(`Setting up ${connection.display}`);
        const user = await withDatabase(
          connection,
          async (client) => (await client.query<{ user: string }>('SELECT current_user AS user')).rows[0].user,
        );

        const migrations = await migrate(connection, options, deps, reporter);
        const keyOutcome = await installKey(connection, key, from.key);
        // Repeatable: an instance whose parameter group gained pgaudit after migrating gets it on the next setup.
        const pgaudit = await withDatabase(
          connection,
          async (client) =>
            (await client.query<{ status: string }>('SELECT accessweaver.install_pgaudit() AS status')).rows[0].status,
        );
        try {
          await deps.database.setLoginPasswords(connection.url, passwords, logins);
        } catch (error) {
          throw failedError(
            `Migrations applied, but setting the login passwords failed: ${(error as Error).message}`,
            error,
          );
        }
        reporter.result(
          {
            database: connection.display,
            user,
            applied: migrations.applied,
            alreadyApplied: migrations.alreadyApplied,
            tenantContextKey: {
              secret: from.key,
              version: key.version,
              outcome: keyOutcome,
            },
            passwordsSet: [logins.app, logins.readonly],
            pgaudit,
          },
          () =>
            renderRecord([
              ['Database', connection.display],
              ['As', user],
              ['Applied', migrations.applied.join(', ') || 'none (up to date)'],
              ['Already applied', migrations.alreadyApplied.length],
              ['Tenant-context key', `version ${key.version} ${keyOutcome} (${from.key})`],
              ['pgaudit', pgaudit],
              ['Passwords set', `${logins.app} (${from.app}), ${logins.readonly} (${from.readonly})`],
            ]) + `Database setup complete for ${label}.\n`,
        );
        return ExitCode.Ok;
      }),
    );
}
