import { formatCidr, parseCidr, planSubnets } from '../../src/stacks/cidr';

describe('parseCidr', () => {
  test('round-trips a network address', () => {
    expect(formatCidr(parseCidr('10.20.0.0/16', 'CIDR'))).toBe('10.20.0.0/16');
  });

  test('rejects host bits and suggests the network address', () => {
    expect(() => parseCidr('10.20.1.0/16', 'VPC CIDR')).toThrow(
      "VPC CIDR '10.20.1.0/16' has host bits set; did you mean '10.20.0.0/16'?",
    );
  });

  test('rejects an octet above 255', () => {
    expect(() => parseCidr('10.256.0.0/16', 'VPC CIDR')).toThrow("VPC CIDR '10.256.0.0/16' is not an IPv4 CIDR block");
  });

  test('rejects text that is not a CIDR block', () => {
    expect(() => parseCidr('10.0.0.0', 'VPC CIDR')).toThrow("VPC CIDR '10.0.0.0' is not an IPv4 CIDR block");
  });
});

describe('planSubnets', () => {
  test('lays the private subnets first, then the public ones, from the start of the block', () => {
    expect(
      planSubnets('10.30.0.0/16', { privateCount: 3, privatePrefix: 20, publicCount: 3, publicPrefix: 24 }),
    ).toEqual({
      privateSubnets: ['10.30.0.0/20', '10.30.16.0/20', '10.30.32.0/20'],
      publicSubnets: ['10.30.48.0/24', '10.30.49.0/24', '10.30.50.0/24'],
    });
  });

  test('aligns a larger block after smaller ones', () => {
    expect(
      planSubnets('10.0.0.0/16', { privateCount: 1, privatePrefix: 24, publicCount: 1, publicPrefix: 20 }),
    ).toEqual({ privateSubnets: ['10.0.0.0/24'], publicSubnets: ['10.0.16.0/20'] });
  });

  test('fills a block exactly', () => {
    expect(
      planSubnets('10.0.0.0/22', { privateCount: 2, privatePrefix: 24, publicCount: 2, publicPrefix: 24 })
        .publicSubnets,
    ).toEqual(['10.0.2.0/24', '10.0.3.0/24']);
  });

  test('names the CIDR and the subnets that do not fit', () => {
    expect(() =>
      planSubnets('10.0.0.0/20', { privateCount: 3, privatePrefix: 20, publicCount: 3, publicPrefix: 24 }),
    ).toThrow("VPC CIDR '10.0.0.0/20' is too small for 3 private /20 and 3 public /24 subnets.");
  });

  test('rejects a VPC prefix AWS does not accept', () => {
    expect(() =>
      planSubnets('10.0.0.0/8', { privateCount: 3, privatePrefix: 20, publicCount: 0, publicPrefix: 24 }),
    ).toThrow("VPC CIDR '10.0.0.0/8' has prefix /8; AWS VPCs take /16 to /28.");
  });

  test('a subnet wider than the VPC does not fit', () => {
    expect(() =>
      planSubnets('10.0.0.0/24', { privateCount: 1, privatePrefix: 20, publicCount: 0, publicPrefix: 26 }),
    ).toThrow("VPC CIDR '10.0.0.0/24' is too small for 1 private /20 subnets.");
  });

  test('rejects a subnet prefix AWS does not accept', () => {
    expect(() =>
      planSubnets('10.0.0.0/24', { privateCount: 2, privatePrefix: 29, publicCount: 0, publicPrefix: 26 }),
    ).toThrow('The private subnet prefix /29 must be an integer from /16 to /28.');
  });
});
