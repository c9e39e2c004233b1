import type { Clock } from './context';
import type { Waits } from './engine';
import { failedError } from './exit-codes';

/** One observation of a long-running AWS operation. */
export type PollState<T> =
  | { readonly kind: 'done'; readonly status: string; readonly value: T }
  | { readonly kind: 'pending'; readonly status: string }
  | { readonly kind: 'failed'; readonly status: string };

export interface PollOptions<T> {
  /** What is awaited, e.g. "snapshot accessweaver-prod-pre-scale-20260101-120000 available". */
  readonly label: string;
  readonly check: () => Promise<PollState<T>>;
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly progress: (line: string) => void;
  /** Told to the operator on timeout or failure: how to follow up (the AWS operation goes on). */
  readonly followUp: string;
}

/** How a wait polls, from the Waits a command was given: its clock and interval, its timeout, where progress goes. */
export function pollTiming(
  waits: Waits,
): Pick<PollOptions<unknown>, 'clock' | 'intervalMs' | 'timeoutMs' | 'progress'> {
  return {
    clock: waits.deps.clock,
    intervalMs: waits.deps.pollIntervalMs,
    timeoutMs: waits.timeoutMinutes * 60_000,
    progress: (line) => waits.reporter.progress(line),
  };
}

export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const mm = String(minutes).padStart(hours > 0 ? 2 : 1, '0');
  const ss = String(seconds).padStart(2, '0');
  return hours > 0 ? `${hours}h${mm}m${ss}s` : `${mm}m${ss}s`;
}

/** A statement's duration: tenths of a second below a minute (`0.3 s`, `12.0 s`), else as formatElapsed. */
export function formatDuration(ms: number): string {
  return ms < 59_950 ? `${(Math.max(0, ms) / 1000).toFixed(1)} s` : formatElapsed(Math.round(ms / 1000) * 1000);
}

/** `YYYYMMDD-HHMMSS` in UTC: the suffix of the snapshot and instance identifiers the runbook names. */
export function timestampSuffix(date: Date): string {
  const iso = date.toISOString();
  return (
    `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}` +
    `${iso.slice(17, 19)}`
  );
}

/**
 * Polls until done, printing status and elapsed time after every observation. A failed state or the
 * timeout raises an error that says the AWS operation may still be running and how to follow it.
 */
export async function pollUntil<T>(
  options: PollOptions<T>,
): Promise<{ readonly value: T; readonly elapsedMs: number }> {
  const started = options.clock.now().getTime();
  for (;;) {
    const state = await options.check();
    const elapsedMs = options.clock.now().getTime() - started;
    options.progress(`  waiting for ${options.label}: ${state.status} (${formatElapsed(elapsedMs)} elapsed)`);
    if (state.kind === 'done') return { value: state.value, elapsedMs };
    if (state.kind === 'failed') {
      throw failedError(
        `${options.label}: status '${state.status}' after ${formatElapsed(elapsedMs)}. ${options.followUp}`,
      );
    }
    if (elapsedMs >= options.timeoutMs) {
      throw failedError(
        `Gave up waiting for ${options.label} after ${formatElapsed(elapsedMs)} (last status '${state.status}` +
          `'); AWS continues the operation. ${options.followUp}`,
      );
    }
    await options.clock.sleep(options.intervalMs);
  }
}
