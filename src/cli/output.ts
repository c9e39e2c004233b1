import type { Terminal } from './context';

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => unknown;
  readonly align?: 'left' | 'right';
  /** Longer cells are cut with an ellipsis (query texts would otherwise wreck the table). */
  readonly maxWidth?: number;
}

export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value).replace(/\s+/g, ' ').trim();
}

function fit(text: string, maxWidth: number | undefined): string {
  if (maxWidth === undefined || text.length <= maxWidth) return text;
  return `${text.slice(0, Math.max(0, maxWidth - 1))}…`;
}

/** A plain-text table: header, dashed rule, one line per row; `(none)` when there are no rows. */
export function renderTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((row) => columns.map((c) => fit(formatCell(c.value(row)), c.maxWidth)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((line) => line[i].length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (columns[i].align === 'right' ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return (
    [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n'
  );
}

/** Label/value pairs, labels aligned: for one record (an instance, a plan). */
export function renderRecord(pairs: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${formatCell(value)}`.trimEnd()).join('\n') + '\n';
}

/**
 * One command's output. With `--json` stdout carries exactly one JSON document (the result) and
 * everything meant for a person goes to stderr; without it the result is rendered as text on stdout.
 */
export class Reporter {
  constructor(
    private readonly terminal: Terminal,
    readonly json: boolean,
  ) {}

  /** Narrative for a person: stdout in text mode, stderr in JSON mode. */
  info(line: string): void {
    if (this.json) this.terminal.stderr(`${line}\n`);
    else this.terminal.stdout(`${line}\n`);
  }

  /** Progress of a long wait; always stderr so it never mixes with results. */
  progress(line: string): void {
    this.terminal.stderr(`${line}\n`);
  }

  warn(line: string): void {
    this.terminal.stderr(`warning: ${line}\n`);
  }

  result(data: unknown, render: () => string): void {
    if (this.json) this.terminal.stdout(`${JSON.stringify(data, null, 2)}\n`);
    else this.terminal.stdout(render());
  }
}
