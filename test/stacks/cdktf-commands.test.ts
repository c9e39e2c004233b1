import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from './support';

const packageJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};
const cdktfJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdktf.json'), 'utf8')) as { app: string };

// The CDKTF CLI reads CHECKPOINT_DISABLE from its own environment only (cdktf.json has no such setting, and the app
// runs in a child process): every script that starts it must set it, or it reports to checkpoint-api.hashicorp.com.
test('every npm script that runs the cdktf CLI disables its telemetry', () => {
  const invocations = Object.entries(packageJson.scripts).flatMap(([name, script]) =>
    script
      .split(/&&|\|\||;/)
      .map((part) => part.trim())
      .filter((part) => /^(\w+=\S*\s+)*cdktf(\s|$)/.test(part))
      .map((part) => ({ name, part })),
  );
  expect(invocations.length).toBeGreaterThanOrEqual(4);
  expect(invocations.filter(({ part }) => !part.startsWith('CHECKPOINT_DISABLE=1 cdktf'))).toEqual([]);
});

// DEP0044: cdktf's TerraformOutput calls util.isArray, deprecated at run time from Node.js 22; the CLI would log the
// warning as an [ERROR] line on every synth. Only that warning is silenced.
test('the app command starts main.ts with node and the tsx loader, without npx, silencing DEP0044 alone', () => {
  const [command, ...args] = cdktfJson.app.split(/\s+/);
  expect(command).toBe('node');
  expect(args.at(-1)).toBe('main.ts');
  expect(args.join(' ')).toContain('--import tsx');
  expect(args.filter((arg) => arg.startsWith('--disable-warning') || arg === '--no-warnings')).toEqual([
    '--disable-warning=DEP0044',
  ]);
});
