/**
 * Running Terraform offline (the tests, `npm run module:plan`): the AWS provider from the machine's filesystem
 * mirror, a loopback stand-in for the few AWS read APIs the module's data sources call (aws-stand-in.ts), and a copy
 * of the module without hashicorp/random (not available offline).
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PROVIDER_MIRROR = process.env.ACCESSWEAVER_TF_MIRROR ?? '/opt/tf-plugins';

/** `namespace/name` of every provider in the mirror (registry.terraform.io only). */
export function mirroredProviders(): string[] {
  const registry = path.join(PROVIDER_MIRROR, 'registry.terraform.io');
  if (!existsSync(registry)) return [];
  return readdirSync(registry).flatMap((namespace) =>
    readdirSync(path.join(registry, namespace)).map((name) => `${namespace}/${name}`),
  );
}

function terraformVersion(): string | undefined {
  try {
    return execFileSync('terraform', ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(
      '\n',
    )[0];
  } catch {
    return undefined;
  }
}

/** Why the Terraform tests cannot run here, or undefined when they can. */
export function terraformUnavailableReason(): string | undefined {
  if (!terraformVersion()) return 'terraform is not on PATH';
  if (!mirroredProviders().includes('hashicorp/aws')) return `no hashicorp/aws provider mirror at ${PROVIDER_MIRROR}`;
  return undefined;
}

let cliConfig: string | undefined;
/** Environment for terraform: every provider from the mirror and none from the network, a shared plugin cache. */
export function terraformEnv(): NodeJS.ProcessEnv {
  if (!cliConfig) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tf-cli-'));
    mkdirSync(path.join(dir, 'plugin-cache'));
    cliConfig = path.join(dir, 'terraform.rc');
    writeFileSync(
      cliConfig,
      `plugin_cache_dir = "${path.join(dir, 'plugin-cache')}"
provider_installation {
  filesystem_mirror {
    path    = "${PROVIDER_MIRROR}"
    include = ["registry.terraform.io/*/*"]
  }
}
`,
    );
  }
  return {
    ...process.env,
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    AWS_ACCESS_KEY_ID: 'offline',
    AWS_SECRET_ACCESS_KEY: 'offline',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

export interface TerraformResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs terraform asynchronously: a stand-in server in this process must keep answering while it runs. */
export function terraform(cwd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<TerraformResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('terraform', [...args, '-no-color'], {
      cwd,
      env: { ...terraformEnv(), ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

/** Runs terraform and throws with its output when it fails. */
export async function terraformOk(cwd: string, args: string[]): Promise<string> {
  const result = await terraform(cwd, args);
  if (result.status !== 0) {
    throw new Error(`terraform ${args.join(' ')} failed in ${cwd}:\n${result.stderr}\n${result.stdout}`);
  }
  return result.stdout;
}

/** The random resources of the module and the terraform_data stand-ins that replace them offline. */
export const OFFLINE_RANDOM_STAND_INS = [
  { type: 'random_password', name: 'app_password', attribute: 'result' },
  { type: 'random_password', name: 'readonly_password', attribute: 'result' },
  { type: 'random_id', name: 'final_snapshot', attribute: 'hex' },
  { type: 'random_bytes', name: 'tenant_context_key', attribute: 'base64' },
] as const;

/**
 * Copies modules/rds to `destination` for offline use: each random resource becomes a `terraform_data` whose
 * `output` the references read instead, and hashicorp/random leaves required_providers. Everything else is the
 * module byte for byte. Throws when the module's random resources are not exactly the expected ones, so the
 * stand-in cannot silently drift from the module.
 */
export function offlineModuleCopy(moduleDir: string, destination: string): void {
  rmSync(destination, { recursive: true, force: true });
  cpSync(moduleDir, destination, { recursive: true });
  const mainPath = path.join(destination, 'main.tf.json');
  const main = JSON.parse(readFileSync(mainPath, 'utf8'));
  const found = Object.entries(main.resource as Record<string, Record<string, unknown>>)
    .filter(([type]) => type.startsWith('random_'))
    .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`))
    .sort();
  const expected = OFFLINE_RANDOM_STAND_INS.map((r) => `${r.type}.${r.name}`).sort();
  if (JSON.stringify(found) !== JSON.stringify(expected)) {
    throw new Error(`random resources changed: found ${found.join(', ')}, expected ${expected.join(', ')}`);
  }
  main.resource.terraform_data = main.resource.terraform_data ?? {};
  for (const r of OFFLINE_RANDOM_STAND_INS) {
    delete main.resource[r.type][r.name];
    if (Object.keys(main.resource[r.type]).length === 0) delete main.resource[r.type];
    main.resource.terraform_data[`${r.type}_${r.name}`] = { input: `offline-${r.name}` };
  }
  let text = JSON.stringify(main, null, 2);
  for (const r of OFFLINE_RANDOM_STAND_INS) {
    text = text.split(`${r.type}.${r.name}.${r.attribute}`).join(`terraform_data.${r.type}_${r.name}.output`);
  }
  writeFileSync(mainPath, text);
  const versionsPath = path.join(destination, 'versions.tf.json');
  const versions = JSON.parse(readFileSync(versionsPath, 'utf8'));
  delete versions.terraform.required_providers.random;
  writeFileSync(versionsPath, JSON.stringify(versions, null, 2));
}
