/** Parsers of the JSON settings in cdktf.json: each names the key it reads when the value is wrong. */

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectAt(value: unknown, where: string, allowed: readonly string[]): Json {
  if (!isObject(value)) throw new Error(`${where} must be an object.`);
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `${where} has unknown key(s) ${unknown.map((k) => `'${k}'`).join(', ')}; expected ${allowed.join(', ')}.`,
    );
  }
  return value;
}

export function optional<T>(value: unknown, where: string, type: 'string' | 'number' | 'boolean'): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== type) throw new Error(`${where} must be a ${type}, got ${JSON.stringify(value)}.`);
  return value as T;
}

export function stringMap(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new Error(`${where} must map names to strings.`);
  }
  return value as Record<string, string>;
}

export function stringList(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new Error(`${where} must be a list of strings.`);
  }
  return value as string[];
}
