/** `npm run modules`: regenerates modules/rds and modules/rds-aurora from the constructs. */
import path from 'node:path';
import { writeModule } from './rds/emit';
import { auroraModuleFiles } from './rds/engines/aurora-module';

for (const [name, files] of [
  ['rds', undefined],
  ['rds-aurora', auroraModuleFiles()],
] as const) {
  const target = path.resolve(__dirname, '..', 'modules', name);
  writeModule(target, files);
  console.log(`wrote ${path.relative(process.cwd(), target) || target}`);
}
