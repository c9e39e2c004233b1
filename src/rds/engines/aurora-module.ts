/**
 * `modules/rds-aurora`: the same constructs as `modules/rds` with the Aurora engine, the same inputs plus the
 * autoscaling switch, and the same outputs plus the cluster's.
 */
import { ENVIRONMENTS } from '../../config/environments';
import { AURORA_CONFIGS } from '../../config/aurora';
import { applyRequirementsReadme, declaredTypes } from '../apply-permissions';
import { moduleFiles, synthesizeModuleDocument } from '../emit';
import { providerRangeReadme } from '../provider-range';
import { DEFAULT_ENGINE_MAJOR_VERSION, ENGINE_MAJOR_VERSIONS } from '../rules';
import { MODULE_OUTPUTS, MODULE_VARIABLES, ModuleOutputSpec, ModuleVariableSpec, ModuleVariant } from '../module-stack';
import { auroraCostReadme } from './aurora-cost';
import {
  AURORA_INSTANCE_PARAMETERS,
  AURORA_PARAMETER_OVERRIDES,
  auroraPostgresEngine,
  READER_CPU_METRIC,
  READER_SCALABLE_DIMENSION,
} from './aurora-cluster';

/** The cluster's Terraform address (`aws_rds_cluster.main`). */
const CLUSTER = 'aws_rds_cluster.main';

export const AURORA_MODULE_VARIABLES: readonly ModuleVariableSpec[] = [
  {
    name: 'reader_autoscaling',
    type: 'bool',
    description:
      'Scale the readers with Application Auto Scaling as the environment table says (prod: 2 to 5 readers, target ' +
      'tracking on their average CPU at 70 %). False leaves it to the caller, who registers ' +
      '"cluster:${module.rds.cluster_identifier}" with rds:cluster:ReadReplicaCount.',
    default: true,
  },
];

export const AURORA_MODULE_OUTPUTS: readonly ModuleOutputSpec[] = [
  {
    key: 'clusterIdentifier',
    name: 'cluster_identifier',
    description:
      'Identifier of the Aurora cluster (<project>-<environment>-cluster): Application Auto Scaling names it.',
    value: () => `${CLUSTER}.cluster_identifier`,
  },
  {
    key: 'clusterArn',
    name: 'cluster_arn',
    description: 'ARN of the Aurora cluster.',
    value: () => `${CLUSTER}.arn`,
  },
  {
    key: 'writerEndpoint',
    name: 'writer_endpoint',
    description: 'Cluster (writer) endpoint host name: it follows the writer through a failover.',
    value: () => `${CLUSTER}.endpoint`,
  },
  {
    key: 'readerEndpoint',
    name: 'reader_endpoint',
    description: 'Reader endpoint host name: it balances over every reader, autoscaled ones included.',
    value: () => `${CLUSTER}.reader_endpoint`,
  },
];

export const AURORA_MODULE_VARIANT: ModuleVariant = {
  engine: (vars) =>
    auroraPostgresEngine({
      majorVersion: vars.engine_major_version.stringValue,
      readerAutoscaling: vars.reader_autoscaling.booleanValue,
    }),
  variables: AURORA_MODULE_VARIABLES,
  outputs: AURORA_MODULE_OUTPUTS,
};

/** The files of `modules/rds-aurora`: those of modules/rds, from the Aurora engine, with its own README. */
export function auroraModuleFiles(): Record<string, string> {
  const document = synthesizeModuleDocument(AURORA_MODULE_VARIANT);
  const files = moduleFiles(document);
  files['README.md'] = [auroraReadme(), providerRangeReadme(), applyRequirementsReadme(declaredTypes(document))].join(
    '\n',
  );
  return files;
}

