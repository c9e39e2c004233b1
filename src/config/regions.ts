/**
 * AWS region names, checked against the partitions (aws, aws-cn, aws-us-gov, ...) of the installed AWS SDK: the
 * list its clients resolve endpoints from. A name outside it (`eu-west-9`, `eu west 3`) would otherwise surface
 * late, as a DNS failure of the first call or a provider error at plan.
 */
import { partition } from '@aws-sdk/core/client';

/** Whether `region` is one of the regions the SDK's partitions list (not merely shaped like one). */
export function isKnownRegion(region: string): boolean {
  // partition() falls back to the partition whose pattern the name matches, without a description: not listed.
  return 'description' in partition(region);
}

/** One sentence saying why `region` is refused, or undefined when it is a listed region. */
export function regionProblem(region: string): string | undefined {
  if (isKnownRegion(region)) return undefined;
  const shaped = /^[a-z]{2}(-[a-z]+)+-\d+$/.test(region);
  return (
    `'${region}' is ${shaped ? 'not a region of any AWS partition' : 'not an AWS region name'} ` +
    "(for example eu-west-3, us-east-1; the list is the installed AWS SDK's, so a region opened since needs a " +
    'newer SDK).'
  );
}
