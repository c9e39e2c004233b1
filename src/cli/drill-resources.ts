/**
 * The AWS resources of one restore drill: where it restores from, the security group that admits only the drill,
 * and their removal; the temporary database's own calls are the engine's (engine.ts). Removal is guarded: the drill
 * deletes a database or a group only when its name is the drill's own under the drill prefix AND it carries the drill
 * tag with the drill's identifier, so no mistake in the flow can reach the primary, a replica or anyone else's.
 */
import { paginateListRecoveryPointsByBackupVault, type BackupClient } from '@aws-sdk/client-backup';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupEgressCommand,
  type AuthorizeSecurityGroupIngressCommandInput,
  type CreateSecurityGroupCommandInput,
  type EC2Client,
  type RevokeSecurityGroupEgressCommandInput,
  type Tag as Ec2Tag,
} from '@aws-sdk/client-ec2';
import { DescribeDBSubnetGroupsCommand, type RDSClient, type Tag } from '@aws-sdk/client-rds';
import { InvalidArgumentError } from 'commander';
import { DATABASE_PORT } from '../config/environments';
import { awsCall, awsError } from './aws';
import type { DeployedDatabase, DrillEndpoint, Waits } from './engine';
import { CliError, ExitCode, unavailableError, usageError } from './exit-codes';
import { pollTiming, pollUntil, type PollState } from './wait';

/** The tag every drill resource carries, valued with the drill's identifier. */
export const DRILL_TAG = 'accessweaver-rds:restore-drill';

/** One drill: its identifier (instance and security group name) and the prefix reserved for drills. */
export interface Drill {
  readonly identifier: string;
  readonly prefix: string;
  readonly project: string;
  readonly env: string;
}

export function drillTags(drill: Drill): Tag[] {
  return [
    { Key: 'Project', Value: drill.project },
    { Key: 'Environment', Value: drill.env },
    { Key: 'Purpose', Value: 'restore-drill' },
    { Key: 'CreatedBy', Value: 'accessweaver-rds' },
    { Key: DRILL_TAG, Value: drill.identifier },
  ];
}

/**
 * True only for the drill's own resource: its exact name (the drill's identifier, or `expected` for a resource the
 * drill named after it) under the drill prefix, and the drill tag.
 */
export function isOwnDrillResource(
  drill: Drill,
  name: string | undefined,
  tags: readonly (Tag | Ec2Tag)[] | undefined,
  expected: string = drill.identifier,
): boolean {
  return (
    name === expected &&
    expected.startsWith(drill.prefix) &&
    drill.identifier.startsWith(drill.prefix) &&
    (tags ?? []).some((tag) => tag.Key === DRILL_TAG && tag.Value === drill.identifier)
  );
}

function refuse(what: string, drill: Drill, expected: string = drill.identifier): CliError {
  return new CliError(
    `Refusing to delete ${what}: it is not this drill's own resource (name ${expected} under ${drill.prefix} ` +
      `with tag ${DRILL_TAG}=${drill.identifier}). Nothing was deleted; check it by hand.`,
    ExitCode.Refused,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Where to restore from

export interface RecoveryPoint {
  /** The RDS snapshot ARN AWS Backup created (a DB snapshot, or a DB cluster snapshot). */
  readonly arn: string;
  readonly created: Date;
  readonly vault: string;
}

/**
 * The newest completed snapshot recovery point of the database in a vault. Copies in a DR vault keep the source's
 * resource ARN, so the database is matched by its identifier, which works in either region.
 */
export async function latestRecoveryPoint(
  backup: BackupClient,
  vault: string,
  database: Pick<DeployedDatabase, 'identifier' | 'backup'>,
): Promise<RecoveryPoint> {
  let latest: RecoveryPoint | undefined;
  try {
    const { resourceType, snapshotArnPart, resourceArnPart } = database.backup;
    for await (const page of paginateListRecoveryPointsByBackupVault(
      { client: backup },
      { BackupVaultName: vault, ByResourceType: resourceType },
    )) {
      for (const point of page.RecoveryPoints ?? []) {
        const snapshot = point.RecoveryPointArn?.includes(snapshotArnPart) === true;
        if (!snapshot || point.Status !== 'COMPLETED' || point.CreationDate === undefined) continue;
        if (!point.ResourceArn?.endsWith(`${resourceArnPart}${database.identifier}`)) continue;
        if (latest === undefined || point.CreationDate > latest.created) {
          latest = { arn: point.RecoveryPointArn ?? '', created: point.CreationDate, vault };
        }
      }
    }
  } catch (error) {
    throw awsError(error, `ListRecoveryPointsByBackupVault ${vault}`);
  }
  if (latest === undefined) {
    throw unavailableError(`Vault ${vault} holds no completed snapshot recovery point of ${database.identifier}.`);
  }
  return latest;
}

/** The VPC of a DB subnet group: the drill's security group must live there. */
export async function subnetGroupVpc(rds: RDSClient, subnetGroup: string): Promise<string> {
  const output = await awsCall(`DescribeDBSubnetGroups ${subnetGroup}`, () =>
    rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: subnetGroup })),
  );
  const vpc = output.DBSubnetGroups?.[0]?.VpcId;
  if (vpc === undefined) throw unavailableError(`DB subnet group ${subnetGroup} not found (give --subnet-group).`);
  return vpc;
}

