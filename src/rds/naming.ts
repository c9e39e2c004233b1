import { TerraformElement } from 'cdktf';
import { tf } from './expressions';

/**
 * Gives a resource its Terraform address (`aws_db_instance.main`, `aws_security_group.rds`, ...). Addresses are
 * part of the module's contract: existing state maps onto them, so renaming one needs a `moved` block.
 */
export function address<T extends TerraformElement>(element: T, logicalId: string): T {
  element.overrideLogicalId(logicalId);
  return element;
}

/** The locals every name and tag is built from (made by AccessWeaverDatabase). */
export const NAME_PREFIX_LOCAL = 'name_prefix';
export const COMMON_TAGS_LOCAL = 'common_tags';

/** `<project>-<env>` inside a Terraform string. */
export const NAME_PREFIX = `\${local.${NAME_PREFIX_LOCAL}}`;

/** `${local.name_prefix}-<suffix>`: the `<project>-<env>-<suffix>` names the runbook and stacks rely on. */
export const prefixed = (suffix: string): string => `${NAME_PREFIX}-${suffix}`;

/** The module's common tags plus a Name tag. */
export const nameTags = (suffix: string, extra: Record<string, string> = {}): Record<string, string> => {
  const extras = Object.entries(extra)
    .map(([key, value]) => `, ${key} = ${JSON.stringify(value)}`)
    .join('');
  return tf.any(`merge(local.${COMMON_TAGS_LOCAL}, { Name = "${prefixed(suffix)}"${extras} })`);
};
