/**
 * Provider schemas read from the JSII metadata (`.jsii`) of the prebuilt cdktf provider packages, and the arguments
 * and attribute references a Terraform JSON module uses, so the two can be compared without running the provider:
 * `@cdktf/provider-aws` 20.x carries hashicorp/aws 5.100.0, 21.x carries the 6.x line, and no 6.x provider binary
 * is available offline.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Arguments of one block: plain attributes, and nested blocks with their own arguments. */
export interface BlockSchema {
  readonly attributes: ReadonlySet<string>;
  readonly blocks: ReadonlyMap<string, BlockSchema>;
}

export interface TypeSchema {
  /** What a configuration may set (top-level and nested blocks). */
  readonly arguments: BlockSchema;
  /** Everything an expression may read at the top level: arguments and computed attributes. */
  readonly readable: ReadonlySet<string>;
}

export interface ProviderSchema {
  /** `hashicorp/aws`, `hashicorp/random`. */
  readonly source: string;
  /** Provider version the bindings were generated from, e.g. 6.25.0. */
  readonly version: string;
  readonly resources: ReadonlyMap<string, TypeSchema>;
  readonly dataSources: ReadonlyMap<string, TypeSchema>;
}

type JsiiType = any;
type JsiiTypeRef = any;

const CLASS_LINK = new RegExp(
  String.raw`^Represents a \{@link https:\/\/registry\.terraform\.io\/providers\/([\w-]+\/[\w-]+)\/([\d.]+)` +
    String.raw`\/docs\/(resources|data-sources)\/\w+ (\w+)\}`,
);
const ARGUMENT_LINK = /\{@link https:\/\/registry\.terraform\.io\/providers\/[^ ]+#(\w+) [^}]+\}/;

/** Struct types named by a property type, through unions and collections. Maps are attributes, never blocks. */
function structFqns(ref: JsiiTypeRef, types: Record<string, JsiiType>): string[] {
  if (ref.fqn) return types[ref.fqn]?.datatype ? [ref.fqn] : [];
  if (ref.union) return ref.union.types.flatMap((t: JsiiTypeRef) => structFqns(t, types));
  if (ref.collection && ref.collection.kind === 'array') return structFqns(ref.collection.elementtype, types);
  return [];
}

/** The Terraform name of a config property: the anchor of its registry link (cdktf renames reserved words). */
function terraformName(property: any): string {
  const docs = `${property.docs?.summary ?? ''} ${property.docs?.remarks ?? ''}`;
  const match = ARGUMENT_LINK.exec(docs);
  if (!match) throw new Error(`no registry link in the docs of property ${property.name}`);
  return match[1];
}

function blockSchema(fqn: string, types: Record<string, JsiiType>): BlockSchema {
  const attributes = new Set<string>();
  const blocks = new Map<string, BlockSchema>();
  for (const property of types[fqn].properties ?? []) {
    const name = terraformName(property);
    const [struct] = structFqns(property.type, types);
    if (struct) blocks.set(name, blockSchema(struct, types));
    else attributes.add(name);
  }
  return { attributes, blocks };
}

const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Reads the provider schema from a prebuilt provider package's `.jsii` (e.g. node_modules/@cdktf/provider-aws). */
export function readJsiiProviderSchema(packageDir: string): ProviderSchema {
  const assembly = JSON.parse(readFileSync(path.join(packageDir, '.jsii'), 'utf8'));
  const types: Record<string, JsiiType> = assembly.types;
  const resources = new Map<string, TypeSchema>();
  const dataSources = new Map<string, TypeSchema>();
  let source: string | undefined;
  let version: string | undefined;
  for (const type of Object.values(types)) {
    const match = type.kind === 'class' ? CLASS_LINK.exec(type.docs?.summary ?? '') : null;
    if (!match) continue;
    [, source, version] = match;
    const config = type.initializer.parameters[2].type.fqn as string;
    const args = blockSchema(config, types);
    const getters = (type.properties ?? [])
      .filter((p: any) => !p.static && !p.name.endsWith('Input'))
      .map((p: any) => snake(p.name).replace(/_attribute$/, ''));
    const readable = new Set<string>([...args.attributes, ...args.blocks.keys(), ...getters]);
    (match[3] === 'resources' ? resources : dataSources).set(match[4], { arguments: args, readable });
  }
  if (!source || !version) throw new Error(`${packageDir}/.jsii describes no Terraform resource`);
  return { source, version, resources, dataSources };
}

/** Meta-arguments Terraform itself handles; they are not part of any provider schema. */
const META_ARGUMENTS = new Set([
  'count',
  'for_each',
  'depends_on',
  'lifecycle',
  'provider',
  'provisioner',
  'connection',
]);

/** One argument a module sets: `resource.aws_db_instance.main.storage_type`, with its path inside nested blocks. */
export interface ArgumentUse {
  readonly kind: 'resource' | 'data';
  readonly type: string;
  /** Argument path below the type: `['parameter', 'apply_method']`. */
  readonly path: readonly string[];
}

/** One attribute an expression reads: `data.aws_region.current.name` is `{ kind: 'data', type, attribute }`. */
export interface AttributeReference {
  readonly kind: 'resource' | 'data';
  readonly type: string;
  readonly attribute: string;
}

const useKey = (u: ArgumentUse) => `${u.kind}.${u.type}.${u.path.join('.')}`;

/** `dynamic "x" { content { ... } }` in JSON syntax, as the blocks `x` it generates. */
function expandDynamic(body: any): [string, any][] {
  const { dynamic, ...rest } = body;
  const generated = Object.entries<any>(dynamic ?? {}).map(([name, spec]): [string, any] => [
    name,
    (Array.isArray(spec) ? spec : [spec]).map((s) => s.content ?? {}),
  ]);
  return [...Object.entries<any>(rest), ...generated];
}

function blockUses(kind: ArgumentUse['kind'], type: string, prefix: string[], body: any, schema?: BlockSchema) {
  const uses: ArgumentUse[] = [];
  for (const [key, value] of expandDynamic(body)) {
    if (prefix.length === 0 && META_ARGUMENTS.has(key)) continue;
    // `dynamic.<block>.content` generates <block> blocks: check the content as that block's body.
    if (key === 'dynamic' && value !== null && typeof value === 'object') {
      for (const [block, spec] of Object.entries<any>(value)) {
        uses.push(...blockUses(kind, type, prefix, { [block]: spec?.content ?? {} }, schema));
      }
      continue;
    }
    const argPath = [...prefix, key];
    uses.push({ kind, type, path: argPath });
    const nested = schema?.blocks.get(key);
    const bodies = Array.isArray(value) ? value : [value];
    if (nested && bodies.every((b) => b !== null && typeof b === 'object')) {
      for (const b of bodies) uses.push(...blockUses(kind, type, argPath, b, nested));
    }
  }
  return uses;
}

/**
 * Every argument a Terraform JSON document sets, nested blocks included, without duplicates. Nested blocks are
 * recognised by `schema` (a map argument such as `tags` is a value, not a block), so pass the schema you check.
 */
export function argumentUses(document: Record<string, any>, schema: ProviderSchema): ArgumentUse[] {
  const seen = new Map<string, ArgumentUse>();
  for (const [kind, section] of [
    ['resource', document.resource],
    ['data', document.data],
  ] as const) {
    for (const [type, byName] of Object.entries<Record<string, unknown>>(section ?? {})) {
      const typeSchema = (kind === 'resource' ? schema.resources : schema.dataSources).get(type);
      for (const body of Object.values(byName)) {
        for (const use of blockUses(kind, type, [], body, typeSchema?.arguments)) seen.set(useKey(use), use);
      }
    }
  }
  return [...seen.values()];
}

/** `resource.aws_db_instance.storage_type` for each use the schema lacks (the type itself when it is missing). */
export function missingArguments(uses: readonly ArgumentUse[], schema: ProviderSchema): string[] {
  const missing = new Set<string>();
  for (const use of uses) {
    const typeSchema = (use.kind === 'resource' ? schema.resources : schema.dataSources).get(use.type);
    if (!typeSchema) {
      missing.add(`${use.kind}.${use.type} (no such type)`);
      continue;
    }
    let block: BlockSchema | undefined = typeSchema.arguments;
    for (const [i, name] of use.path.entries()) {
      const last = i === use.path.length - 1;
      if (!block || !(block.attributes.has(name) || block.blocks.has(name))) {
        missing.add(useKey({ ...use, path: use.path.slice(0, i + 1) }));
        break;
      }
      if (!last) block = block.blocks.get(name);
    }
  }
  return [...missing].sort();
}

const REFERENCE = /(?<![\w.])(data\.)?((?:aws|random)_[a-z0-9_]+)\.([a-z0-9_]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)/g;

/** Every `<type>.<name>.<attribute>` and `data.<type>.<name>.<attribute>` read inside a `${...}` expression. */
export function attributeReferences(document: unknown): AttributeReference[] {
  const found = new Map<string, AttributeReference>();
  const visit = (value: unknown) => {
    if (typeof value === 'string') {
      for (const expression of value.match(/\$\{[\s\S]*?\}/g) ?? []) {
        for (const m of expression.matchAll(REFERENCE)) {
          const ref: AttributeReference = { kind: m[1] ? 'data' : 'resource', type: m[2], attribute: m[4] };
          found.set(`${ref.kind}.${ref.type}.${ref.attribute}`, ref);
        }
      }
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(document);
  return [...found.values()];
}

/** `data.aws_region.name` for each reference the schema cannot read. */
export function missingReferences(references: readonly AttributeReference[], schema: ProviderSchema): string[] {
  return references
    .filter(
      (r) => !(r.kind === 'resource' ? schema.resources : schema.dataSources).get(r.type)?.readable.has(r.attribute),
    )
    .map((r) => `${r.kind}.${r.type}.${r.attribute}`)
    .sort();
}
