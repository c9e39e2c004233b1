import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { VpcStack, VpcStackProps } from '../../src/stacks/vpc-stack';
import { Testing } from 'cdktf';
import { LOCAL_STATE, resourcesOf, synthJson, testApp } from './support';

function vpcStack(environment: string, props: Partial<VpcStackProps> = {}): VpcStack {
  return new VpcStack(testApp(), `vpc-${environment}`, { environment, stateBackend: LOCAL_STATE, ...props });
}

describe('vpc-<env>', () => {
  test('creates the VPC with the environment CIDR and DNS for the endpoints', () => {
    expect(Testing.synth(vpcStack('staging'))).toHaveResourceWithProperties(Vpc, {
      cidr_block: '10.20.0.0/16',
      enable_dns_support: true,
      enable_dns_hostnames: true,
    });
  });

  test('takes a configured CIDR', () => {
    expect(
      Testing.synth(vpcStack('dev', { vpcCidr: '172.16.0.0/20', privateSubnetPrefix: 23 })),
    ).toHaveResourceWithProperties(Vpc, {
      cidr_block: '172.16.0.0/20',
    });
  });

  test('places one private subnet in each of three availability zones', () => {
    const subnets = Object.values(resourcesOf(synthJson(vpcStack('prod')), 'aws_subnet')).filter(
      (subnet) => (subnet.tags as Record<string, string>).Tier === 'private',
    );
    expect(subnets.map((subnet) => [subnet.cidr_block, subnet.availability_zone])).toEqual([
      ['10.30.0.0/20', '${element(data.aws_availability_zones.zones.names, 0)}'],
      ['10.30.16.0/20', '${element(data.aws_availability_zones.zones.names, 1)}'],
      ['10.30.32.0/20', '${element(data.aws_availability_zones.zones.names, 2)}'],
    ]);
  });

  test('gives no subnet public addresses on launch', () => {
    const subnets = Object.values(resourcesOf(synthJson(vpcStack('prod')), 'aws_subnet'));
    expect(subnets.every((subnet) => subnet.map_public_ip_on_launch === false)).toBe(true);
  });

  test('dev shares one NAT gateway between its private route tables', () => {
    const synth = synthJson(vpcStack('dev'));
    expect(Object.keys(resourcesOf(synth, 'aws_nat_gateway'))).toEqual(['nat-gateway-0']);
    const privateRoutes = Object.entries(resourcesOf(synth, 'aws_route')).filter(([id]) => id.startsWith('private-'));
    expect(privateRoutes.map(([, route]) => route.nat_gateway_id)).toEqual([
      '${aws_nat_gateway.nat-gateway-0.id}',
      '${aws_nat_gateway.nat-gateway-0.id}',
      '${aws_nat_gateway.nat-gateway-0.id}',
    ]);
  });

  test('prod routes each zone through its own NAT gateway', () => {
    const synth = synthJson(vpcStack('prod'));
    const privateRoutes = Object.entries(resourcesOf(synth, 'aws_route')).filter(([id]) => id.startsWith('private-'));
    expect(privateRoutes.map(([, route]) => [route.route_table_id, route.nat_gateway_id])).toEqual([
      ['${aws_route_table.private-route-table-0.id}', '${aws_nat_gateway.nat-gateway-0.id}'],
      ['${aws_route_table.private-route-table-1.id}', '${aws_nat_gateway.nat-gateway-1.id}'],
      ['${aws_route_table.private-route-table-2.id}', '${aws_nat_gateway.nat-gateway-2.id}'],
    ]);
  });

  test('NAT gateways sit in the public subnets', () => {
    const synth = synthJson(vpcStack('prod'));
    expect(Object.values(resourcesOf(synth, 'aws_nat_gateway')).map((nat) => nat.subnet_id)).toEqual([
      '${aws_subnet.public-subnet-0.id}',
      '${aws_subnet.public-subnet-1.id}',
      '${aws_subnet.public-subnet-2.id}',
    ]);
  });

  test("natGateways 'none' builds no public subnets, internet gateway or NAT", () => {
    const synth = synthJson(vpcStack('dev', { natGateways: 'none' }));
    expect({
      publicSubnets: Object.keys(resourcesOf(synth, 'aws_subnet')).filter((id) => id.startsWith('public')),
      internetGateways: Object.keys(resourcesOf(synth, 'aws_internet_gateway')),
      natGateways: Object.keys(resourcesOf(synth, 'aws_nat_gateway')),
      routes: Object.keys(resourcesOf(synth, 'aws_route')),
    }).toEqual({ publicSubnets: [], internetGateways: [], natGateways: [], routes: [] });
  });

  test('has interface endpoints for Secrets Manager, ECR and CloudWatch Logs in the private subnets', () => {
    const endpoints = Object.values(resourcesOf(synthJson(vpcStack('dev')), 'aws_vpc_endpoint')).filter(
      (endpoint) => endpoint.vpc_endpoint_type === 'Interface',
    );
    const described = endpoints.map((endpoint) => [
      endpoint.service_name,
      endpoint.private_dns_enabled,
      endpoint.subnet_ids,
    ]);
    expect(described.sort()).toEqual(
      ['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager'].map((service) => [
        `com.amazonaws.eu-west-3.${service}`,
        true,
        ['${aws_subnet.private-subnet-0.id}', '${aws_subnet.private-subnet-1.id}', '${aws_subnet.private-subnet-2.id}'],
      ]),
    );
  });

  test('has an S3 gateway endpoint on every private route table (ECR image layers)', () => {
    expect(Testing.synth(vpcStack('dev'))).toHaveResourceWithProperties(VpcEndpoint, {
      service_name: 'com.amazonaws.eu-west-3.s3',
      vpc_endpoint_type: 'Gateway',
      route_table_ids: [
        '${aws_route_table.private-route-table-0.id}',
        '${aws_route_table.private-route-table-1.id}',
        '${aws_route_table.private-route-table-2.id}',
      ],
    });
  });

  test('the endpoints accept HTTPS from the VPC only', () => {
    const group = resourcesOf(synthJson(vpcStack('dev')), 'aws_security_group')['endpoint-security-group'];
    expect(group?.ingress).toEqual([
      expect.objectContaining({ protocol: 'tcp', from_port: 443, to_port: 443, cidr_blocks: ['10.10.0.0/16'] }),
    ]);
  });

  // An aws_default_security_group that declares no rule makes Terraform revoke every rule of the VPC's default group.
  test('empties the default security group', () => {
    expect(resourcesOf(synthJson(vpcStack('dev')), 'aws_default_security_group')).toEqual({
      'default-security-group': { vpc_id: '${aws_vpc.vpc.id}', tags: { Name: 'accessweaver-dev-default-deny' } },
    });
  });

  test('outputs vpc_id, vpc_cidr, private_subnet_ids, public_subnet_ids and availability_zones', () => {
    const outputs = synthJson(vpcStack('dev')).output;
    expect(Object.fromEntries(Object.entries(outputs).map(([name, output]) => [name, output.value]))).toEqual({
      vpc_id: '${aws_vpc.vpc.id}',
      vpc_cidr: '${aws_vpc.vpc.cidr_block}',
      private_subnet_ids: [
        '${aws_subnet.private-subnet-0.id}',
        '${aws_subnet.private-subnet-1.id}',
        '${aws_subnet.private-subnet-2.id}',
      ],
      public_subnet_ids: [
        '${aws_subnet.public-subnet-0.id}',
        '${aws_subnet.public-subnet-1.id}',
        '${aws_subnet.public-subnet-2.id}',
      ],
      availability_zones: '${slice(data.aws_availability_zones.zones.names, 0, 3)}',
    });
  });

  test('tags every resource with project, environment and stack through the provider', () => {
    expect(synthJson(vpcStack('staging')).provider.aws?.[0]).toEqual({
      region: 'eu-west-3',
      default_tags: [
        { tags: { Project: 'accessweaver', Environment: 'staging', Stack: 'vpc-staging', ManagedBy: 'cdktf' } },
      ],
    });
  });

  test('keeps its state where the rds and ecs stacks read it', () => {
    expect(synthJson(vpcStack('dev')).terraform.backend).toEqual({
      local: { path: '/var/lib/accessweaver-state/terraform.vpc-dev.tfstate' },
    });
  });

  test('adds one public subnet per zone, for the NAT gateways', () => {
    const subnets = Object.values(resourcesOf(synthJson(vpcStack('staging')), 'aws_subnet')).filter(
      (subnet) => (subnet.tags as Record<string, string>).Tier === 'public',
    );
    expect(subnets.map((subnet) => subnet.cidr_block)).toEqual(['10.20.48.0/24', '10.20.49.0/24', '10.20.50.0/24']);
  });
});