/** The copy's endpoint and master secret, once usable; a copy that reports none of them cannot be verified. */
export function drillEndpoint(
  name: string,
  fields: { host?: string; port?: number; databaseName?: string; masterSecretArn?: string },
): DrillEndpoint {
  const { host, port, databaseName, masterSecretArn } = fields;
  if (host === undefined || port === undefined || databaseName === undefined || masterSecretArn === undefined) {
    throw unavailableError(`${name} reports no endpoint, database name or master secret.`);
  }
  return { host, port, databaseName, masterSecretArn };
}

// ---------------------------------------------------------------------------------------------------------------
// The security group that admits only the drill

const ALLOW_FROM_SHAPE = 'a security group ID (sg-...) nor an IPv4 CIDR (10.0.1.15/32)';

function source(value: string): { readonly securityGroup: string } | { readonly cidr: string } | undefined {
  if (/^sg-[0-9a-f]{8,17}$/.test(value)) return { securityGroup: value };
  const cidr = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (cidr === null) return undefined;
  const [octets, prefix] = [cidr.slice(1, 5).map(Number), Number(cidr[5])];
  return octets.every((o) => o <= 255) && prefix <= 32 ? { cidr: value } : undefined;
}

/** `sg-...` (the drill runs with that group, e.g. an ECS task) or an IPv4 CIDR (a runner's address). */
export function parseAllowFrom(value: string): { readonly securityGroup: string } | { readonly cidr: string } {
  const parsed = source(value);
  if (parsed === undefined) throw usageError(`--allow-from '${value}' is neither ${ALLOW_FROM_SHAPE}.`);
  return parsed;
}

/** Commander parser for --allow-from: a malformed source is refused (exit 2) before any AWS call. */
export function allowFromOption(value: string): string {
  if (source(value) === undefined)
    throw new InvalidArgumentError(`expected ${ALLOW_FROM_SHAPE.replace(' nor ', ' or ')}.`);
  return value;
}

export interface SecurityGroupInputs {
  readonly create: CreateSecurityGroupCommandInput;
  /** Without a group ID yet: the one CreateSecurityGroup returns goes in. */
  readonly revokeEgress: Omit<RevokeSecurityGroupEgressCommandInput, 'GroupId'>;
  readonly ingress: Omit<AuthorizeSecurityGroupIngressCommandInput, 'GroupId'>;
}

export function securityGroupInputs(drill: Drill, vpcId: string, allowFrom: string): SecurityGroupInputs {
  const source = parseAllowFrom(allowFrom);
  const description = `restore drill ${drill.identifier}`;
  return {
    create: {
      GroupName: drill.identifier,
      Description: `Admits only restore drill ${drill.identifier} to its temporary instance`,
      VpcId: vpcId,
      TagSpecifications: [{ ResourceType: 'security-group', Tags: drillTags(drill) }],
    },
    // A new group allows all egress; the restored database needs none.
    revokeEgress: { IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] },
    ingress: {
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: DATABASE_PORT,
          ToPort: DATABASE_PORT,
          ...('securityGroup' in source
            ? { UserIdGroupPairs: [{ GroupId: source.securityGroup, Description: description }] }
            : { IpRanges: [{ CidrIp: source.cidr, Description: description }] }),
        },
      ],
    },
  };
}

/** Creates the group and returns its ID as soon as it exists, so cleanup can remove it whatever fails next. */
export async function createSecurityGroup(
  ec2: EC2Client,
  inputs: SecurityGroupInputs,
  created: (groupId: string) => void,
): Promise<string> {
  const name = inputs.create.GroupName ?? '';
  const output = await awsCall(`CreateSecurityGroup ${name}`, () =>
    ec2.send(new CreateSecurityGroupCommand(inputs.create)),
  );
  const groupId = output.GroupId ?? '';
  created(groupId);
  await awsCall(`RevokeSecurityGroupEgress ${groupId}`, () =>
    ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, ...inputs.revokeEgress })),
  );
  await awsCall(`AuthorizeSecurityGroupIngress ${groupId}`, () =>
    ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, ...inputs.ingress })),
  );
  return groupId;
}

