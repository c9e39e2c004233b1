import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

// `npm start` as a developer runs it: its own process, a port and a data folder of its own.
const ROOT = path.resolve(__dirname, '..', '..');

/** Listens on `port` (0: any) and closes again: the port, or a rejection when it is taken. */
function freePort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Started {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

function start(port: number, folder: string): Started {
  const args = ['--import', 'tsx', 'src/local/start.ts', '--port', String(port), '--data-dir', folder];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => (stdout += chunk));
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Resolves once the summary is printed; rejects with the process's stderr if it exits first. */
async function ready(started: Started): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (/^Try$/m.test(started.stdout())) resolve(started.stdout());
    };
    started.child.stdout?.on('data', check);
    void started.exited.then((code) => reject(new Error(`npm start exited ${code}: ${started.stderr()}`)));
  });
}

const urlOf = (summary: string, label: string) => new RegExp(`^  ${label} +(postgres://\\S+)$`, 'm').exec(summary)?.[1];
const tenantOf = (summary: string, subdomain: string) => {
  const match = new RegExp(`^  ${subdomain} +(\\S+)  (awtc1\\.\\S+)$`, 'm').exec(summary);
  return { id: match?.[1], context: match?.[2] };
};

async function emailsSeen(url: string, context: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT accessweaver.set_tenant_context($1)', [context]);
    const { rows } = await client.query<{ email: string }>('SELECT email FROM accessweaver.users ORDER BY email');
    await client.query('COMMIT');
    return rows.map((r) => r.email);
  } finally {
    await client.end();
  }
}

let folder: string;

beforeEach(() => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'aw-start-'));
  // As root the server runs as `postgres`, which must enter the folder (mkdtemp makes it 0700).
  chmodSync(folder, 0o755);
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

test('serves the schema to both logins, each tenant sees only its own user, and Ctrl-C stops it', async () => {
  const port = await freePort();
  const started = start(port, folder);
  try {
    const summary = await ready(started);
    const acme = tenantOf(summary, 'acme');
    const globex = tenantOf(summary, 'globex');
    expect(await emailsSeen(urlOf(summary, 'app login') ?? '', acme.context ?? '')).toEqual(['alice@acme.example']);
    expect(await emailsSeen(urlOf(summary, 'read-only login') ?? '', globex.context ?? '')).toEqual([
      'bob@globex.example',
    ]);
  } finally {
    started.child.kill('SIGINT');
  }
  expect(await started.exited).toBe(0);
  await expect(freePort(port)).resolves.toBe(port);
});

test('keeps its data between runs: a second start serves the same tenants', async () => {
  const port = await freePort();
  const ids: (string | undefined)[] = [];
  for (let run = 0; run < 2; run++) {
    const started = start(port, folder);
    try {
      ids.push(tenantOf(await ready(started), 'acme').id);
    } finally {
      started.child.kill('SIGINT');
    }
    expect(await started.exited).toBe(0);
  }
  expect(ids[0]).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
  expect(ids[1]).toBe(ids[0]);
});

test('on a port already taken: says what to do, exit 1, and leaves nothing running', async () => {
  const holder = net.createServer();
  const port = await new Promise<number>((resolve) =>
    holder.listen(0, '127.0.0.1', () => resolve((holder.address() as net.AddressInfo).port)),
  );
  try {
    const started = start(port, folder);
    expect(await started.exited).toBe(1);
    expect(started.stderr()).toBe(
      `npm start: Port ${port} is already in use: is \`npm start\` running in another terminal, or another ` +
        `PostgreSQL? Stop it, or choose another port: npm start -- --port ${port + 1} ` +
        `(or ACCESSWEAVER_LOCAL_PORT=${port + 1}).\n`,
    );
  } finally {
    holder.close();
  }
});
