import { Construct } from 'constructs';
import { IResolvable, TerraformDataSource, TerraformLocal, TerraformResource, Token } from 'cdktf';
import { DatabaseSizing, SIZING_ATTRIBUTES } from '../config/environments';

/**
 * Raw Terraform expressions.
 *
 * The module selects its sizing at plan time (`local.config = local.instance_configs[var.environment]`), so most
 * arguments are expressions rather than values. cdktf passes `${...}` strings through unchanged; these helpers
 * give them the TypeScript type each argument expects, in one place.
 */
export const tf = {
  /** `${expr}` typed as a string. */
  string: (expression: string): string => `\${${expression}}`,
  /** `${expr}` typed as a number (a number token that renders as the expression). */
  number: (expression: string): number => Token.asNumber(`\${${expression}}`),
  /** `${expr}` typed as a boolean argument. */
  bool: (expression: string): IResolvable => Token.asAny(`\${${expression}}`) as IResolvable,
  /** `${expr}` typed as a list of strings. */
  list: (expression: string): string[] => Token.asList(`\${${expression}}`),
  /** `${expr}` as an untyped value (objects, maps). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an argument of any type
  any: (expression: string): any => Token.asAny(`\${${expression}}`),
};

/** The local holding the selected environment's sizing row. */
export const CONFIG_LOCAL = 'config';

/** `local.config.<attribute>`: one field of the selected environment's sizing row, named by its DatabaseSizing key. */
export const config = (field: keyof DatabaseSizing): string => `local.${CONFIG_LOCAL}.${SIZING_ATTRIBUTES[field]}`;

type Referenceable = TerraformResource | TerraformDataSource;

/** The attributes a provider binding exposes (its getters), as the binding names them. */
export type AttributeOf<T> = Exclude<
  {
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- methods are not attributes
    [K in keyof T]: K extends string ? (T[K] extends Function ? never : K) : never;
  }[keyof T],
  keyof TerraformResource | keyof TerraformDataSource
>;

/** Which instance of a counted resource: a number, `count.index` inside another counted block, or `*` for all. */
export type CountIndex = number | 'count.index' | '*';

/** `aws_db_instance.main`, `data.aws_region.current` or `local.vpc_id`: the element's address as HCL text. */
export function addressOf(element: Referenceable | TerraformLocal): string {
  if (element instanceof TerraformLocal) return `local.${element.friendlyUniqueId}`;
  const prefix = element instanceof TerraformDataSource ? 'data.' : '';
  return `${prefix}${element.terraformResourceType}.${element.friendlyUniqueId}`;
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * `<address>.<attribute>` as HCL text (no `${}`), built from the element itself so a renamed address or a
 * misspelt attribute fails the type-check. A counted element (one with `count`) must be given the instance:
 * `ref(replica, 'address', '*')` is `aws_db_instance.replica[*].address`; an uncounted one must not.
 */
export function ref<T extends Referenceable>(element: T, attribute: AttributeOf<T>, index?: CountIndex): string {
  const counted = element.count !== undefined;
  if (counted !== (index !== undefined)) {
    throw new Error(
      `${addressOf(element)} is ${counted ? '' : 'not '}counted: ${counted ? 'name the instance' : 'it takes no instance index'} to reference ${attribute}`,
    );
  }
  const instance = index === undefined ? '' : `[${index}]`;
  return `${addressOf(element)}${instance}.${snakeCase(attribute)}`;
}

/** An HCL expression to embed unquoted in a value rendered by `toHcl`. */
export class HclExpression {
  constructor(public readonly text: string) {}
}
export const expr = (text: string): HclExpression => new HclExpression(text);

/** Renders a JSON-like value as HCL source, leaving `HclExpression`s as they are (used inside jsonencode()). */
export function toHcl(value: unknown): string {
  if (value instanceof HclExpression) return value.text;
  if (Array.isArray(value)) return `[${value.map(toHcl).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>).map(
      ([key, v]) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key)} = ${toHcl(v)}`,
    );
    return `{ ${fields.join(', ')} }`;
  }
  return JSON.stringify(value);
}

/**
 * A JSON-like value as Terraform JSON syntax writes it: `HclExpression`s become `${...}` templates (a template that
 * is one interpolation keeps the expression's type), everything else stays JSON.
 */
export function toTerraformJson(value: unknown): unknown {
  if (value instanceof HclExpression) return `\${${value.text}}`;
  if (Array.isArray(value)) return value.map(toTerraformJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, toTerraformJson(v)]));
  }
  return value;
}

/**
 * `${jsonencode(local.<name>)}`: a document (a policy, a dashboard, a secret's first value) kept as a local of the
 * module, which the emitted JSON writes one field a line, and encoded where it is used. An inline jsonencode() is a
 * single line of hundreds of characters in which a one-field change cannot be reviewed. The document may hold
 * `HclExpression`s; it must not index a counted resource (a local is evaluated even when the resource is absent).
 */
export function encodedDocument(scope: Construct, name: string, document: unknown): string {
  const local = new TerraformLocal(scope, `document-${name}`, toTerraformJson(document));
  local.overrideLogicalId(name);
  return tf.string(`jsonencode(${addressOf(local)})`);
}

/** The trust policy of a role an AWS service assumes. */
export const serviceTrustPolicy = (service: string) => ({
  Version: '2012-10-17',
  Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: service } }],
});
