/**
 * What `npm start` keeps between runs, next to the cluster: the superuser's password (set once, at initdb), the two
 * logins' passwords and the tenant-context key. Generated on the first run; the folder is git-ignored and the file
 * readable by its owner only.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LoginPasswords } from '../db/logins';
import {
  generateTenantContextKey,
  parseTenantContextKey,
  tenantContextKeySecretString,
  type TenantContextKey,
} from '../db/tenant-context-keys';

export interface LocalState {
  readonly superuserPassword: string;
  readonly passwords: LoginPasswords;
  readonly key: TenantContextKey;
}

/** Where the cluster and the state file live inside the folder. */
export function localPaths(folder: string): { readonly dataDir: string; readonly stateFile: string } {
  return { dataDir: path.join(folder, 'postgres'), stateFile: path.join(folder, 'credentials.json') };
}

// URL-safe, printable ASCII: the passwords go into connection strings and SCRAM verifiers as they are.
const password = () => randomBytes(18).toString('base64url');

/** The state of `folder`, created on first use; a cluster whose credentials were deleted cannot be reused. */
export function loadLocalState(folder: string): LocalState {
  const { dataDir, stateFile } = localPaths(folder);
  if (existsSync(stateFile)) {
    const saved = JSON.parse(readFileSync(stateFile, 'utf8'));
    return {
      superuserPassword: saved.superuserPassword,
      passwords: saved.passwords,
      key: parseTenantContextKey(saved.tenantContextKey, stateFile),
    };
  }
  if (existsSync(dataDir)) {
    throw new Error(
      `${dataDir} holds a cluster but ${stateFile} (its passwords) is gone: delete ${folder} to start afresh.`,
    );
  }
  const state: LocalState = {
    superuserPassword: password(),
    passwords: { app: password(), readonly: password() },
    key: generateTenantContextKey(1),
  };
  mkdirSync(folder, { recursive: true, mode: 0o755 });
  const saved = { ...state, key: undefined, tenantContextKey: tenantContextKeySecretString(state.key) };
  writeFileSync(stateFile, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  return state;
}
