import type { CliDeps } from './context';
import { clusterDatabase } from './db-cluster';
import { instanceDatabase } from './db-instance';
import type { DeployedDatabase } from './engine';
import type { Target } from './target';

/**
 * The deployed database of a target, behind the engine seam (engine.ts): the engine the operator named with
 * --engine. Another engine is another implementation of DeployedDatabase, chosen here.
 */
export function openDatabase(target: Target, region: string | undefined, deps: Pick<CliDeps, 'aws'>): DeployedDatabase {
  const { rds } = deps.aws(region);
  return target.engine === 'aurora-cluster'
    ? clusterDatabase(rds, target.clusterIdentifier)
    : instanceDatabase(rds, target);
}
