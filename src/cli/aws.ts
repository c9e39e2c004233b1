import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CliError, ExitCode, failedError, unavailableError, usageError } from './exit-codes';

const NOT_FOUND_ERRORS = new Set([
  'DBInstanceNotFoundFault',
  'DBInstanceNotFound',
  'DBSnapshotNotFoundFault',
  'DBSnapshotNotFound',
  'ResourceNotFoundException',
]);

// No credentials or no route to the AWS endpoint: the operator cannot reach AWS at all.
const UNREACHABLE_ERRORS = new Set([
  'CredentialsProviderError',
  'TimeoutError',
  'ENOTFOUND',
  'ECONNREFUSED',
  'EAI_AGAIN',
]);

// The SDK resolves the region (argument, AWS_REGION, profile) before it opens any connection; this is its wording.
const REGION_MISSING = 'Region is missing';

/** Turns an SDK error into the operator's message and exit code; `action` says what was attempted. */
export function awsError(error: unknown, action: string): CliError {
  if (error instanceof CliError) return error;
  const err = error as { name?: string; code?: string; message?: string };
  if (err.message === REGION_MISSING) {
    return usageError(
      `${action}: no AWS region. Pass --region (e.g. --region eu-west-3), or set AWS_REGION or a region in ` +
        `the AWS profile.`,
    );
  }
  const name = err.name ?? 'Error';
  const detail = `${action}: ${name}: ${err.message ?? String(error)}`;
  if (NOT_FOUND_ERRORS.has(name)) return unavailableError(detail);
  if (UNREACHABLE_ERRORS.has(name) || (err.code !== undefined && UNREACHABLE_ERRORS.has(err.code))) {
    return new CliError(
      `${detail} (check AWS credentials, AWS_REGION/--region and network access)`,
      ExitCode.Unavailable,
    );
  }
  return failedError(detail);
}

/** Runs one AWS call, mapping its failure to a CliError naming the call. */
export async function awsCall<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw awsError(error, action);
  }
}

/** Runs one AWS call about a resource that may not exist: undefined when `isNotFound` recognises the failure. */
export async function awsCallUnlessNotFound<T>(
  action: string,
  call: () => Promise<T>,
  isNotFound: (error: unknown) => boolean,
): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw awsError(error, action);
  }
}

/** Reads a secret that must hold a JSON object; `what` names it for the operator. */
export async function readSecretJson(
  secrets: SecretsManagerClient,
  secretId: string,
  what: string,
): Promise<Readonly<Record<string, unknown>>> {
  const output = await awsCall(`GetSecretValue ${secretId} (${what})`, () =>
    secrets.send(new GetSecretValueCommand({ SecretId: secretId })),
  );
  if (output.SecretString === undefined) {
    throw failedError(`Secret ${secretId} (${what}) has no SecretString.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.SecretString);
  } catch {
    throw failedError(`Secret ${secretId} (${what}) is not JSON.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw failedError(`Secret ${secretId} (${what}) is not a JSON object.`);
  }
  return parsed as Record<string, unknown>;
}

/** A string field of a secret, or a clear error naming the secret and the field (never the value). */
export function secretString(secret: Readonly<Record<string, unknown>>, field: string, secretId: string): string {
  const value = secret[field];
  if (typeof value !== 'string' || value === '') {
    throw failedError(`Secret ${secretId} has no '${field}' string.`);
  }
  return value;
}
