import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import {
  generateTenantContextKey,
  installedKeyVersions,
  installTenantContextKey,
  parseTenantContextKey,
  tenantContextKeySecretString,
  type InstalledKeyVersion,
  type TenantContextKey,
} from '../db/tenant-context-keys';
import { MAX_KEY_VERSION } from '../db/tenant-context';
import { awsCall, awsError } from './aws';
import { positiveInteger, type GlobalOptions, type Runner } from './command';
import { resolveConnection, withDatabase, type ResolvedConnection } from './connection';
import type { CliDeps } from './context';
import type { CheckResult } from './health-check';
import { ExitCode, failedError } from './exit-codes';
import { renderRecord, type Reporter } from './output';
import { planAndConfirm, type PlannedStep } from './rds-flows';
import { resolveTarget, type Target } from './target';

/**
 * How long a replaced key keeps verifying by default: the issuing service reads the secret when a task starts,
 * so running tasks sign with the previous version until they are replaced. A day covers a deployment and the
 * contexts' own lifetimes (minutes) with margin.
 */
export const KEY_OVERLAP_DEFAULT_HOURS = 24;

/**
 * The longest a tenant-context key may sign: beyond it `health-check` fails. Rotation is an operator's act (it
 * installs the key as the master user), so the age is what is watched; 90 days leaves a quarter's margin inside a
 * yearly key-rotation policy and matches the credentials' three rotations.
 */
export const KEY_MAX_AGE_DAYS = 90;
const DAY_MS = 86_400_000;

/**
 * Age of the signing key: the creation date of the secret's AWSCURRENT version, which `rotate-tenant-context-key`
 * stores just before installing it (and Terraform seeds before `setup-database` installs the first). Reads
 * version metadata only (`ListSecretVersionIds`), never the key.
 */
export async function keyAgeCheck(
  secrets: SecretsManagerClient,
  secretId: string,
  now: Date,
  maxAgeDays = KEY_MAX_AGE_DAYS,
): Promise<CheckResult> {
  const check = 'tenant-context key age';
  let current: { CreatedDate?: Date } | undefined;
  let token: string | undefined;
  try {
    do {
      const page = await awsCall(`ListSecretVersionIds ${secretId}`, () =>
        secrets.send(new ListSecretVersionIdsCommand({ SecretId: secretId, ...(token ? { NextToken: token } : {}) })),
      );
      current = page?.Versions?.find((v) => v.VersionStages?.includes('AWSCURRENT'));
      token = current === undefined ? page?.NextToken : undefined;
    } while (token !== undefined);
  } catch (error) {
    return { check, status: 'fail', detail: (error as Error).message };
  }
  if (current?.CreatedDate === undefined)
    return { check, status: 'skipped', detail: `${secretId}: no current version` };
  const days = Math.floor((now.getTime() - current.CreatedDate.getTime()) / DAY_MS);
  return {
    check,
    status: days > maxAgeDays ? 'fail' : 'ok',
    detail:
      `current key stored ${current.CreatedDate.toISOString()}, ${days} days ago (at most ${maxAgeDays}` +
      `${days > maxAgeDays ? ': run rotate-tenant-context-key' : ''})`,
  };
}

/** A version of the key secret: its value and the Secrets Manager version that holds it. */
export interface KeySecretVersion {
  readonly key: TenantContextKey;
  readonly versionId: string;
}

/** The current key of the secret `secretId` (`{"version", "key"}`), with the Secrets Manager version holding it. */
export async function readTenantContextKey(
  deps: CliDeps,
  region: string | undefined,
  secretId: string,
): Promise<KeySecretVersion> {
  const found = await readKeyStage(deps.aws(region).secrets, secretId, 'AWSCURRENT');
  if (found === undefined) throw failedError(`Secret ${secretId} has no current version.`);
  return found;
}