// ---------------------------------------------------------------------------------------------------------------
// Cleanup

/** One RDS resource of a drill as its removal sees it; the engine behind the seam makes the calls. */
export interface RemovableResource {
  /** The name the drill gave it. */
  readonly name: string;
  /** In messages: `DB instance <name>`. */
  readonly what: string;
  /** Its name, tags and status now; undefined while it is not, or no longer, visible. */
  read(): Promise<{ readonly name?: string; readonly tags?: readonly Tag[]; readonly status: string } | undefined>;
  /** Asks RDS to delete it: `not accepted` while its state refuses, `gone` if it vanished meanwhile. */
  delete(): Promise<'requested' | 'not accepted' | 'gone'>;
  /** The AWS CLI command that deletes it by hand. */
  readonly followUp: string;
}

/** RDS refuses to delete an instance or cluster in some states (still being created): retried, not an error. */
const isInvalidState = (error: unknown) =>
  ['InvalidDBInstanceStateFault', 'InvalidDBClusterStateFault'].includes((error as { name?: string }).name ?? '');

/** One deletion request of a drill's resource, as RemovableResource.delete answers it. */
export async function requestDeletion(
  label: string,
  send: () => Promise<unknown>,
  isNotFound: (error: unknown) => boolean,
): Promise<'requested' | 'not accepted' | 'gone'> {
  try {
    await send();
    return 'requested';
  } catch (error) {
    if (isInvalidState(error)) return 'not accepted';
    if (isNotFound(error)) return 'gone';
    throw awsError(error, label);
  }
}

/**
 * Deletes a drill's resource and waits until it is gone, retrying while RDS does not accept the deletion yet (a
 * resource still being created). `requested` says whether RDS acknowledged its creation: only then can a
 * not-yet-visible resource still appear. Refuses, before any deletion, a resource that is not the drill's own.
 */
export async function removeDrillResource(
  drill: Drill,
  resource: RemovableResource,
  options: { readonly requested: boolean; readonly waits: Waits },
): Promise<'deleted' | 'never created'> {
  let seen = false;
  let unseenPolls = 0;
  await pollUntil<null>({
    label: `${resource.name} deleted`,
    ...pollTiming(options.waits),
    followUp: `Delete it by hand: ${resource.followUp}`,
    check: async (): Promise<PollState<null>> => {
      const current = await resource.read();
      if (current === undefined) {
        // A requested restore can take a poll or two to become visible; give it three before calling it absent.
        unseenPolls += 1;
        if (seen || !options.requested || unseenPolls > 3) return { kind: 'done', status: 'gone', value: null };
        return { kind: 'pending', status: 'not visible yet' };
      }
      seen = true;
      if (!isOwnDrillResource(drill, current.name, current.tags, resource.name)) {
        throw refuse(`${resource.what}`, drill, resource.name);
      }
      if (current.status === 'deleting') return { kind: 'pending', status: current.status };
      const outcome = await resource.delete();
      if (outcome === 'gone') return { kind: 'done', status: 'gone', value: null };
      if (outcome === 'requested') return { kind: 'pending', status: 'deleting' };
      return { kind: 'pending', status: `${current.status}, deletion not accepted yet` };
    },
  });
  return seen ? 'deleted' : 'never created';
}

/** Deletes the drill's group once its instance is gone (its network interfaces can take a minute to go). */
export async function deleteDrillSecurityGroup(
  ec2: EC2Client,
  groupId: string,
  drill: Drill,
  waits: Waits,
): Promise<void> {
  const described = await awsCall(`DescribeSecurityGroups ${groupId}`, () =>
    ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })),
  );
  const group = described.SecurityGroups?.[0];
  if (group === undefined || !isOwnDrillResource(drill, group.GroupName, group.Tags)) {
    throw refuse(`security group ${groupId}`, drill);
  }
  await pollUntil<null>({
    label: `security group ${groupId} deleted`,
    ...pollTiming(waits),
    followUp: `Delete it by hand: aws ec2 delete-security-group --group-id ${groupId}`,
    check: async (): Promise<PollState<null>> => {
      try {
        await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
        return { kind: 'done', status: 'deleted', value: null };
      } catch (error) {
        if ((error as { name?: string }).name === 'DependencyViolation')
          return { kind: 'pending', status: 'still in use' };
        throw awsError(error, `DeleteSecurityGroup ${groupId}`);
      }
    },
  });
}
