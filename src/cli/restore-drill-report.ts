/** What a restore drill measured and found, judged against the environment's objectives, as JSON or text. */
import type { RestoreVerification } from '../db/verify-restore';
import { ExitCode, type ExitCodeValue } from './exit-codes';
import { renderRecord, renderTable } from './output';
import { formatElapsed } from './wait';

export interface DrillReport {
  readonly prepared: {
    readonly drill: string;
    /** What the drill restored into: `instance`, `cluster`. */
    readonly noun: string;
    readonly environment: string;
    readonly region: string | null;
    readonly source:
      | { readonly kind: 'snapshot'; readonly recoveryPoint: string; readonly vault: string }
      | { readonly kind: 'point-in-time'; readonly restoreTime: string };
    /** The time the restored data is from, when known. */
    readonly pointTime: string | null;
    /** How old the restored point was when the drill started; null for a chosen point in time. */
    readonly pointAgeMs: number | null;
    readonly rtoMinutes: number;
    readonly rpoMinutes: number;
  };
  /** From the restore request: until available, the verification alone, and until verified usable. */
  readonly timings: { restoreMs?: number; verificationMs?: number; usableMs?: number };
  verification?: RestoreVerification;
  error?: string;
  errorCode?: ExitCodeValue;
  interrupted?: boolean;
  readonly cleanup: {
    /** The temporary database, reported under its noun. */
    database?: 'deleted' | 'never created' | 'left';
    securityGroup?: 'deleted' | 'left';
    error?: string;
    errorCode?: ExitCodeValue;
  };
}

const met = (value: number | undefined | null, objectiveMinutes: number): boolean | null =>
  value === undefined || value === null ? null : value <= objectiveMinutes * 60_000;

/** 0 verified and within both objectives; 5 verified but an objective missed; otherwise the failure's code. */
export function drillExitCode(report: DrillReport): ExitCodeValue {
  if (report.cleanup.errorCode !== undefined) return report.cleanup.errorCode;
  if (report.error !== undefined || report.interrupted === true) return report.errorCode ?? ExitCode.Failed;
  if (report.verification?.ok !== true) return ExitCode.Failed;
  const { rtoMinutes, rpoMinutes, pointAgeMs } = report.prepared;
  const rtoMet = met(report.timings.usableMs, rtoMinutes) === true;
  const rpoMet = met(pointAgeMs, rpoMinutes) !== false;
  return rtoMet && rpoMet ? ExitCode.Ok : ExitCode.ObjectiveMissed;
}

function outcome(report: DrillReport, exitCode: ExitCodeValue): string {
  if (report.interrupted === true) return 'interrupted';
  if (exitCode === ExitCode.Ok) return 'objectives met';
  if (exitCode === ExitCode.ObjectiveMissed) return 'objective missed';
  return 'failed';
}

const seconds = (ms: number | undefined | null) => (ms === undefined || ms === null ? null : Math.round(ms / 1000));

export function drillJson(report: DrillReport, exitCode: ExitCodeValue) {
  const p = report.prepared;
  return {
    drill: p.drill,
    environment: p.environment,
    region: p.region,
    source: p.source,
    outcome: outcome(report, exitCode),
    rto: {
      objectiveMinutes: p.rtoMinutes,
      usableSeconds: seconds(report.timings.usableMs),
      met: met(report.timings.usableMs, p.rtoMinutes),
    },
    rpo: {
      objectiveMinutes: p.rpoMinutes,
      pointTime: p.pointTime,
      pointAgeSeconds: seconds(p.pointAgeMs),
      met: met(p.pointAgeMs, p.rpoMinutes),
    },
    timings: {
      restoreSeconds: seconds(report.timings.restoreMs),
      verificationSeconds: seconds(report.timings.verificationMs),
    },
    verification: report.verification ?? null,
    cleanup: {
      [p.noun]: report.cleanup.database ?? null,
      securityGroup: report.cleanup.securityGroup ?? null,
      error: report.cleanup.error ?? null,
    },
    error: report.error ?? null,
    exitCode,
  };
}

const verdict = (value: boolean | null) => (value === null ? 'not measured' : value ? 'met' : 'MISSED');
const elapsed = (ms: number | undefined | null) => (ms === undefined || ms === null ? '-' : formatElapsed(ms));

export function renderDrillReport(report: DrillReport, exitCode: ExitCodeValue): string {
  const p = report.prepared;
  const source =
    p.source.kind === 'snapshot'
      ? `${p.source.recoveryPoint} (${p.source.vault})`
      : `point in time, ${p.source.restoreTime}`;
  const record = renderRecord([
    ['Drill', `${p.drill} (${p.environment}${p.region === null ? '' : `, ${p.region}`})`],
    ['Restored from', source],
    ['Outcome', outcome(report, exitCode)],
    ['Restore', elapsed(report.timings.restoreMs)],
    ['Verification', elapsed(report.timings.verificationMs)],
    [
      'Usable after',
      `${elapsed(report.timings.usableMs)} / RTO ${p.rtoMinutes} min: ` +
        verdict(met(report.timings.usableMs, p.rtoMinutes)),
    ],
    ['Point age', `${elapsed(p.pointAgeMs)} / RPO ${p.rpoMinutes} min: ${verdict(met(p.pointAgeMs, p.rpoMinutes))}`],
    ['Cleanup', `${p.noun} ${report.cleanup.database ?? '-'}, security group ${report.cleanup.securityGroup ?? '-'}`],
    ...(report.error === undefined ? [] : ([['Error', report.error]] as const)),
    ...(report.cleanup.error === undefined ? [] : ([['Cleanup error', report.cleanup.error]] as const)),
  ]);
  if (report.verification === undefined) return record;
  const checks = renderTable(
    [
      { header: 'check', value: (c: RestoreVerification['checks'][number]) => c.name },
      { header: 'result', value: (c) => (c.ok ? 'ok' : 'FAIL') },
      { header: 'detail', value: (c) => c.detail, maxWidth: 100 },
    ],
    report.verification.checks,
  );
  const tables = renderTable(
    [
      { header: 'table', value: (t: RestoreVerification['tables'][number]) => t.table },
      { header: 'rows', value: (t) => t.rows, align: 'right' },
    ],
    report.verification.tables,
  );
  return `${record}\n${checks}\n${tables}`;
}
