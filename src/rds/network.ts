import { Construct } from 'constructs';
import { RESOURCE_SUFFIXES } from '../config/names';
import { TerraformCount, TerraformLocal } from 'cdktf';
import { DataAwsSubnet } from '@cdktf/provider-aws/lib/data-aws-subnet';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group';
import { NetworkAcl } from '@cdktf/provider-aws/lib/network-acl';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { DATABASE_PORT } from '../config/environments';
import { addressOf, tf } from './expressions';
import { address, NAME_PREFIX, nameTags, prefixed } from './naming';

export interface DatabaseNetworkProps {
  readonly vpcId: TerraformLocal;
  /** Private subnets of the DB subnet group (a list of IDs). */
  readonly privateSubnetIds: TerraformLocal;
  /** Security groups allowed to connect besides the client group (a list of IDs). */
  readonly allowedSecurityGroupIds: TerraformLocal;
  /** Whether to attach the network ACL (a boolean). */
  readonly enableNetworkAcl: TerraformLocal;
  /** The CIDR the network ACL admits; null when there is no ACL. */
  readonly vpcCidr: TerraformLocal;
}

/**
 * Where the database lives and who may reach it.
 *
 * - The database security group has ingress on 5432 from the client group and from `allowed_security_groups`, and
 *   no egress at all (RDS needs none).
 * - The client group, attached to the services, may reach the database group on 5432 and nothing else. Rules are
 *   separate resources so the two groups can reference each other without a dependency cycle.
 * - The network ACL is opt-in (`enable_network_acl`): it admits only PostgreSQL and return traffic from the VPC
 *   CIDR (an input), so it belongs on subnets dedicated to the database.
 */
export class DatabaseNetwork extends Construct {
  /** The private subnets, looked up one by one (counted: one per entry of privateSubnetIds). */
  public readonly subnets: DataAwsSubnet;
  public readonly subnetGroup: DbSubnetGroup;
  public readonly databaseSecurityGroup: SecurityGroup;
  public readonly clientSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: DatabaseNetworkProps) {
    super(scope, id);
    const subnetIds = addressOf(props.privateSubnetIds);

    // The subnets' own zones place the primary and spread the replicas: a zone taken from the region's list may
    // have no subnet in the group.
    const subnetCount = TerraformCount.of(tf.number(`length(${subnetIds})`));
    this.subnets = address(
      new DataAwsSubnet(this, 'private-subnet', {
        count: subnetCount,
        id: tf.string(`${subnetIds}[count.index]`),
      }),
      'private',
    );

    this.subnetGroup = address(
      new DbSubnetGroup(this, 'subnet-group', {
        name: prefixed(RESOURCE_SUFFIXES.subnetGroup),
        description: `Private subnets of ${NAME_PREFIX} RDS`,
        subnetIds: props.privateSubnetIds.asList,
        tags: nameTags(RESOURCE_SUFFIXES.subnetGroup),
      }),
      'main',
    );

    this.databaseSecurityGroup = address(
      new SecurityGroup(this, 'database', {
        namePrefix: prefixed('rds-'),
        description: 'AccessWeaver RDS: PostgreSQL from authorized clients only',
        vpcId: props.vpcId.asString,
        // Explicitly none rather than absent: an absent egress leaves rules made outside the module in place.
        egress: [],
        tags: nameTags('rds-sg'),
        lifecycle: { createBeforeDestroy: true },
      }),
      'rds',
    );

    this.clientSecurityGroup = address(
      new SecurityGroup(this, 'client', {
        namePrefix: prefixed('rds-client-'),
        description: 'Attach to services that connect to the AccessWeaver database',
        vpcId: props.vpcId.asString,
        tags: nameTags('rds-client-sg'),
        lifecycle: { createBeforeDestroy: true },
      }),
      'rds_client',
    );
    this.addRules(props);
    this.addNetworkAcl(props);
  }

  /** PostgreSQL into the database group from the client group and the allowed groups; out of the client group. */
  private addRules(props: DatabaseNetworkProps): void {
    address(
      new VpcSecurityGroupIngressRule(this, 'from-clients', {
        securityGroupId: this.databaseSecurityGroup.id,
        referencedSecurityGroupId: this.clientSecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: DATABASE_PORT,
        toPort: DATABASE_PORT,
        description: 'PostgreSQL from the client security group',
        tags: nameTags('rds-from-clients'),
      }),
      'rds_from_clients',
    );

    const allowed = addressOf(props.allowedSecurityGroupIds);
    const allowedCount = TerraformCount.of(tf.number(`length(${allowed})`));
    address(
      new VpcSecurityGroupIngressRule(this, 'from-allowed', {
        count: allowedCount,
        securityGroupId: this.databaseSecurityGroup.id,
        referencedSecurityGroupId: tf.string(`${allowed}[count.index]`),
        ipProtocol: 'tcp',
        fromPort: DATABASE_PORT,
        toPort: DATABASE_PORT,
        description: 'PostgreSQL from an allowed security group',
        tags: nameTags('rds-from-allowed'),
      }),
      'rds_from_allowed',
    );

    address(
      new VpcSecurityGroupEgressRule(this, 'client-to-database', {
        securityGroupId: this.clientSecurityGroup.id,
        referencedSecurityGroupId: this.databaseSecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: DATABASE_PORT,
        toPort: DATABASE_PORT,
        description: 'PostgreSQL to the AccessWeaver database',
        tags: nameTags('rds-client-to-rds'),
      }),
      'rds_client_to_rds',
    );
  }

  /** The opt-in network ACL on the database subnets: PostgreSQL and return traffic from the VPC CIDR only. */
  private addNetworkAcl(props: DatabaseNetworkProps): void {
    const vpcCidr = props.vpcCidr.asString;
    address(
      new NetworkAcl(this, 'acl', {
        count: tf.number(`${addressOf(props.enableNetworkAcl)} ? 1 : 0`),
        vpcId: props.vpcId.asString,
        subnetIds: props.privateSubnetIds.asList,
        ingress: [
          {
            ruleNo: 100,
            protocol: 'tcp',
            action: 'allow',
            fromPort: DATABASE_PORT,
            toPort: DATABASE_PORT,
            cidrBlock: vpcCidr,
          },
          // Replies to connections the instances open themselves (replication between primary and replicas).
          {
            ruleNo: 110,
            protocol: 'tcp',
            action: 'allow',
            fromPort: 1024,
            toPort: 65535,
            cidrBlock: vpcCidr,
          },
        ],
        egress: [
          {
            ruleNo: 100,
            protocol: 'tcp',
            action: 'allow',
            fromPort: 1024,
            toPort: 65535,
            cidrBlock: vpcCidr,
          },
        ],
        tags: nameTags('rds-nacl'),
        lifecycle: {
          precondition: [
            {
              condition: tf.string(`${addressOf(props.vpcCidr)} != null`),
              errorMessage: 'enable_network_acl needs vpc_cidr: the ACL admits PostgreSQL from that CIDR only.',
            },
          ],
        },
      }),
      'rds',
    );
  }
}
