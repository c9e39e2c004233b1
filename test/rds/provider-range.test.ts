/**
 * The module's provider range, proven: every type, argument and attribute modules/rds uses exists in the hashicorp/aws
 * 5.x and 6.x schemas carried by the prebuilt bindings, and the reader of those bindings agrees with the schema the
 * 5.x provider binary itself reports.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MODULE_REQUIRED_PROVIDERS } from '../../src/rds/module-stack';
import { AWS_PROVIDER_RANGE, CHECKED_AWS_5, CHECKED_AWS_6, CHECKED_RANDOM } from '../../src/rds/provider-range';
import {
  argumentUses,
  attributeReferences,
  BlockSchema,
  missingArguments,
  missingReferences,
  ProviderSchema,
  readJsiiProviderSchema,
} from '../support/provider-schema';
import { describeWithTerraform, terraformOk } from '../support/terraform';

const MODULE_DIR = path.resolve(__dirname, '../../modules/rds');
const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

/** Every *.tf.json of the committed module, merged (each file holds different top-level keys). */
const moduleDocument = Object.assign(
  {},
  ...readdirSync(MODULE_DIR)
    .filter((f) => f.endsWith('.tf.json'))
    .map((f) => JSON.parse(readFileSync(path.join(MODULE_DIR, f), 'utf8'))),
);

const aws5 = readJsiiProviderSchema(packageDir('@cdktf/provider-aws'));
const aws6 = readJsiiProviderSchema(packageDir('@cdktf/provider-aws-v6'));
const random = readJsiiProviderSchema(packageDir('@cdktf/provider-random'));
const prefix = (schema: ProviderSchema) => `${schema.source.split('/')[1]}_`;
const usesOf = (schema: ProviderSchema, document = moduleDocument) =>
  argumentUses(document, schema).filter((u) => u.type.startsWith(prefix(schema)));
const referencesOf = (schema: ProviderSchema, document = moduleDocument) =>
  attributeReferences(document).filter((r) => r.type.startsWith(prefix(schema)));

describe('provider range of modules/rds', () => {
  test('the checked versions are those of the installed bindings', () => {
    expect([aws5.source, aws5.version]).toEqual(['hashicorp/aws', CHECKED_AWS_5]);
    expect([aws6.source, aws6.version]).toEqual(['hashicorp/aws', CHECKED_AWS_6]);
    expect([random.source, random.version]).toEqual(['hashicorp/random', CHECKED_RANDOM]);
  });

  test('the module and its examples require exactly the checked range', () => {
    expect(AWS_PROVIDER_RANGE).toBe(`>= ${CHECKED_AWS_5}, < ${Number(CHECKED_AWS_6.split('.')[0]) + 1}.0.0`);
    expect(MODULE_REQUIRED_PROVIDERS.aws.version).toBe(AWS_PROVIDER_RANGE);
    expect(moduleDocument.terraform.required_providers.aws.version).toBe(AWS_PROVIDER_RANGE);
    for (const env of readdirSync(path.join(MODULE_DIR, 'examples'))) {
      const caller = readFileSync(path.join(MODULE_DIR, 'examples', env, 'main.tf'), 'utf8');
      expect({ env, aws: /aws = \{[^}]*version = "([^"]+)"/.exec(caller)?.[1] }).toEqual({
        env,
        aws: AWS_PROVIDER_RANGE,
      });
    }
  });

  test('the module uses types, arguments and attributes (a sanity floor for the checks below)', () => {
    const uses = usesOf(aws5).map((u) => `${u.kind}.${u.type}.${u.path.join('.')}`);
    expect(uses).toEqual(
      expect.arrayContaining([
        'resource.aws_db_instance.storage_type',
        'resource.aws_db_parameter_group.parameter.apply_method',
        'data.aws_iam_policy_document.statement.condition.variable',
        'resource.aws_secretsmanager_secret_rotation.rotation_rules.automatically_after_days',
      ]),
    );
    expect(uses.length).toBeGreaterThan(100);
    expect(referencesOf(aws5).length).toBeGreaterThan(10);
  });

  test.each([
    ['hashicorp/aws 5.x', aws5],
    ['hashicorp/aws 6.x', aws6],
    ['hashicorp/random', random],
  ])('every type and argument the module sets exists in %s', (_name, schema) => {
    expect({ version: schema.version, missing: missingArguments(usesOf(schema), schema) }).toEqual({
      version: schema.version,
      missing: [],
    });
  });

  test.each([
    ['hashicorp/aws 5.x', aws5],
    ['hashicorp/aws 6.x', aws6],
    ['hashicorp/random', random],
  ])('every attribute the module reads exists in %s', (_name, schema) => {
    expect({ version: schema.version, missing: missingReferences(referencesOf(schema), schema) }).toEqual({
      version: schema.version,
      missing: [],
    });
  });

  test(
    'the check reports an unknown type, argument, nested or dynamic-block argument and attribute; map keys are ' +
      'values',
    () => {
      const document = {
        resource: {
          aws_db_parameter_group: {
            p: { name: 'x', tags: { AnyKey: 'v' }, parameter: [{ name: 'a', bogus_nested: 1 }] },
            q: { dynamic: { parameter: { for_each: '${var.p}', content: { value: 'v', bogus_dynamic: 1 } } } },
          },
          aws_db_instance: { i: { storage_type: 'gp3', bogus_top: true, lifecycle: { ignore_changes: ['tags'] } } },
          aws_made_up: { m: { anything: 1 } },
        },
        data: { aws_region: { r: { name: 'eu-west-3' } } },
        output: { o: { value: '${aws_db_instance.i.bogus_attribute} ${data.aws_region.r.name}' } },
      };
      expect(missingArguments(usesOf(aws6, document), aws6)).toEqual([
        'resource.aws_db_instance.bogus_top',
        'resource.aws_db_parameter_group.parameter.bogus_dynamic',
        'resource.aws_db_parameter_group.parameter.bogus_nested',
        'resource.aws_made_up (no such type)',
      ]);
      expect(missingReferences(referencesOf(aws6, document), aws6)).toEqual([
        'resource.aws_db_instance.bogus_attribute',
      ]);
    },
  );
});