function auroraReadme(): string {
  const inputs = [...MODULE_VARIABLES, ...AURORA_MODULE_VARIABLES]
    .map((v) => `| \`${v.name}\` | ${v.default === undefined ? 'required' : `\`${JSON.stringify(v.default)}\``} |`)
    .join('\n');
  const outputs = [...MODULE_OUTPUTS, ...AURORA_MODULE_OUTPUTS].map((o) => `\`${o.name}\``).join(', ');
  const rows = ENVIRONMENTS.map((name) => {
    const a = AURORA_CONFIGS[name];
    const capacity = a.serverlessCapacity
      ? `Serverless v2, ${a.serverlessCapacity.minAcu}-${a.serverlessCapacity.maxAcu} ACU`
      : a.instanceClass;
    const scaling = a.readerAutoscaling
      ? `up to ${a.readerAutoscaling.maxReaders} readers, CPU ${a.readerAutoscaling.targetCpuPercent} %`
      : 'none';
    return `| ${name} | ${capacity} | ${a.storageType} | ${scaling} |`;
  }).join('\n');
  return `# modules/rds-aurora

The AccessWeaver database on Amazon Aurora PostgreSQL ${DEFAULT_ENGINE_MAJOR_VERSION} (\`engine_major_version\`:
${ENGINE_MAJOR_VERSIONS.join(', ')}), as a plain Terraform module: the same inputs, security
posture and outputs as [modules/rds](../rds/README.md), with an Aurora cluster, a writer, \`replica_count\` readers
from the environment table and reader autoscaling above them.

**Generated file: do not edit.** This folder is synthesized from the TypeScript constructs in \`src/rds/\` by
\`npm run modules\`; a test fails when it differs from what they produce.

## Sizing

The environment table's rows (src/config/environments.ts) give backups, monitoring, protection, connections,
secrets, logs and the readers the module keeps (\`replica_count\`, the floor of autoscaling); the Aurora columns
(src/config/aurora.ts) give the rest:

| environment | writer and readers | storage | reader autoscaling (${READER_SCALABLE_DIMENSION}, ${READER_CPU_METRIC}) |
|---|---|---|---|
${rows}

## Parameters

The module's parameters (pgaudit, logging without statement text or bind values, session limits, pg_cron, TLS) are
applied cluster-wide through \`aws_rds_cluster_parameter_group.main\`, except those sized per instance, which the
DB parameter group holds: ${AURORA_INSTANCE_PARAMETERS.map((p) => `\`${p}\``).join(', ')}. Aurora keeps its own
${Object.entries(AURORA_PARAMETER_OVERRIDES)
  .filter(([, v]) => v === null)
  .map(([p]) => `\`${p}\``)
  .join(', ')}
(its storage is not PostgreSQL's), and \`temp_file_limit\` is sized from memory, Aurora having no allocated storage.

## Reader autoscaling

With \`reader_autoscaling = false\` the module registers nothing, and the caller's own
\`aws_appautoscaling_target\` on \`cluster:\${module.rds.cluster_identifier}\` takes over.

Readers Application Auto Scaling adds are not in Terraform's state. The module's \`terraform_data.autoscaled_readers\`
deletes them when the cluster is destroyed, or when the DB parameter group is replaced, after the scaling target is
gone: the machine that applies needs the AWS CLI. The scaling target is registered only once the instances exist, so
the cluster reaches its minimum at once.

## Major versions and restores

\`engine_major_version\` sets the cluster's version and both parameter groups' family (\`aurora-postgresql<major>\`);
raising it on a running cluster needs \`allow_major_version_upgrade = true\`, and the cluster and its instances are
upgraded together. \`snapshot_identifier\` (a DB cluster snapshot) or \`restore_to_point_in_time\` (another
cluster's \`source_identifier\` or \`source_resource_id\`, and \`restore_time\` or
\`use_latest_restorable_time = true\`) create the cluster from that data; the module then adds the writer and readers. Both are read at creation only, so a cluster
restored outside Terraform can be imported (docs/runbook.md, "Adopting a restored database").

${auroraCostReadme()}
## Inputs

| name | default |
|---|---|
${inputs}

## Outputs

${outputs}.
`;
}
