/**
 * vpc-<env>: the network the database and the services live in.
 *
 * Private subnets (one per availability zone) hold the RDS instances and the Fargate tasks.
 * Public subnets exist only to host NAT gateways. Interface endpoints for Secrets Manager, ECR
 * and CloudWatch Logs, and an S3 gateway endpoint (ECR image layers), let private tasks start
 * and log without going through NAT.
 */
import { Fn, TerraformOutput } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { NetworkSizing } from '../config/environments';
import { planSubnets } from './cidr';
import { EnvironmentStack, EnvironmentStackProps, VPC_OUTPUTS } from './environment-stack';

/** NAT layout: the environment table's choices, plus 'none' for a VPC without internet egress. */
export type NatGatewayMode = NetworkSizing['natGateways'] | 'none';

/** Interface endpoints the private tasks need: credentials, image pulls and logs. */
export const INTERFACE_ENDPOINT_SERVICES = ['secretsmanager', 'ecr.api', 'ecr.dkr', 'logs'] as const;

export interface VpcStackProps extends EnvironmentStackProps {
  /**
   * VPC CIDR block (/16 to /28). The subnets are carved from its start.
   * @default the environment table's network.vpcCidr
   */
  readonly vpcCidr?: string;
  /**
   * Availability zones to spread the subnets over (the database subnet group needs two).
   * @default the environment table's network.azCount
   */
  readonly azCount?: number;
  /**
   * 'single' shares one NAT gateway, 'per-az' gives each zone its own, 'none' creates no public
   * subnets, internet gateway or NAT (AWS services stay reachable through the endpoints).
   * @default the environment table's network.natGateways
   */
  readonly natGateways?: NatGatewayMode;
  /**
   * Prefix length of each private subnet.
   * @default 20 (4,091 usable addresses per zone, room for Fargate task ENIs)
   */
  readonly privateSubnetPrefix?: number;
  /**
   * Prefix length of each public subnet (they hold only NAT gateways).
   * @default 24
   */
  readonly publicSubnetPrefix?: number;
}

const MIN_AZ_COUNT = 2;
const MAX_AZ_COUNT = 6;

/** Runs `fn`, prefixing any error with the stack name so a failed synth says which stack is wrong. */
function withStackName<T>(stackName: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new Error(`${stackName}: ${(error as Error).message}`, { cause: error });
  }
}

export class VpcStack extends EnvironmentStack {
  readonly vpc: Vpc;
  readonly privateSubnets: readonly Subnet[];
  readonly publicSubnets: readonly Subnet[];
  readonly natGateways: readonly NatGateway[];
  readonly privateRouteTables: readonly RouteTable[];
  readonly interfaceEndpoints: readonly VpcEndpoint[];
  readonly s3Endpoint: VpcEndpoint;

