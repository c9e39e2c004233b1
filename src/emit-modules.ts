/** `npm run modules`: regenerates modules/rds from the constructs. */
import path from 'node:path';
import { writeModule } from './rds/emit';

const target = path.resolve(__dirname, '..', 'modules', 'rds');
writeModule(target);
console.log(`wrote ${path.relative(process.cwd(), target) || target}`);
