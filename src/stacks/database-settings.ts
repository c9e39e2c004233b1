/**
 * The database settings of the rds-<env> stacks, each declared once: its documentation, its per-environment
 * default, the cdktf.json parser and the module input it feeds. `DatabaseSettings` (the props of RdsStack and the
 * `database` object of cdktf.json), the list of accepted keys, the parser and the module block all derive from
 * DATABASE_SETTINGS: adding a setting is adding an entry here.
 */
import { RdsConfig } from '../../.gen/modules/rds';
import { DatabaseSizing, ENVIRONMENT_CONFIGS, EnvironmentName } from '../config/environments';
import { overridesObject, SizingOverrides } from '../rds/overrides';
import { FIELD_RULES, validateOverriddenRow } from '../rds/rules';
import { ApplyMethod, DatabaseParameter, validateParameters } from '../rds/parameters';
import { objectAt, optional, stringList } from './setting-parsers';

/** One setting: `T` is its type in TypeScript. */
export interface DatabaseSettingSpec<T> {
  /** What it sets, for the props' readers and docs/stacks.md. */
  readonly doc: string;
  /** Per-environment values used when the setting is absent; otherwise the module's default applies. */
  readonly defaults?: Readonly<Partial<Record<EnvironmentName, T>>>;
  /** Reads the cdktf.json value; `where` names the key in messages. */
  readonly parse: (value: unknown, where: string) => T | undefined;
  /** The module input (as the generated binding names it) that receives the value. */
  readonly moduleInput: keyof RdsConfig;
  /** The value as the module input takes it. @default the value itself */
  readonly toModule?: (value: T) => unknown;
  /** Checks the value at synth with the module's own rules; throws a message naming it. */
  readonly validate?: (value: T, environment: EnvironmentName) => void;
}

const string = (value: unknown, where: string) => optional<string>(value, where, 'string');
const boolean = (value: unknown, where: string) => optional<boolean>(value, where, 'boolean');
const list = (value: unknown, where: string): readonly string[] | undefined => stringList(value, where);

const spec = <T>(s: DatabaseSettingSpec<T>) => s;

const JSON_TYPES = { string: 'string', number: 'number', bool: 'boolean' } as const;

function overridesSetting(value: unknown, where: string): SizingOverrides | undefined {
  if (value === undefined) return undefined;
  const o = objectAt(value, where, Object.keys(FIELD_RULES));
  for (const [key, v] of Object.entries(o)) {
    optional(v, `${where}.${key}`, JSON_TYPES[FIELD_RULES[key as keyof DatabaseSizing].type]);
  }
  return o as SizingOverrides;
}

function parametersSetting(value: unknown, where: string): readonly DatabaseParameter[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new Error(`${where} must be a list of { name, value, applyMethod? }.`);
  return value.map((entry, i) => {
    const at = `${where}[${i}]`;
    const o = objectAt(entry, at, ['name', 'value', 'applyMethod']);
    const name = optional<string>(o.name, `${at}.name`, 'string');
    const v = optional<string>(o.value, `${at}.value`, 'string');
    if (name === undefined || v === undefined) throw new Error(`${at} needs a name and a value.`);
    const applyMethod = optional<ApplyMethod>(o.applyMethod, `${at}.applyMethod`, 'string');
    return { name, value: v, ...(applyMethod === undefined ? {} : { applyMethod }) };
  });
}

