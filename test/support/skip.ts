import { appendFileSync } from 'node:fs';

/**
 * Says why a suite is skipped: on the console of its file, and in the run's summary (skip-reporter.cjs), since Jest
 * shows nothing of a file whose tests were all skipped.
 */
export function reportSkip(suite: string, reason: string): void {
  const line = `SKIPPED ${suite}: ${reason}`;
  console.warn(line);
  const log = process.env.ACCESSWEAVER_SKIP_LOG;
  if (log) appendFileSync(log, `${line}\n`);
}

/**
 * `describe` when the tool the suite needs is here (`reason` undefined). Otherwise, on a developer's machine,
 * `describe.skip` with the reason reported; under CI=true, a single failing test whose message is the reason, so CI
 * cannot go green without the suite.
 */
export function describeWithTool(name: string, reason: string | undefined, body: () => void, what = `"${name}"`): void {
  if (reason === undefined) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      test('the tools this suite needs are available (CI=true)', () => {
        const error = new Error(`CI=true but ${what} cannot run: ${reason}`);
        error.stack = error.message; // the reason is the whole message
        throw error;
      });
    });
  } else {
    reportSkip(`"${name}"`, reason);
    describe.skip(name, body);
  }
}
