/**
 * The database settings of the rds-<env> stacks, each declared once: its documentation, its per-environment
 * default, the cdktf.json parser and the module input it feeds. `DatabaseSettings` (the props of RdsStack and the
 * `database` object of cdktf.json), the list of accepted keys, the parser and the module block all derive from
 * DATABASE_SETTINGS: adding a setting is adding an entry here.
 */
import { RdsConfig } from '../../.gen/modules/rds';
import { EnvironmentName } from '../config/environments';
import { optional, stringList } from './setting-parsers';

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
}

const string = (value: unknown, where: string) => optional<string>(value, where, 'string');
const boolean = (value: unknown, where: string) => optional<boolean>(value, where, 'boolean');
const list = (value: unknown, where: string): readonly string[] | undefined => stringList(value, where);

const spec = <T>(s: DatabaseSettingSpec<T>) => s;

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

/** The module block's arguments for `settings`, each under the module input its declaration names. */
export function moduleInputs(settings: DatabaseSettings): Partial<RdsConfig> {
  const inputs: Record<string, unknown> = {};
  for (const key of DATABASE_SETTING_KEYS) {
    const value = settings[key];
    if (value !== undefined) inputs[DATABASE_SETTINGS[key].moduleInput] = Array.isArray(value) ? [...value] : value;
  }
  return inputs as Partial<RdsConfig>;
}
