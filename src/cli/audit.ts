import { Command, InvalidArgumentError } from 'commander';
import { isTenantId } from '../db/tenant-context';
import { createAuditPartitions, pruneAuditEvents, tenantEvents, type AuditEvent } from './audit-trail';
import { positiveInteger, type GlobalOptions, type Runner } from './command';
import { confirmDestructive } from './confirm';
import { chosenLogin, connectAs, requireOwner, sqlOptions, withDatabase, type SqlCommandOptions } from './connection';
import type { CliDeps } from './context';
import { ExitCode, usageError } from './exit-codes';
import { renderTable, type Reporter } from './output';

/** Months of events retention keeps besides the current one (docs/database.md, "Audit trail"). */
export const AUDIT_RETENTION_MONTHS = 12;
/** Months ahead of the current one that `audit partitions` (and the migration) create. */
export const AUDIT_MONTHS_AHEAD = 3;

type AuditConnectionOptions = SqlCommandOptions & GlobalOptions;

interface ExportOptions extends AuditConnectionOptions {
  readonly tenant?: string;
  readonly since?: Date;
  readonly until?: Date;
}

interface PruneOptions extends AuditConnectionOptions {
  readonly keepMonths: number;
  readonly dryRun?: boolean;
  readonly yes?: boolean;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A date (midnight UTC) or an ISO 8601 time with a zone: "since 02:00" must not mean the laptop's zone. */
export function parseInstant(value: string): Date {
  const parsed = new Date(value);
  if (!ISO_INSTANT.test(value) || Number.isNaN(parsed.getTime())) {
    throw new InvalidArgumentError('expected a date (2026-11-01) or an ISO 8601 time with a zone (2026-11-01T08:00Z).');
  }
  return parsed;
}

function tenantId(value: string): string {
  if (!isTenantId(value)) throw new InvalidArgumentError('expected a tenant id (UUID).');
  return value.toLowerCase();
}

const connectionOptions = (command: Command) => sqlOptions(command, 'operator');

/**
 * The export reads every tenant's events through accessweaver_operator (the IAM operator login by default, or the
 * master user); partitions and pruning change the partitions, which only their owner, the master user, may.
 */
async function connect(options: AuditConnectionOptions, deps: CliDeps, reporter: Reporter, ownerNeeded: boolean) {
  const login = chosenLogin(options);
  if (ownerNeeded) requireOwner(options, deps.env, "audit partitions and prune need the partitions' owner");
  if (login === 'app' || login === 'readonly') {
    throw usageError(
      'audit reads every tenant through accessweaver_operator: use --login operator (the default) or --master-secret.',
    );
  }
  return connectAs(options, deps, reporter, login);
}

function describeChanges(event: AuditEvent): string {
  return JSON.stringify(event.changes);
}

function renderEvents(events: readonly AuditEvent[]): string {
  return (
    renderTable<AuditEvent>(
      [
        { header: 'TIME', value: (e) => e.occurredAt },
        { header: 'ACTOR', value: (e) => e.actorId },
        { header: 'LOGIN', value: (e) => e.login },
        { header: 'ACTION', value: (e) => e.action },
        { header: 'TABLE', value: (e) => e.table },
        { header: 'ROW', value: (e) => JSON.stringify(e.rowKey), maxWidth: 90 },
        { header: 'CHANGES', value: describeChanges, maxWidth: 100 },
      ],
      events,
    ) + `${events.length} events.\n`
  );
}

function registerPrune(audit: Command, deps: CliDeps, run: Runner): void {
  connectionOptions(
    audit
      .command('prune')
      .description(
        `drop the months of events older than the retention (${AUDIT_RETENTION_MONTHS} full months; ` +
          `destructive: needs --yes or confirmation)`,
      ),
  )
    .option('--keep-months <n>', 'full months to keep before the current one', positiveInteger, AUDIT_RETENTION_MONTHS)
    .option('--dry-run', 'list what would be removed and stop')
    .option('--yes', 'do not ask for confirmation')
    .action(
      run<PruneOptions>(async (options, reporter) => {
        const connection = await connect(options, deps, reporter, true);
        const asOf = deps.clock.now();
        const removed = await withDatabase(connection, async (client) => {
          const expired = await pruneAuditEvents(client, { keepMonths: options.keepMonths, asOf, dryRun: true });
          reporter.info(
            renderTable(
              [
                { header: 'PARTITION', value: (p: (typeof expired)[number]) => p.partition },
                { header: 'FROM', value: (p: (typeof expired)[number]) => p.rangeStart },
                { header: 'TO', value: (p: (typeof expired)[number]) => p.rangeEnd },
                { header: 'EVENTS', value: (p: (typeof expired)[number]) => p.events, align: 'right' },
              ],
              expired,
            ).trimEnd(),
          );
          if (expired.length === 0 || options.dryRun === true) return { expired, dropped: false };
          const database = new URL(connection.url).pathname.slice(1);
          await confirmDestructive({
            yes: options.yes === true,
            terminal: deps.terminal,
            identifier: decodeURIComponent(database),
            label: 'database name',
            action: `delete ${expired.reduce((n, p) => n + p.events, 0)} audit events`,
          });
          return { expired: await pruneAuditEvents(client, { ...options, asOf, dryRun: false }), dropped: true };
        });
        const total = removed.expired.reduce((n, p) => n + p.events, 0);
        reporter.result(
          { operation: 'audit prune', keepMonths: options.keepMonths, dryRun: !removed.dropped, ...removed },
          () =>
            removed.dropped
              ? `Removed ${total} audit events older than ${options.keepMonths} full months.\n`
              : `Nothing removed` +
                `${removed.expired.length === 0 ? ': no events older than the retention' : ' (dry run)'}.\n`,
        );
        return ExitCode.Ok;
      }),
    );
}

function registerPartitions(audit: Command, deps: CliDeps, run: Runner): void {
  connectionOptions(
    audit
      .command('partitions')
      .description(`create the audit partitions of this month and the next ones (run monthly; safe to repeat)`),
  )
    .option('--months-ahead <n>', 'months after the current one', positiveInteger, AUDIT_MONTHS_AHEAD)
    .action(
      run<AuditConnectionOptions & { readonly monthsAhead: number }>(async (options, reporter) => {
        const connection = await connect(options, deps, reporter, true);
        const created = await withDatabase(connection, (client) =>
          createAuditPartitions(client, options.monthsAhead, deps.clock.now()),
        );
        reporter.result(
          { operation: 'audit partitions', created },
          () => `${created.length === 0 ? 'All partitions exist' : `Created ${created.join(', ')}`}.\n`,
        );
        return ExitCode.Ok;
      }),
    );
}

/**
 * The audit trail (sql/0009_audit_trail.sql): `audit --tenant --since` exports one tenant's events;
 * `audit prune` applies the retention; `audit partitions` creates the coming months.
 */
export function registerAudit(program: Command, deps: CliDeps, run: Runner): void {
  const audit = connectionOptions(
    program
      .command('audit')
      .description("one tenant's audit events (prune | partitions for retention and upkeep)")
      .option('--tenant <id>', 'tenant id (UUID)', tenantId)
      .option('--since <time>', 'first instant, inclusive (date or ISO 8601 time with a zone)', parseInstant)
      .option('--until <time>', 'last instant, exclusive (default: now)', parseInstant),
  ).action(
    run<ExportOptions>(async (options, reporter) => {
      if (options.tenant === undefined || options.since === undefined) {
        throw usageError('audit needs --tenant <id> and --since <time> (or a subcommand: prune, partitions).');
      }
      const until = options.until ?? deps.clock.now();
      if (options.since.getTime() >= until.getTime()) {
        throw usageError(
          `--since ${options.since.toISOString()} is not before ${options.until === undefined ? 'now' : '--until'} ` +
            `(${until.toISOString()}): the window holds no event.`,
        );
      }
      const connection = await connect(options, deps, reporter, false);
      const query = { tenantId: options.tenant, since: options.since, until: options.until };
      const events = await withDatabase(connection, (client) => tenantEvents(client, query));
      reporter.result({ tenant: options.tenant, since: options.since, until: options.until ?? null, events }, () =>
        renderEvents(events),
      );
      return ExitCode.Ok;
    }),
  );
  registerPrune(audit, deps, run);
  registerPartitions(audit, deps, run);
}
