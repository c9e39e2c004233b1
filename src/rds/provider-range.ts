/**
 * The hashicorp/aws versions the emitted module is checked against, and the range it therefore declares.
 *
 * test/rds/provider-range.test.ts compares every resource and data source type, every argument (nested blocks
 * included) and every attribute the module reads with the schemas carried by `@cdktf/provider-aws` 20.1.0 and 21.x
 * (the 6.x line, a devDependency used only for that check), and fails when the versions below stop matching the
 * installed packages.
 */

/** The 5.x release checked: schema comparison, plus `terraform validate` and an offline plan with its binary. */
export const CHECKED_AWS_5 = '5.100.0';
/** The 6.x release checked: schema comparison only (no 6.x provider binary is available offline). */
export const CHECKED_AWS_6 = '6.25.0';
/** The hashicorp/random release checked (schema comparison against `@cdktf/provider-random`). */
export const CHECKED_RANDOM = '3.7.2';

/**
 * From the checked 5.x release to the end of the 6.x line: within a major version the provider only adds
 * arguments, so a check at 5.100.0 and at a 6.x release covers 5.100.x and 6.x; 7.0 may remove some.
 */
export const AWS_PROVIDER_RANGE = `>= ${CHECKED_AWS_5}, < 7.0.0`;

/** Changes in the v6 upgrade guide that touch what the module uses, and what the module does about each. */
export const AWS_6_UPGRADE_NOTES: readonly {
  readonly subject: string;
  readonly change: string;
  readonly here: string;
}[] = [
  {
    subject: 'data source `aws_region`, attribute `name`',
    change: 'deprecated in favour of `region`',
    here: 'still read (it returns the region on 5.x and 6.x; `region` does not exist on 5.x); moves to `region` when the range drops 5.x',
  },
  {
    subject: 'resource `aws_db_instance`',
    change: '`character_set_name` is refused with `replicate_source_db`',
    here: 'not set (PostgreSQL has no character set argument); replicas are unaffected',
  },
  {
    subject: 'every regional resource',
    change: 'a new optional `region` argument (Enhanced Region Support)',
    here: "not set: every resource follows the caller's provider region, as on 5.x",
  },
];

/** The "Provider versions" section of the module README. */
export function providerRangeReadme(): string {
  const notes = AWS_6_UPGRADE_NOTES.map((n) => `| ${n.subject} | ${n.change} | ${n.here} |`).join('\n');
  return `## Provider versions

\`hashicorp/aws ${AWS_PROVIDER_RANGE}\`. What was verified, and how:

- **${CHECKED_AWS_5}**: \`terraform validate\` and an offline \`terraform plan\` of each example with the provider
  binary, and a schema comparison (below).
- **${CHECKED_AWS_6}**: schema comparison only; no 6.x provider binary was run. Every resource and data source type the
  module declares, every argument it sets (nested blocks included) and every attribute it reads exists in the
  schema carried by the prebuilt bindings \`@cdktf/provider-aws\` 21.x (generated from ${CHECKED_AWS_6}), as in those of
  20.1.0 (${CHECKED_AWS_5}); the reader of those bindings is itself checked against the schema the ${CHECKED_AWS_5}
  binary reports (\`terraform providers schema -json\`).
- The provider's v6 upgrade guide, for the types the module uses:

| what | change in 6.0 | in this module |
|---|---|---|
${notes}

Within a major version the provider removes no argument, so the check at ${CHECKED_AWS_5} covers the 5.x releases
from it on; older 5.x releases were not checked, and the range refuses them. \`hashicorp/random ~> 3.6\` is
checked the same way against \`@cdktf/provider-random\` (${CHECKED_RANDOM}).
`;
}
