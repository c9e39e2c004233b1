/**
 * A loopback stand-in for the AWS read APIs the module's data sources call at plan time (EC2 DescribeSubnets,
 * STS GetCallerIdentity). Anything else is answered with an error and recorded, so a test can assert that the
 * plan called nothing unexpected.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';

export const STAND_IN_ACCOUNT = '123456789012';

export interface AwsStandIn {
  readonly endpoint: string;
  readonly unexpected: string[];
  close(): Promise<void>;
}

export interface StandInOptions {
  /**
   * Availability zone of each subnet ID the plan may look up; 'any' answers every ID asked for, spread over the
   * region's zones a, b and c in the order asked (a caller's own IDs, unknown in advance).
   */
  readonly subnets: Record<string, string> | 'any';
  readonly region: string;
}

/** The zone of each subnet ID of one DescribeSubnets request, or undefined for an ID the stand-in does not know. */
function zonesOf(ids: readonly string[], options: StandInOptions): (string | undefined)[] {
  const { subnets, region } = options;
  return ids.map((id, i) => (subnets === 'any' ? `${region}${'abc'[i % 3]}` : subnets[id]));
}

export async function startAwsStandIn(options: StandInOptions): Promise<AwsStandIn> {
  const unexpected: string[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const params = new URLSearchParams(body);
      const action = params.get('Action');
      const xml = (status: number, text: string) => {
        response.writeHead(status, { 'content-type': 'text/xml' });
        response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${text}`);
      };
      if (action === 'GetCallerIdentity') {
        return xml(
          200,
          `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
            `<Arn>arn:aws:iam::${STAND_IN_ACCOUNT}:user/offline</Arn><UserId>AIDAOFFLINE</UserId><Account>` +
            `${STAND_IN_ACCOUNT}</Account>` +
            `</GetCallerIdentityResult><ResponseMetadata>` +
            `<RequestId>offline</RequestId></` +
            `ResponseMetadata></GetCallerIdentityResponse>`,
        );
      }
      if (action === 'DescribeSubnets') {
        const ids = [...params.entries()].filter(([key]) => /^SubnetId\.\d+$/.test(key)).map(([, value]) => value);
        const zones = zonesOf(ids, options);
        const items = ids
          .map((id, i) => [id, zones[i]] as const)
          .filter(([, zone]) => zone !== undefined)
          .map(
            ([id, zone]) =>
              `<item><subnetId>${id}</subnetId><subnetArn>arn:aws:ec2:${options.region}:${STAND_IN_ACCOUNT}` +
              `:subnet/${id}</subnetArn>` +
              `<state>available</state><vpcId>vpc-0standin</` +
              `vpcId><cidrBlock>10.0.0.0/24</cidrBlock>` +
              `<availableIpAddressCount>250</` +
              `availableIpAddressCount>` +
              `<availabilityZone>${zone}</availabilityZone><availabilityZoneId>` +
              `${zone}-id</availabilityZoneId>` +
              `<defaultForAz>false</defaultForAz><mapPublicIpOnLaunch>false</mapPublicIpOnLaunch><ownerId>` +
              `${STAND_IN_ACCOUNT}</ownerId>` +
              `<assignIpv6AddressOnCreation>false</` +
              `assignIpv6AddressOnCreation>` +
              `<ipv6CidrBlockAssociationSet/><tagSet/></item>`,
          )
          .join('');
        return xml(
          200,
          `<DescribeSubnetsResponse ` +
            `xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>offline</requestId><subnetSet>${items}` +
            `</subnetSet></DescribeSubnetsResponse>`,
        );
      }
      unexpected.push(action ?? `${request.method} ${request.url}`);
      return xml(
        400,
        `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>not offered offline: ` +
          `${action}</Message></Error><RequestId>offline</RequestId></ErrorResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    unexpected,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A provider override pointing the AWS provider at the stand-in, with fake credentials and no account lookups. */
export function providerOverride(endpoint: string, region: string): string {
  return `provider "aws" {
  region                      = "${region}"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    ec2 = "${endpoint}"
    sts = "${endpoint}"
  }
}
`;
}
