import { TerraformElement } from 'cdktf';
import { tf } from './expressions';

/**
 * Every resource of the module keeps the address the original HCL module gave it (`aws_db_instance.main`,
 * `aws_security_group.rds`, ...), so state written by that module maps without `moved` blocks.
 */
export function address<T extends TerraformElement>(element: T, logicalId: string): T {
  element.overrideLogicalId(logicalId);
  return element;
}

/** `${local.name_prefix}-<suffix>`: the `<project>-<env>-<suffix>` names the runbook and stacks rely on. */
export const prefixed = (suffix: string): string => `\${local.name_prefix}-${suffix}`;

/** The module's common tags plus a Name tag. */
export const nameTags = (suffix: string, extra: Record<string, string> = {}): Record<string, string> => {
  const extras = Object.entries(extra)
    .map(([key, value]) => `, ${key} = ${JSON.stringify(value)}`)
    .join('');
  return tf.any(`merge(local.common_tags, { Name = "\${local.name_prefix}-${suffix}"${extras} })`);
};
