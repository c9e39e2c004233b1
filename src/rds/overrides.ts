/**
 * Caller overrides of the environment's sizing row: any field of DatabaseSizing. Their rules are the fields' rules
 * (rules.ts), checked in TypeScript for literal overrides and as validations of the module's `instance_overrides`.
 */
import { DatabaseSizing, SIZING_ATTRIBUTES } from '../config/environments';
import { FIELD_RULES, SIZING_FIELDS } from './rules';

/** Overrides as TypeScript callers write them: DatabaseSizing keys, each optional. */
export type SizingOverrides = { readonly [K in keyof DatabaseSizing]?: DatabaseSizing[K] };

/** The module input's Terraform type: an object of optional attributes, named as in `local.instance_configs`. */
export const OVERRIDES_HCL_TYPE = `object({ ${SIZING_FIELDS.map(
  (field) => `${SIZING_ATTRIBUTES[field]} = optional(${FIELD_RULES[field].type})`,
).join(', ')} })`;

/** The overrides as the module's `instance_overrides` object (attributes named as in `local.instance_configs`). */
export function overridesObject(overrides: SizingOverrides): Record<string, unknown> {
  return Object.fromEntries(
    (Object.entries(overrides) as [keyof DatabaseSizing, unknown][])
      .filter(([, value]) => value !== undefined)
      .map(([field, value]) => [SIZING_ATTRIBUTES[field], value]),
  );
}