export const DATABASE_SETTINGS = {
  backupWindow: spec({
    doc: 'Daily backup window (UTC, hh24:mi-hh24:mi), disjoint from the maintenance window.',
    defaults: { prod: '02:00-03:00' },
    parse: string,
    moduleInput: 'backupWindow',
  }),
  maintenanceWindow: spec({
    doc: 'Weekly maintenance window (UTC, ddd:hh24:mi-ddd:hh24:mi).',
    defaults: { prod: 'Sun:03:00-Sun:04:00' },
    parse: string,
    moduleInput: 'maintenanceWindow',
  }),
  allowedSecurityGroupIds: spec({
    doc:
      "Security groups allowed to reach the database besides the module's client group (which the ECS services " +
      'join, so the database never depends on the ECS stack).',
    parse: list,
    moduleInput: 'allowedSecurityGroups',
  }),
  enableNetworkAcl: spec({
    doc: "Add the module's network ACL on the database subnets (the VPC CIDR is always passed for it).",
    parse: boolean,
    moduleInput: 'enableNetworkAcl',
  }),
  alarmSnsTopicArn: spec({
    doc: 'SNS topic for the database alarms; without it the module creates an encrypted topic.',
    parse: string,
    moduleInput: 'alarmSnsTopicArn',
  }),
  instanceOverrides: spec<SizingOverrides>({
    doc:
      "Fields of the environment's sizing row to replace (DatabaseSizing keys: instanceClass, allocatedStorage, " +
      'storageType, iops, multiAz, replicaCount, alarm thresholds...); the table stays the default.',
    parse: overridesSetting,
    moduleInput: 'instanceOverrides',
    toModule: overridesObject,
    validate: (overrides, environment) =>
      validateOverriddenRow(environment, ENVIRONMENT_CONFIGS[environment].database, overrides),
  }),
  applyImmediately: spec({
    doc: 'Apply instance changes at once instead of in the next maintenance window.',
    parse: boolean,
    moduleInput: 'applyImmediately',
  }),
  parameters: spec<readonly DatabaseParameter[]>({
    doc:
      "Parameter-group entries ({ name, value, applyMethod? }) added to the module's or replacing one of the same " +
      'name; static parameters apply at the next reboot.',
    parse: parametersSetting,
    moduleInput: 'parameters',
    toModule: (parameters) =>
      parameters.map((p) => ({ name: p.name, value: p.value, apply_method: p.applyMethod ?? null })),
    validate: (parameters) => validateParameters(parameters),
  }),
};

export type DatabaseSettingKey = keyof typeof DATABASE_SETTINGS;
export const DATABASE_SETTING_KEYS = Object.keys(DATABASE_SETTINGS) as DatabaseSettingKey[];

type SettingType<K extends DatabaseSettingKey> = NonNullable<ReturnType<(typeof DATABASE_SETTINGS)[K]['parse']>>;

/** Every database setting, optional; see DATABASE_SETTINGS for what each one does. */
export type DatabaseSettings = { readonly [K in DatabaseSettingKey]?: SettingType<K> };

/** Reads the `database` object of one environment in cdktf.json (keys already checked by the caller). */
export function parseDatabaseSettings(o: Readonly<Record<string, unknown>>, where: string): DatabaseSettings {
  const parsed: Record<string, unknown> = {};
  for (const key of DATABASE_SETTING_KEYS) {
    const value = DATABASE_SETTINGS[key].parse(o[key], `${where}.${key}`);
    if (value !== undefined) parsed[key] = value;
  }
  return parsed as DatabaseSettings;
}

/** The settings with each environment default filled in where the setting is absent. */
export function withDefaults(settings: DatabaseSettings, environment: EnvironmentName): DatabaseSettings {
  const resolved: Record<string, unknown> = {};
  for (const key of DATABASE_SETTING_KEYS) {
    const defaults: Partial<Record<EnvironmentName, unknown>> | undefined = DATABASE_SETTINGS[key].defaults;
    const value = settings[key] ?? defaults?.[environment];
    if (value !== undefined) resolved[key] = value;
  }
  return resolved as DatabaseSettings;
}

/** Checks every setting present with the module's own rules. */
export function validateDatabaseSettings(settings: DatabaseSettings, environment: EnvironmentName): void {
  for (const key of DATABASE_SETTING_KEYS) {
    const value = settings[key];
    const setting = DATABASE_SETTINGS[key] as DatabaseSettingSpec<unknown>;
    if (value !== undefined) setting.validate?.(value, environment);
  }
}

/** The module block's arguments for `settings`, each under the module input its declaration names. */
export function moduleInputs(settings: DatabaseSettings): Partial<RdsConfig> {
  const inputs: Record<string, unknown> = {};
  for (const key of DATABASE_SETTING_KEYS) {
    const value = settings[key];
    if (value === undefined) continue;
    const setting = DATABASE_SETTINGS[key] as DatabaseSettingSpec<unknown>;
    inputs[setting.moduleInput] = setting.toModule
      ? setting.toModule(value)
      : Array.isArray(value)
        ? [...value]
        : value;
  }
  return inputs as Partial<RdsConfig>;
}