describe('vpc-<env> bad input', () => {
  test('an unknown environment', () => {
    expect(() => vpcStack('qa')).toThrow("Environment must be dev, staging, or prod. Got 'qa'.");
  });

  test('a CIDR that does not fit the subnets', () => {
    expect(() => vpcStack('prod', { vpcCidr: '10.30.0.0/20' })).toThrow(
      "vpc-prod: VPC CIDR '10.30.0.0/20' is too small for 3 private /20 and 3 public /24 subnets.",
    );
  });

  test('a CIDR with host bits set', () => {
    expect(() => vpcStack('dev', { vpcCidr: '10.10.4.0/16' })).toThrow(
      "vpc-dev: VPC CIDR '10.10.4.0/16' has host bits set; did you mean '10.10.0.0/16'?",
    );
  });

  test('a single availability zone', () => {
    expect(() => vpcStack('dev', { azCount: 1 })).toThrow('vpc-dev: azCount 1 must be an integer from 2 to 6.');
  });

  test('an unknown NAT layout', () => {
    expect(() => vpcStack('dev', { natGateways: 'shared' as never })).toThrow(
      "vpc-dev: natGateways 'shared' must be 'single', 'per-az' or 'none'.",
    );
  });

  test('a project name that cannot prefix AWS names', () => {
    expect(() => vpcStack('dev', { projectName: 'Access Weaver' })).toThrow(
      "vpc-dev: project name 'Access Weaver' must be 2 to 30 lowercase letters",
    );
  });
});
