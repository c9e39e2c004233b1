#!/usr/bin/env node
'use strict';
// The project runs its TypeScript sources directly (no build step), so the launcher registers tsx's
// CommonJS loader and hands over to src/cli/main.ts.
require('tsx/cjs');
const { main } = require('../src/cli/main.ts');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`error: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