async function readKeyStage(
  secrets: SecretsManagerClient,
  secretId: string,
  stage: 'AWSCURRENT' | 'AWSPENDING',
): Promise<KeySecretVersion | undefined> {
  let output;
  try {
    output = await secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
  } catch (error) {
    // A secret without a pending version answers ResourceNotFoundException for that stage.
    if (stage === 'AWSPENDING' && (error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw awsError(error, `GetSecretValue ${secretId} (${stage}, tenant-context key)`);
  }
  if (output.SecretString === undefined || output.VersionId === undefined) {
    throw failedError(`Secret ${secretId} (${stage}) has no SecretString.`);
  }
  try {
    return { key: parseTenantContextKey(output.SecretString, `Secret ${secretId}`), versionId: output.VersionId };
  } catch (error) {
    throw failedError((error as Error).message);
  }
}

export interface RotateKeyOptions extends GlobalOptions {
  readonly databaseUrl?: string;
  readonly caBundle?: string;
  readonly overlapHours: number;
  readonly yes?: boolean;
  readonly dryRun?: boolean;
}

/** The version to install next: a pending one left by an interrupted rotation is finished, not replaced. */
function nextVersion(current: KeySecretVersion, pending: KeySecretVersion | undefined) {
  const version = current.key.version + 1;
  if (version > MAX_KEY_VERSION) throw failedError(`Key version ${current.key.version} is the last one allowed.`);
  if (pending !== undefined && pending.versionId !== current.versionId && pending.key.version === version) {
    return { key: pending.key, versionId: pending.versionId, reused: true };
  }
  return { key: generateTenantContextKey(version), versionId: randomUUID(), reused: false };
}

function rotationSteps(
  target: Target,
  current: KeySecretVersion,
  next: ReturnType<typeof nextVersion>,
  overlapHours: number,
): PlannedStep[] {
  const secretId = target.tenantContextKeySecretName;
  return [
    next.reused
      ? {
          operation: 'PutSecretValue',
          note: `skipped: version ${next.key.version} is already pending (${next.versionId})`,
        }
      : {
          operation: 'PutSecretValue',
          // The key itself is never printed.
          input: { SecretId: secretId, ClientRequestToken: next.versionId, VersionStages: ['AWSPENDING'] },
          note: `new random key, version ${next.key.version}`,
        },
    {
      operation: 'SQL',
      note:
        `install key version ${next.key.version} as current; version ${current.key.version} keeps verifying ` +
        `for ${overlapHours} h`,
    },
    {
      operation: 'UpdateSecretVersionStage',
      input: {
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: next.versionId,
        RemoveFromVersionId: current.versionId,
      },
    },
    {
      operation: 'UpdateSecretVersionStage',
      input: { SecretId: secretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: next.versionId },
    },
  ];
}

/**
 * The secret goes first, as AWSPENDING, so a rotation interrupted after it is finished by the next run with the
 * same key; then the database (new version current, previous verifying for the overlap); then the secret's
 * AWSCURRENT label, which is what the issuing service reads when its tasks start.
 */
async function rotate(
  secrets: SecretsManagerClient,
  connection: ResolvedConnection,
  target: Target,
  current: KeySecretVersion,
  next: ReturnType<typeof nextVersion>,
  overlapHours: number,
  reporter: Reporter,
): Promise<InstalledKeyVersion[]> {
  const secretId = target.tenantContextKeySecretName;
  if (!next.reused) {
    reporter.progress(`Storing key version ${next.key.version} in ${secretId} as AWSPENDING`);
    await awsCall(`PutSecretValue ${secretId}`, () =>
      secrets.send(
        new PutSecretValueCommand({
          SecretId: secretId,
          ClientRequestToken: next.versionId,
          SecretString: tenantContextKeySecretString(next.key),
          VersionStages: ['AWSPENDING'],
        }),
      ),
    );
  }
  reporter.progress(`Installing key version ${next.key.version} in ${connection.display}`);
  const installed = await withDatabase(connection, async (client) => {
    await installTenantContextKey(client, next.key, { overlapSeconds: overlapHours * 3600 });
    return installedKeyVersions(client);
  });
  reporter.progress(`Making version ${next.key.version} current in ${secretId}`);
  await awsCall(`UpdateSecretVersionStage ${secretId} AWSCURRENT`, () =>
    secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: next.versionId,
        RemoveFromVersionId: current.versionId,
      }),
    ),
  );
  await awsCall(`UpdateSecretVersionStage ${secretId} AWSPENDING`, () =>
    secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: next.versionId,
      }),
    ),
  );
  return installed;
}

