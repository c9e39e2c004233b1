/**
 * Suites that need an optional system tool (Debian's PostgreSQL 15 with pgaudit, PgBouncer, a JDK): where the tool
 * is missing they skip with a one-line reason, which the run's summary repeats (global-teardown.mjs); under
 * CI=true they fail instead, so a CI image that lost a package cannot pass by skipping.
 */
import { appendFileSync } from 'node:fs';

type SuiteFactory = (name: string, body: () => void) => void;

/** `describe` when `unavailable` is undefined; otherwise a skipped suite, or under CI=true a failing one. */
export function describeWhenAvailable(unavailable: string | undefined): SuiteFactory {
  if (unavailable === undefined) return describe;
  if (process.env.CI === 'true') {
    return (name) =>
      describe(name, () => {
        test('has what it needs (CI=true fails instead of skipping)', () => {
          throw new Error(`cannot run under CI=true: ${unavailable}`);
        });
      });
  }
  return (name, body) => {
    const line = `SKIPPED ${name}: ${unavailable}`;
    console.warn(line);
    const notes = process.env.ACCESSWEAVER_SKIP_NOTES;
    if (notes) appendFileSync(notes, `${line}\n`);
    describe.skip(name, body);
  };
}