  constructor(scope: Construct, id: string, props: VpcStackProps) {
    super(scope, id, props);
    const { vpcCidr, azCount, natMode, plan } = this.layout(id, props);
    const name = this.namePrefix;
    const zones = new DataAwsAvailabilityZones(this, 'zones', {
      state: 'available',
      // Regular zones only: Local and Wavelength zones lack RDS and most endpoints.
      filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }],
    });
    const zoneName = (index: number) => Fn.element(zones.names, index);

    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: vpcCidr,
      // Both are required for the interface endpoints' private DNS names.
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: `${name}-vpc` },
    });

    // The default security group would otherwise allow all traffic between its members; nothing uses it.
    new DefaultSecurityGroup(this, 'default-security-group', {
      vpcId: this.vpc.id,
      tags: { Name: `${name}-default-deny` },
    });

    this.privateSubnets = plan.privateSubnets.map(
      (cidrBlock, index) =>
        new Subnet(this, `private-subnet-${index}`, {
          vpcId: this.vpc.id,
          cidrBlock,
          availabilityZone: zoneName(index),
          mapPublicIpOnLaunch: false,
          tags: { Name: `${name}-private-${index + 1}`, Tier: 'private' },
        }),
    );

    const egress =
      natMode === 'none' ? { publicSubnets: [], natGateways: [] } : this.addEgress(plan, zoneName, azCount, natMode);
    this.publicSubnets = egress.publicSubnets;
    this.natGateways = egress.natGateways;
    this.privateRouteTables = this.addPrivateRoutes(egress.natGateways);
    const endpoints = this.addEndpoints(vpcCidr);
    this.interfaceEndpoints = endpoints.interfaceEndpoints;
    this.s3Endpoint = endpoints.s3Endpoint;

    new TerraformOutput(this, VPC_OUTPUTS.vpcId, { value: this.vpc.id, description: 'VPC id' });
    new TerraformOutput(this, VPC_OUTPUTS.vpcCidr, { value: this.vpc.cidrBlock, description: 'VPC CIDR block' });
    new TerraformOutput(this, VPC_OUTPUTS.privateSubnetIds, {
      value: this.privateSubnets.map((subnet) => subnet.id),
      description: 'Private subnet ids, one per availability zone, in zone order',
    });
    new TerraformOutput(this, VPC_OUTPUTS.publicSubnetIds, {
      value: this.publicSubnets.map((subnet) => subnet.id),
      description: 'Public subnet ids (empty without internet egress)',
    });
    new TerraformOutput(this, VPC_OUTPUTS.availabilityZones, {
      value: Fn.slice(zones.names, 0, azCount),
      description: 'Availability zones of the subnets, in subnet order',
    });
  }

  /** The environment's network layout with the props applied, checked, and its subnets carved. */
  private layout(id: string, props: VpcStackProps) {
    const network = this.config.network;
    const vpcCidr = props.vpcCidr ?? network.vpcCidr;
    const azCount = props.azCount ?? network.azCount;
    const natMode: NatGatewayMode = props.natGateways ?? network.natGateways;
    if (!Number.isInteger(azCount) || azCount < MIN_AZ_COUNT || azCount > MAX_AZ_COUNT) {
      throw new Error(`${id}: azCount ${azCount} must be an integer from ${MIN_AZ_COUNT} to ${MAX_AZ_COUNT}.`);
    }
    if (!['single', 'per-az', 'none'].includes(natMode)) {
      throw new Error(`${id}: natGateways '${natMode}' must be 'single', 'per-az' or 'none'.`);
    }
    const withEgress = natMode !== 'none';
    const plan = withStackName(id, () =>
      planSubnets(vpcCidr, {
        privateCount: azCount,
        privatePrefix: props.privateSubnetPrefix ?? 20,
        publicCount: withEgress ? azCount : 0,
        publicPrefix: props.publicSubnetPrefix ?? 24,
      }),
    );
    return { vpcCidr, azCount, natMode, plan };
  }

  /** Internet egress: an internet gateway, public subnets routed to it, and the NAT gateways in them. */
  private addEgress(
    plan: ReturnType<typeof planSubnets>,
    zoneName: (index: number) => string,
    azCount: number,
    natMode: NatGatewayMode,
  ) {
    const name = this.namePrefix;
    const internetGateway = new InternetGateway(this, 'internet-gateway', {
      vpcId: this.vpc.id,
      tags: { Name: `${name}-igw` },
    });
    const publicRouteTable = new RouteTable(this, 'public-route-table', {
      vpcId: this.vpc.id,
      tags: { Name: `${name}-public` },
    });
    new Route(this, 'public-default-route', {
      routeTableId: publicRouteTable.id,
      destinationCidrBlock: '0.0.0.0/0',
      gatewayId: internetGateway.id,
    });
    const publicSubnets = plan.publicSubnets.map((cidrBlock, index) => {
      const subnet = new Subnet(this, `public-subnet-${index}`, {
        vpcId: this.vpc.id,
        cidrBlock,
        availabilityZone: zoneName(index),
        // Nothing but NAT gateways lives here; no instance should get a public address by default.
        mapPublicIpOnLaunch: false,
        tags: { Name: `${name}-public-${index + 1}`, Tier: 'public' },
      });
      new RouteTableAssociation(this, `public-subnet-${index}-routes`, {
        subnetId: subnet.id,
        routeTableId: publicRouteTable.id,
      });
      return subnet;
    });
    const natCount = natMode === 'per-az' ? azCount : 1;
    const natGateways = publicSubnets.slice(0, natCount).map((subnet, index) => {
      const address = new Eip(this, `nat-address-${index}`, {
        domain: 'vpc',
        tags: { Name: `${name}-nat-${index + 1}` },
        dependsOn: [internetGateway],
      });
      return new NatGateway(this, `nat-gateway-${index}`, {
        allocationId: address.allocationId,
        subnetId: subnet.id,
        tags: { Name: `${name}-nat-${index + 1}` },
        dependsOn: [internetGateway],
      });
    });
    return { publicSubnets, natGateways };
  }

  /** One route table per zone even with a shared NAT, so switching to 'per-az' only changes routes. */
  private addPrivateRoutes(natGateways: readonly NatGateway[]): RouteTable[] {
    const name = this.namePrefix;
    return this.privateSubnets.map((subnet, index) => {
      const table = new RouteTable(this, `private-route-table-${index}`, {
        vpcId: this.vpc.id,
        tags: { Name: `${name}-private-${index + 1}` },
      });
      new RouteTableAssociation(this, `private-subnet-${index}-routes`, {
        subnetId: subnet.id,
        routeTableId: table.id,
      });
      if (natGateways.length > 0) {
        new Route(this, `private-default-route-${index}`, {
          routeTableId: table.id,
          destinationCidrBlock: '0.0.0.0/0',
          natGatewayId: natGateways[Math.min(index, natGateways.length - 1)]!.id,
        });
      }
      return table;
    });
  }

  /** Interface endpoints (HTTPS from inside the VPC only) and the S3 gateway endpoint on the private routes. */
  private addEndpoints(vpcCidr: string) {
    const name = this.namePrefix;
    const endpointSecurityGroup = new SecurityGroup(this, 'endpoint-security-group', {
      name: `${name}-vpc-endpoints`,
      description: 'HTTPS from inside the VPC to the interface endpoints',
      vpcId: this.vpc.id,
      ingress: [
        {
          description: 'HTTPS from the VPC',
          protocol: 'tcp',
          fromPort: 443,
          toPort: 443,
          cidrBlocks: [vpcCidr],
        },
      ],
      tags: { Name: `${name}-vpc-endpoints` },
    });

    const interfaceEndpoints = INTERFACE_ENDPOINT_SERVICES.map(
      (service) =>
        new VpcEndpoint(this, `endpoint-${service.replace('.', '-')}`, {
          vpcId: this.vpc.id,
          serviceName: `com.amazonaws.${this.region}.${service}`,
          vpcEndpointType: 'Interface',
          privateDnsEnabled: true,
          subnetIds: this.privateSubnets.map((subnet) => subnet.id),
          securityGroupIds: [endpointSecurityGroup.id],
          tags: { Name: `${name}-${service}` },
        }),
    );

    const s3Endpoint = new VpcEndpoint(this, 'endpoint-s3', {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${this.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: this.privateRouteTables.map((table) => table.id),
      tags: { Name: `${name}-s3` },
    });
    return { interfaceEndpoints, s3Endpoint };
  }
}