export function registerRotateTenantContextKey(program: Command, deps: CliDeps, run: Runner): void {
  program
    .command('rotate-tenant-context-key')
    .description(
      'new tenant-context signing key: stored in its secret and installed in the database; the previous key keeps ' +
        'verifying for the overlap (needs --yes or confirmation)',
    )
    .option(
      '--overlap-hours <hours>',
      'how long the previous key keeps verifying',
      positiveInteger,
      KEY_OVERLAP_DEFAULT_HOURS,
    )
    .option(
      '--database-url <url>',
      'master connection URL (also DATABASE_URL) instead of the RDS-managed master secret',
    )
    .option('--ca-bundle <file>', 'RDS CA bundle for TLS verification (also PGSSLROOTCERT)')
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'print what would be done and stop (only reads are made)')
    .action(
      run<RotateKeyOptions>(async (options, reporter) => {
        const target = resolveTarget(options);
        const secretId = target.tenantContextKeySecretName;
        const { secrets } = deps.aws(options.region);
        const current = await readTenantContextKey(deps, options.region, secretId);
        const pending = await readKeyStage(secrets, secretId, 'AWSPENDING');
        const next = nextVersion(current, pending);
        // Only the master user may install keys; the connection is checked before anything is written.
        const connection = await resolveConnection(options, 'master', deps);
        // The database's current key is the secret's, or the pending one when an interrupted run installed it.
        const before = await withDatabase(connection, installedKeyVersions);
        const databaseCurrent = before.find((row) => row.validUntil === null)?.version;
        if (databaseCurrent !== current.key.version && !(next.reused && databaseCurrent === next.key.version)) {
          throw failedError(
            `Key version ${current.key.version} of ${secretId} is not the current key of ${connection.display} ` +
              `(${databaseCurrent === undefined ? 'none is installed' : `version ${databaseCurrent} is`}): ` +
              `run setup-database first.`,
          );
        }
        const proceed = await planAndConfirm(
          {
            title:
              `Rotate the tenant-context key of ${target.project}-${target.env} (${secretId}, ` +
              `${connection.display}):`,
            steps: rotationSteps(target, current, next, options.overlapHours),
            identifier: target.primaryIdentifier,
            action: 'rotate its tenant-context key',
          },
          { ...options, deps, reporter },
        );
        if (!proceed) return ExitCode.Ok;
        const installed = await rotate(secrets, connection, target, current, next, options.overlapHours, reporter);
        const previous = installed.find((row) => row.version === current.key.version);
        const validUntil = previous?.validUntil?.toISOString() ?? null;
        const nextStep =
          `Redeploy the service that issues tenant contexts before ${validUntil ?? 'the overlap ends'}: it ` +
          `reads the key when its tasks start.`;
        reporter.result(
          {
            secret: secretId,
            version: next.key.version,
            previousVersion: current.key.version,
            previousValidUntil: validUntil,
            installed,
            nextStep,
          },
          () =>
            renderRecord([
              ['Secret', secretId],
              ['Current version', next.key.version],
              ['Previous version', `${current.key.version}, verifies until ${validUntil ?? '(unknown)'}`],
            ]) + `\n${nextStep}\n`,
        );
        return ExitCode.Ok;
      }),
    );
}
