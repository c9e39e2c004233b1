/**
 * The engine seam: what differs between an RDS DB instance with read replicas and an Aurora cluster with reader
 * instances, behind one small interface, so the shared parts (network, key, secrets, logs, alarms, backup) take an
 * engine as input and never name its resources. Shaped after aws-cdk-lib's aws-rds, whose engine objects bind to an
 * instance or a cluster: `bind` creates the engine's resources and returns what the shared parts read of them.
 *
 * The first implementation is today's: a PostgreSQL DB instance (`aws_db_instance.main`) and its counted replicas.
 */
import { Construct } from 'constructs';
import { TerraformLocal, Token } from 'cdktf';
import { RESOURCE_SUFFIXES } from '../config/names';
import { DatabaseInstances, DatabaseInstancesProps } from './instances';
import { config, ref, toHcl } from './expressions';
import { EXPORTED_LOGS } from './logs';
import { NAME_PREFIX_LOCAL } from './naming';
import { DEFAULT_ENGINE_MAJOR_VERSION, inputProblem } from './rules';

/** The engine's resources as the shared parts read them: HCL expressions (without `${}`). */
export interface BoundEngine {
  /** The instance or cluster that takes writes. */
  readonly writer: {
    /** `host:port`, host name, port and database name clients connect with. */
    readonly endpoint: string;
    readonly address: string;
    readonly port: string;
    readonly databaseName: string;
    /** The name CloudWatch, the RDS API and the runbook use. */
    readonly identifier: string;
    /** The RDS resource ID (`db-...`, `cluster-...`) IAM database authentication names. */
    readonly resourceId: string;
    /** The RDS-managed secret of the master login. */
    readonly masterSecretArn: string;
    /** The ARN of the writer instance. */
    readonly arn: string;
    /** What AWS Backup protects (an instance or a cluster ARN). */
    readonly backupTarget: string;
  };
  /** The readers, as lists: endpoints, host names, identifiers and resource IDs. */
  readonly readers: {
    readonly endpoints: string;
    readonly addresses: string;
    readonly identifiers: string;
    readonly resourceIds: string;
    /** The identifier of the reader `index` (`count.index` inside a block counted like the readers). */
    readonly identifier: (index: 'count.index') => string;
  };
  /** CloudWatch: the namespace and the dimension name of the writer's and readers' metrics, and the event source. */
  readonly metrics: {
    readonly namespace: string;
    readonly dimension: string;
    /** RDS event subscription source type (`db-instance`, `db-cluster`). */
    readonly eventSourceType: string;
    /** The module's alarms (PRIMARY_ALARMS logical IDs, `replica_lag`) whose metric the engine does not report. */
    readonly excludedAlarms?: readonly string[];
  };
}

/** Everything an engine's resources are built from: the shared parts made before them. */
export type EngineBindProps = Omit<DatabaseInstancesProps, 'engineVersion'> & {
  /** Every parameter the database applies, name => { value, apply_method } (the instance group may hold fewer). */
  readonly parameters: TerraformLocal;
};

/** Where an engine departs from the module's parameters. */
export interface EngineParameters {
  /** Module parameters the engine sets otherwise (a value) or does not have (null). */
  readonly overrides: Readonly<Record<string, string | null>>;
  /** The parameters set per instance (the DB parameter group); the engine applies every other one cluster-wide. */
  readonly instanceLevel: readonly string[];
}

export interface DatabaseEngine {
  /** RDS's engine name (`postgres`, `aurora-postgresql`). */
  readonly engine: string;
  /** The engine line the parameter group, the instances and the migrations are written for. */
  readonly majorVersion: string;
  /** The parameter group family, derived from the engine and its major version. */
  readonly parameterGroupFamily: string;
  /** Where RDS exports the engine's logs: `<logGroupPrefix><name>` for each name of `logGroupNames`. */
  readonly logGroupPrefix: string;
  /** HCL list of the log-group names under the prefix, one per writer or reader and exported log. */
  readonly logGroupNames: string;
  /** Patterns (under the prefix) the module key lets CloudWatch Logs encrypt for. */
  readonly logGroupPatterns: readonly string[];
  /** Where the engine departs from the module's parameters; absent, the DB parameter group holds them all. */
  readonly parameters?: EngineParameters;
  /** Creates the engine's resources in `scope`. */
  bind(scope: Construct, id: string, props: EngineBindProps): BoundEngine;
}

/**
 * Checks a literal major version at synth against the rule the module's `engine_major_version` validation is
 * generated from; a token (the module's variable) is checked at plan.
 */
export function checkMajorVersion(majorVersion: string): string {
  const problem = Token.isUnresolved(majorVersion) ? undefined : inputProblem('engine_major_version', majorVersion);
  if (problem) throw new Error(problem);
  return majorVersion;
}

/** A PostgreSQL DB instance with counted read replicas (today's database). */
export function postgresInstanceEngine(majorVersion: string = DEFAULT_ENGINE_MAJOR_VERSION): DatabaseEngine {
  checkMajorVersion(majorVersion);
  const prefix = `\${local.${NAME_PREFIX_LOCAL}}`;
  const logs = toHcl(EXPORTED_LOGS);
  const primary = `[for log in ${logs} : "${prefix}-${RESOURCE_SUFFIXES.primary}/\${log}"]`;
  const replicas = `[for pair in setproduct(range(1, ${config('replicaCount')} + 1), ${logs}) : "${prefix}-${RESOURCE_SUFFIXES.replica('${pair[0]}')}/\${pair[1]}"]`;
  return {
    engine: 'postgres',
    majorVersion,
    parameterGroupFamily: `postgres${majorVersion}`,
    logGroupPrefix: '/aws/rds/instance/',
    logGroupNames: `concat(${primary}, ${replicas})`,
    logGroupPatterns: [`${prefix}-${RESOURCE_SUFFIXES.primary}/*`, `${prefix}-${RESOURCE_SUFFIXES.replica('*')}`],
    bind(scope, id, props) {
      const { primary: main, replica } = new DatabaseInstances(scope, id, { ...props, engineVersion: majorVersion });
      return {
        writer: {
          endpoint: ref(main, 'endpoint'),
          address: ref(main, 'address'),
          port: ref(main, 'port'),
          databaseName: ref(main, 'dbName'),
          identifier: ref(main, 'identifier'),
          resourceId: ref(main, 'resourceId'),
          masterSecretArn: `${ref(main, 'masterUserSecret')}[0].secret_arn`,
          arn: ref(main, 'arn'),
          backupTarget: ref(main, 'arn'),
        },
        readers: {
          endpoints: ref(replica, 'endpoint', '*'),
          addresses: ref(replica, 'address', '*'),
          identifiers: ref(replica, 'identifier', '*'),
          resourceIds: ref(replica, 'resourceId', '*'),
          identifier: (index) => ref(replica, 'identifier', index),
        },
        metrics: { namespace: 'AWS/RDS', dimension: 'DBInstanceIdentifier', eventSourceType: 'db-instance' },
      };
    },
  };
}
