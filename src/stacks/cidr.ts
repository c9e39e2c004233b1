/**
 * IPv4 CIDR arithmetic for the VPC stack.
 *
 * Subnets are carved at synth time (not with Terraform's `cidrsubnet`) so that a VPC CIDR too
 * small for the requested subnets is an error before anything is written, and the plan shows
 * literal CIDRs a reviewer can read.
 */

/** AWS accepts VPC (and subnet) prefixes from /16 to /28. */
export const MIN_VPC_PREFIX = 16;
export const MAX_SUBNET_PREFIX = 28;

export interface Ipv4Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefix: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; `what` names the value in error messages. Host bits must be zero. */
export function parseCidr(text: string, what: string): Ipv4Cidr {
  const match = CIDR_PATTERN.exec(text);
  if (!match) {
    throw new Error(`${what} '${text}' is not an IPv4 CIDR block (expected a.b.c.d/n).`);
  }
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) {
    throw new Error(`${what} '${text}' is not an IPv4 CIDR block (octet above 255 or prefix above /32).`);
  }
  const address = octets.reduce((acc, octet) => acc * 256 + octet, 0);
  const network = address - (address % blockSize(prefix));
  if (network !== address) {
    throw new Error(`${what} '${text}' has host bits set; did you mean '${formatCidr({ network, prefix })}'?`);
  }
  return { network, prefix };
}

export function formatCidr(cidr: Ipv4Cidr): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(cidr.network / 2 ** shift) % 256);
  return `${octets.join('.')}/${cidr.prefix}`;
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

export interface SubnetRequest {
  /** Number of private subnets (one per availability zone). */
  readonly privateCount: number;
  readonly privatePrefix: number;
  /** Number of public subnets (0 when the environment has no internet egress). */
  readonly publicCount: number;
  readonly publicPrefix: number;
}

export interface SubnetPlan {
  readonly privateSubnets: readonly string[];
  readonly publicSubnets: readonly string[];
}

/**
 * Lays out the private subnets first, then the public ones, each aligned to its own size,
 * from the start of the VPC block. The rest of the block stays free for later tiers.
 */
export function planSubnets(vpcCidr: string, request: SubnetRequest): SubnetPlan {
  const vpc = parseCidr(vpcCidr, 'VPC CIDR');
  if (vpc.prefix < MIN_VPC_PREFIX || vpc.prefix > MAX_SUBNET_PREFIX) {
    throw new Error(
      `VPC CIDR '${vpcCidr}' has prefix /${vpc.prefix}; AWS VPCs take /${MIN_VPC_PREFIX} to /${MAX_SUBNET_PREFIX}.`,
    );
  }
  for (const [label, prefix] of [
    ['private', request.privatePrefix],
    ['public', request.publicPrefix],
  ] as const) {
    // A prefix shorter than the VPC's is caught below as subnets that do not fit.
    if (!Number.isInteger(prefix) || prefix < MIN_VPC_PREFIX || prefix > MAX_SUBNET_PREFIX) {
      throw new Error(
        `The ${label} subnet prefix /${prefix} must be an integer from /${MIN_VPC_PREFIX} to /${MAX_SUBNET_PREFIX}.`,
      );
    }
  }

  const vpcEnd = vpc.network + blockSize(vpc.prefix);
  let cursor = vpc.network;
  const allocate = (count: number, prefix: number): string[] => {
    const size = blockSize(prefix);
    const blocks: string[] = [];
    for (let i = 0; i < count; i += 1) {
      cursor = Math.ceil(cursor / size) * size;
      blocks.push(formatCidr({ network: cursor, prefix }));
      cursor += size;
    }
    return blocks;
  };
  const privateSubnets = allocate(request.privateCount, request.privatePrefix);
  const publicSubnets = allocate(request.publicCount, request.publicPrefix);

  if (cursor > vpcEnd) {
    const wanted = [`${request.privateCount} private /${request.privatePrefix}`];
    if (request.publicCount > 0) wanted.push(`${request.publicCount} public /${request.publicPrefix}`);
    throw new Error(`VPC CIDR '${vpcCidr}' is too small for ${wanted.join(' and ')} subnets.`);
  }
  return { privateSubnets, publicSubnets };
}
