/**
 * A database connection lost in the middle of a command (failover, restart, pg_terminate_backend):
 * one line saying what the command was doing and whether running it again is safe, exit code 4. The
 * mapping is here, applied once around every command in main.ts, rather than in each command.
 */
import type { Command } from 'commander';
import { isConnectionLoss, oneLine } from '../db/connection-loss';
import { CliError, ExitCode } from './exit-codes';

const READ_ONLY = 'it only reads, so running it again is safe';

/** What a rerun does after a lost connection, per command (path below the program name). */
const RERUN: Readonly<Record<string, string>> = {
  'health-check': READ_ONLY,
  monitoring: READ_ONLY,
  audit: READ_ONLY,
  'maintenance stats': READ_ONLY,
  'maintenance connections': READ_ONLY,
  'maintenance slow-queries': READ_ONLY,
  'maintenance vacuum':
    'each table is vacuumed in its own statement and keeps what was done, so running it again is safe',
  'maintenance reindex':
    'running it again is safe; an index whose concurrent rebuild was cut off stays invalid, and the rerun names it ' +
    'to drop with DROP INDEX CONCURRENTLY',
  'audit partitions': 'partitions are created in one transaction, so running it again is safe',
  'audit prune': 'the months are dropped in one transaction (all or none), so running it again is safe',
  'setup-database':
    'each migration is applied and recorded in one transaction, and the key and passwords are set to the same ' +
    'values again, so running it again is safe',
  'rotate-tenant-context-key':
    'the next run finishes the rotation with the same pending key, so running it again is safe',
  'restore-drill': 'a new run restores a new temporary copy, so running it again is safe',
};

/** `maintenance vacuum` for the vacuum subcommand: the names below the program's own. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current?.parent; current = current.parent) names.unshift(current.name());
  return names.join(' ');
}

/** `error` as the CLI reports it: a lost connection becomes one line with exit 4, anything else is left as is. */
export function reportConnectionLoss(error: unknown, command: string): unknown {
  if (!isConnectionLoss(error)) return error;
  const rerun = RERUN[command] ?? 'check what it changed before running it again';
  const text = oneLine(error).replace(/\.$/, '');
  const what = /connection\b.* was lost/i.test(text) ? text : `the database connection was lost: ${text}`;
  return new CliError(`${command}: ${what}. ${rerun[0].toUpperCase()}${rerun.slice(1)}.`, ExitCode.Unavailable, {
    cause: error,
  });
}
