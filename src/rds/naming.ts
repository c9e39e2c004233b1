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
/** The caller's tags (var.tags). */
export const CALLER_TAGS_LOCAL = 'extra_tags';
/** Project and Environment: they say which module instance a resource belongs to; no caller tag replaces them. */
export const IDENTITY_TAGS_LOCAL = 'identity_tags';
/** The tags of a resource without a Name of its own (recovery points): defaults, then caller's, then identity. */
export const COMMON_TAGS_LOCAL = 'common_tags';
/** ManagedBy = "terraform": a default the caller's tags may replace. */
export const DEFAULT_TAGS_LOCAL = 'default_tags';

/** `<project>-<env>` inside a Terraform string. */
export const NAME_PREFIX = `\${local.${NAME_PREFIX_LOCAL}}`;

/** `${local.name_prefix}-<suffix>`: the `<project>-<env>-<suffix>` names the runbook and stacks rely on. */
export const prefixed = (suffix: string): string => `${NAME_PREFIX}-${suffix}`;

/**
 * A resource's tags, in order of precedence: its Name and the identity tags, then the caller's tags, then the
 * module's defaults (`extra` here, e.g. Backup = "required" on the primary, and ManagedBy). So a caller's
 * `Backup = "critical"` wins over the module's `Backup = "required"`, and no caller tag renames a resource.
 */
export const nameTags = (suffix: string, extra: Record<string, string> = {}): Record<string, string> => {
  const defaults = Object.entries(extra).map(([key, value]) => `${key} = ${JSON.stringify(value)}`);
  const resourceDefaults = defaults.length === 0 ? '' : `{ ${defaults.join(', ')} }, `;
  return tf.any(
    `merge(local.${DEFAULT_TAGS_LOCAL}, ${resourceDefaults}local.${CALLER_TAGS_LOCAL}, local.${IDENTITY_TAGS_LOCAL}, { Name = "${prefixed(suffix)}" })`,
  );
};
