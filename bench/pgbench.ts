/**
 * pgbench, driven from the benches: the client that sends statements the way drivers do (`-M prepared`: named
 * statements planned once per connection; `-M extended`: unnamed statements, parsed and planned on every
 * execution, as node-pg without `name` and pgjdbc with `prepareThreshold=0`; `-M simple`: one query string with
 * the values inlined), with less client overhead than a Node loop, so the server's share dominates.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { percentile } from './support';

export type ProtocolMode = 'prepared' | 'extended' | 'simple';

export const PROTOCOL_MODES: readonly ProtocolMode[] = ['prepared', 'extended', 'simple'];

const run = promisify(execFile);

/** Debian's pgbench (postgresql-15), or the one on PATH. */
export function pgbenchBinary(): string {
  const debian = '/usr/lib/postgresql/15/bin/pgbench';
  return existsSync(debian) ? debian : 'pgbench';
}

/** One transaction script: its statements, with `:name` where a value of `values` goes. */
export interface BenchScript {
  readonly statements: readonly string[];
  readonly values: Readonly<Record<string, string>>;
}

export interface PgbenchResult {
  /** Transactions per second, without connection time. */
  readonly tps: number;
  /**
   * Server CPU per transaction in milliseconds (user + system time of the postmaster's children over the run), when
   * the server's postmaster is a local process: what a transaction costs the server whatever else the machine
   * runs, and so how many a core sustains.
   */
  readonly serverCpuMs: number | undefined;
  /** Transaction latencies in milliseconds, sorted. */
  readonly latencies: readonly number[];
}

/**
 * Runs `scripts` (chosen at random with equal weight) for `seconds` on `clients` connections to `url`. In
 * simple mode the values are written into the statements as literals, as a client of the simple protocol sends
 * them; otherwise they are pgbench variables, sent as bind parameters.
 */
export async function runPgbench(
  url: string,
  scripts: readonly BenchScript[],
  options: { mode: ProtocolMode; clients: number; seconds: number; pgOptions?: string; postmasterPid?: number },
): Promise<PgbenchResult> {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'aw-pgbench-'));
  try {
    const args = ['-n', '-M', options.mode, '-c', String(options.clients), '-j', String(options.clients)];
    args.push('-T', String(options.seconds), '-l', '--log-prefix', path.join(directory, 'tx'));
    scripts.forEach((script, index) => {
      const file = path.join(directory, `script${index}.sql`);
      writeFileSync(file, scriptText(script, index, options.mode));
      args.push('-f', file);
      if (options.mode !== 'simple') {
        for (const [name, value] of Object.entries(script.values)) args.push('-D', `${name}${index}=${value}`);
      }
    });
    const parsed = new URL(url);
    args.push('-h', parsed.hostname, '-p', parsed.port || '5432', '-U', decodeURIComponent(parsed.username));
    args.push(parsed.pathname.slice(1));
    const env = { ...process.env, PGPASSWORD: decodeURIComponent(parsed.password), PGOPTIONS: options.pgOptions };
    const cpuBefore = postmasterChildrenCpuMs(options.postmasterPid);
    const { stdout } = await run(pgbenchBinary(), args, { env, maxBuffer: 16 * 1024 * 1024 });
    // Backends exit once pgbench has closed its connections; give the postmaster time to collect them.
    if (cpuBefore !== undefined) await new Promise((resolve) => setTimeout(resolve, 300));
    const cpuAfter = postmasterChildrenCpuMs(options.postmasterPid);
    const transactions = Number(/number of transactions actually processed: (\d+)/.exec(stdout)?.[1] ?? Number.NaN);
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    const failed = /number of failed transactions: (\d+)/.exec(stdout);
    if (!tps) throw new Error(`pgbench printed no throughput:\n${stdout}`);
    if (failed && Number(failed[1]) > 0) throw new Error(`pgbench: ${failed[1]} transactions failed`);
    const serverCpuMs =
      cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / transactions;
    return { tps: Number(tps[1]), serverCpuMs, latencies: readLatencies(directory) };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat from the state on (field 3 is index 0), or undefined once the process is gone. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU in milliseconds of the postmaster's children: those it has collected (cutime + cstime) and those still
 * running (utime + stime), since a pooler keeps its server connections open.
 */
function postmasterChildrenCpuMs(pid: number | undefined): number | undefined {
  const postmaster = pid === undefined ? undefined : statFields(pid);
  if (pid === undefined || postmaster === undefined) return undefined;
  let ticks = Number(postmaster[13]) + Number(postmaster[14]);
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const fields = statFields(entry);
    if (fields && Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

function scriptText(script: BenchScript, index: number, mode: ProtocolMode): string {
  const lines = script.statements.map((statement) =>
    statement.replace(/:([a-z_]+)/g, (match, name: string) => {
      if (!(name in script.values)) return match;
      return mode === 'simple' ? `'${script.values[name].replace(/'/g, "''")}'` : `:${name}${index}`;
    }),
  );
  // pgbench reads one statement per line (a line may not break inside a statement in the script).
  return lines.map((line) => `${line.replace(/\s+/g, ' ').trim()};`).join('\n') + '\n';
}

/** pgbench -l writes one line a transaction: client, number, latency in µs, script, epoch, µs. */
function readLatencies(directory: string): number[] {
  const latencies: number[] = [];
  for (const file of readdirSync(directory).filter((name) => name.startsWith('tx.'))) {
    for (const line of readFileSync(path.join(directory, file), 'utf8').split('\n')) {
      const fields = line.split(' ');
      if (fields.length >= 3) latencies.push(Number(fields[2]) / 1000);
    }
  }
  return latencies.sort((x, y) => x - y);
}

export function p95(result: PgbenchResult): number {
  return percentile(result.latencies, 0.95);
}
