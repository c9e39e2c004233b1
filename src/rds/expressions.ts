import { IResolvable, Token } from 'cdktf';

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

/** `local.config.<attribute>`: the selected environment's sizing. */
export const config = (attribute: string): string => `local.config.${attribute}`;

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