const byName = ([a]: [string, unknown], [b]: [string, unknown]) => a.localeCompare(b);

/** An object-typed attribute (`set(object({...}))`, written as blocks), as a block whose keys are all settable. */
function objectAttribute(type: any): object | undefined {
  const object = Array.isArray(type) && type[0] === 'object' ? type[1] : undefined;
  const inner = Array.isArray(type) && ['list', 'set'].includes(type[0]) ? objectAttribute(type[1]) : undefined;
  if (inner) return inner;
  return object && { attributes: Object.keys(object).sort(), blocks: {} };
}

/** A provider's own JSON schema block, reduced to what a configuration may set. */
function settable(block: any): object {
  const attributes = Object.entries<any>(block.attributes ?? {}).filter(([, a]) => a.optional || a.required);
  const nested = (a: any) => (a.nested_type ? settable(a.nested_type) : objectAttribute(a.type));
  return {
    attributes: attributes
      .filter(([, a]) => !nested(a))
      .map(([n]) => n)
      .sort(),
    blocks: Object.fromEntries(
      [
        ...Object.entries<any>(block.block_types ?? {}).map(([n, b]): [string, object] => [n, settable(b.block)]),
        ...attributes.filter(([, a]) => nested(a)).map(([n, a]): [string, object] => [n, nested(a)!]),
      ].sort(byName),
    ),
  };
}

const plain = (block: BlockSchema): object => ({
  attributes: [...block.attributes].sort(),
  blocks: Object.fromEntries([...block.blocks].map(([n, b]): [string, object] => [n, plain(b)]).sort(byName)),
});

describeWithTerraform('the bindings reader against the provider binary', () => {
  jest.setTimeout(5 * 60 * 1000);

  test(`the arguments read from @cdktf/provider-aws are those hashicorp/aws ${CHECKED_AWS_5} reports`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'aws-schema-'));
    try {
      writeFileSync(
        path.join(dir, 'main.tf.json'),
        JSON.stringify({
          terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: CHECKED_AWS_5 } } },
        }),
      );
      await terraformOk(dir, ['init', '-backend=false', '-input=false']);
      const schemas = JSON.parse(await terraformOk(dir, ['providers', 'schema', '-json'])).provider_schemas[
        'registry.terraform.io/hashicorp/aws'
      ];
      for (const use of new Set(usesOf(aws5).map((u) => `${u.kind} ${u.type}`))) {
        const [kind, type] = use.split(' ');
        const binary = (kind === 'resource' ? schemas.resource_schemas : schemas.data_source_schemas)[type].block;
        const jsii = (kind === 'resource' ? aws5.resources : aws5.dataSources).get(type)!.arguments;
        expect({ use, args: plain(jsii) }).toEqual({ use, args: settable(binary) });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
