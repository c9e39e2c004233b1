import { Construct } from 'constructs';
import { DbParameterGroup, DbParameterGroupParameter } from '@cdktf/provider-aws/lib/db-parameter-group';
import { config, tf } from './expressions';
import { address, NAME_PREFIX, nameTags, prefixed } from './naming';

/** The engine line the parameter group, the instances and the migrations are written for. */
export const ENGINE_MAJOR_VERSION = '15';
export const PARAMETER_GROUP_FAMILY = `postgres${ENGINE_MAJOR_VERSION}`;

/**
 * PostgreSQL settings, as RDS accepts them.
 *
 * - Static parameters (changing them needs a restart) carry `apply_method = "pending-reboot"`; RDS rejects the
 *   group otherwise.
 * - Memory settings are integers in the engine's units (8 kB pages for shared_buffers, effective_cache_size and
 *   wal_buffers; kB for maintenance_work_mem), sized from the instance's memory with RDS formulas rather than
 *   fixed strings such as "256MB": one group stays right when an environment changes instance class.
 *     shared_buffers        {DBInstanceClassMemory/32768}    = 25% of memory (RDS's own default)
 *     effective_cache_size  {DBInstanceClassMemory*3/32768}  = 75% of memory (the OS cache the planner may count on)
 *     maintenance_work_mem  GREATEST({DBInstanceClassMemory/63963136*1024},65536) = RDS's default, at least 64 MiB
 *     wal_buffers           2048 pages                       = 16 MiB
 */
export const DATABASE_PARAMETERS: readonly DbParameterGroupParameter[] = [
  { name: 'shared_preload_libraries', value: 'pg_stat_statements,auto_explain', applyMethod: 'pending-reboot' },
  { name: 'max_connections', value: tf.string(config('maxConnections')), applyMethod: 'pending-reboot' },
  { name: 'shared_buffers', value: '{DBInstanceClassMemory/32768}', applyMethod: 'pending-reboot' },
  { name: 'wal_buffers', value: '2048', applyMethod: 'pending-reboot' },
  { name: 'effective_cache_size', value: '{DBInstanceClassMemory*3/32768}' },
  { name: 'maintenance_work_mem', value: 'GREATEST({DBInstanceClassMemory/63963136*1024},65536)' },
  { name: 'checkpoint_completion_target', value: '0.9' },
  { name: 'default_statistics_target', value: '100' },
  // Data-changing statements and anything slower than a second reach the exported PostgreSQL log.
  { name: 'log_statement', value: 'mod' },
  { name: 'log_min_duration_statement', value: '1000' },
  { name: 'auto_explain.log_min_duration', value: '1000' },
  // "on" is PostgreSQL's default; pinned so nobody turns policies into errors by accident.
  { name: 'row_security', value: 'on' },
  // Credentials cross the network only over TLS.
  { name: 'rds.force_ssl', value: '1' },
];

export class DatabaseParameters extends Construct {
  public readonly group: DbParameterGroup;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.group = address(
      new DbParameterGroup(this, 'group', {
        family: PARAMETER_GROUP_FAMILY,
        name: prefixed('pg-params'),
        description: `AccessWeaver PostgreSQL settings for ${NAME_PREFIX}`,
        parameter: [...DATABASE_PARAMETERS],
        tags: nameTags('pg-params'),
      }),
      'main',
    );
  }
}
