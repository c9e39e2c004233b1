/**
 * Which module an rds-<env> stack calls: `modules/rds` (a PostgreSQL DB instance with read replicas) or
 * `modules/rds-aurora` (an Aurora PostgreSQL cluster with reader autoscaling). Both take the same inputs and give
 * the same outputs, so vpc-<env> and ecs-<env> do not change with the engine.
 *
 * cdktf.json lists modules/rds-aurora before modules/rds: cdktf packages both in one asset rooted at their common
 * folder, which it finds by comparing strings from the first entry, and "modules/rds" prefixes "modules/rds-aurora".
 */
import { EnvironmentName } from '../config/environments';

export const DATABASE_ENGINES = ['instance', 'aurora'] as const;
export type DatabaseEngineName = (typeof DATABASE_ENGINES)[number];

/**
 * Every environment keeps the DB instance until README's design table records the switch with its numbers (cost,
 * failover, scaling); `databaseEngine` in cdktf.json selects Aurora for one environment.
 */
export const DEFAULT_DATABASE_ENGINES: Readonly<Record<EnvironmentName, DatabaseEngineName>> = {
  dev: 'instance',
  staging: 'instance',
  prod: 'instance',
};

/** Reads `databaseEngine` of cdktf.json; `where` names the key in messages. */
export function parseDatabaseEngine(value: unknown, where: string): DatabaseEngineName | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(DATABASE_ENGINES as readonly string[]).includes(value)) {
    throw new Error(
      `${where} must be ${DATABASE_ENGINES.map((e) => `'${e}'`).join(' or ')}, got ${JSON.stringify(value)}.`,
    );
  }
  return value as DatabaseEngineName;
}
