/** Tests compile with SWC (no type-checking: `npm test` runs `tsc --noEmit` first). */
module.exports = {
  // Node, with a temporary directory per test file that goes away with it (test/support/test-environment.cjs).
  testEnvironment: '<rootDir>/test/support/test-environment.cjs',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // One PostgreSQL 15 server for the whole run (embedded, or DATABASE_URL's); each suite makes its own database.
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  testTimeout: 60000,
  // The default summary, then the suites skipped for a missing tool and why (test/support/skip-reporter.cjs).
  reporters: ['default', '<rootDir>/test/support/skip-reporter.cjs'],
};
