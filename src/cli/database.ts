import type { CliDeps } from './context';
import { instanceDatabase } from './db-instance';
import type { DeployedDatabase } from './engine';
import type { Target } from './target';

/**
 * The deployed database of a target, behind the engine seam (engine.ts). The module deploys one engine today, a
 * DB instance with read replicas, so that is what every target opens; another engine is another implementation
 * of DeployedDatabase chosen here.
 */
export function openDatabase(target: Target, region: string | undefined, deps: Pick<CliDeps, 'aws'>): DeployedDatabase {
  return instanceDatabase(deps.aws(region).rds, target);
}
