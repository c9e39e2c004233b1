/**
 * Each sizing rule's TypeScript check and HCL condition agree: both sides judge the same values, and the HCL side is
 * evaluated by Terraform itself (`terraform console`, offline, one call for every case).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSizing, ENVIRONMENT_CONFIGS } from '../../src/config/environments';
import {
  FIELD_RULES,
  INPUT_RULES,
  PointInTimeRestore,
  RESTORE_RULES,
  RestoreSource,
  ROW_RULES,
  SIZING_FIELDS,
  validateRestore,
} from '../../src/rds/rules';
import { describeWithTerraform, terraformEnv } from '../support/terraform';

/** Values every numeric rule is tried on: bounds of the rules and their neighbours, fractions, the extremes. */
const NUMBERS = [
  -1, 0, 1, 4.5, 5, 6, 7, 8, 10, 20, 20.5, 30, 31, 35, 36, 60, 62, 100, 101, 400, 434, 465, 713, 731, 744, 1000, 4608,
  4609, 65536, 65537, 256000, 256001, 262143, 262144, 2147483647, 2147483648,
];
/** Every string some rule accepts, and one none does. */
const STRINGS = [
  ...new Set(
    SIZING_FIELDS.filter((f) => FIELD_RULES[f].type === 'string').flatMap((f) =>
      (FIELD_RULES[f].rule ?? '').replace(/^one of /, '').split(', '),
    ),
  ),
  'db.x9.huge',
];

const prod = ENVIRONMENT_CONFIGS.prod.database;
/** Rows that put each row rule on both sides of its line. */
const ROWS: DatabaseSizing[] = [
  prod,
  { ...prod, storageType: 'io1', iops: null },
  { ...prod, storageType: 'io1', allocatedStorage: 100, iops: 5000 },
  { ...prod, storageType: 'io1', allocatedStorage: 100, iops: 5001 },
  { ...prod, storageType: 'io1', allocatedStorage: 2000, iops: 1000 },
  { ...prod, storageType: 'io1', allocatedStorage: 2000, iops: 999 },
  { ...prod, storageType: 'gp3', iops: 3000 },
  { ...prod, maxAllocatedStorage: prod.allocatedStorage },
  { ...prod, maxAllocatedStorage: prod.allocatedStorage - 1 },
  { ...prod, databaseInsightsMode: 'advanced', performanceInsightsRetentionDays: null },
  { ...prod, databaseInsightsMode: 'advanced', performanceInsightsRetentionDays: 434 },
  { ...prod, databaseInsightsMode: 'advanced', performanceInsightsRetentionDays: 465 },
  { ...prod, databaseInsightsMode: 'standard', performanceInsightsRetentionDays: null },
];

const hcl = (value: unknown) => (value === null ? 'null' : JSON.stringify(value));

interface Case {
  readonly rule: string;
  readonly input: unknown;
  readonly typescript: boolean;
  readonly condition: string;
}

const fieldCases: Case[] = SIZING_FIELDS.filter((field) => FIELD_RULES[field].check).flatMap((field) => {
  const rule = FIELD_RULES[field];
  return (rule.type === 'number' ? NUMBERS : STRINGS).map((value) => ({
    rule: field,
    input: value,
    typescript: rule.check!(value as never),
    condition: rule.hcl!(hcl(value)),
  }));
});

const rowCases: Case[] = ROW_RULES.flatMap((rule) =>
  ROWS.map((row) => ({
    rule: rule.message,
    input: row,
    typescript: rule.problem(row) === undefined,
    condition: rule.hcl((field) => hcl(row[field])),
  })),
);

const inputCases: Case[] = Object.entries(INPUT_RULES).flatMap(([variable, rule]) =>
  ['14', '15', '16', '17', '18', '15.4', ''].map((value) => ({
    rule: variable,
    input: value,
    typescript: rule.check!(value as never),
    condition: rule.hcl!(hcl(value)),
  })),
);

/** Point-in-time restores as the module's object holds them: every attribute, null where unset. */
const pointInTime = (p: PointInTimeRestore) => ({
  source_identifier: p.sourceIdentifier ?? null,
  source_resource_id: p.sourceResourceId ?? null,
  restore_time: p.restoreTime ?? null,
  use_latest_restorable_time: p.useLatestRestorableTime ?? null,
});
const LATEST = { sourceIdentifier: 'accessweaver-prod-primary', useLatestRestorableTime: true };
/** Restore inputs that put each restore rule on both sides of its line. */
const SOURCES: RestoreSource[] = [
  { snapshotIdentifier: null, restoreToPointInTime: null },
  { snapshotIdentifier: 'accessweaver-prod-final-0a1b2c3d', restoreToPointInTime: null },
  { snapshotIdentifier: null, restoreToPointInTime: LATEST },
  { snapshotIdentifier: 'accessweaver-prod-final-0a1b2c3d', restoreToPointInTime: LATEST },
  { snapshotIdentifier: null, restoreToPointInTime: { ...LATEST, sourceResourceId: 'db-ABCDEFGHIJKL' } },
  {
    snapshotIdentifier: null,
    restoreToPointInTime: { sourceResourceId: 'db-ABCDEFGHIJKL', restoreTime: '2026-12-06T10:15:00Z' },
  },
  { snapshotIdentifier: null, restoreToPointInTime: { useLatestRestorableTime: true } },
  { snapshotIdentifier: null, restoreToPointInTime: { sourceIdentifier: 'a' } },
  { snapshotIdentifier: null, restoreToPointInTime: { ...LATEST, restoreTime: '2026-12-06T10:15:00Z' } },
  { snapshotIdentifier: null, restoreToPointInTime: { ...LATEST, useLatestRestorableTime: false } },
  { snapshotIdentifier: null, restoreToPointInTime: { sourceIdentifier: 'a', restoreTime: '2026-12-06 10:15' } },
  { snapshotIdentifier: null, restoreToPointInTime: { sourceIdentifier: 'a', restoreTime: '2026-13-06T10:15:00Z' } },
  { snapshotIdentifier: null, restoreToPointInTime: { sourceIdentifier: 'a', restoreTime: '2026-12-06T10:15:00.5Z' } },
];

const restoreCases: Case[] = RESTORE_RULES.flatMap((rule) =>
  SOURCES.map((source) => ({
    rule: rule.message,
    input: source,
    typescript: rule.holds(source),
    condition: rule.hcl(
      hcl(source.snapshotIdentifier),
      source.restoreToPointInTime === null ? 'null' : hcl(pointInTime(source.restoreToPointInTime)),
    ),
  })),
);

test('literal restore inputs are refused at synth with the plan-time message', () => {
  expect(() => validateRestore(SOURCES[3]!)).toThrow(
    'snapshot_identifier and restore_to_point_in_time are exclusive: set one of them, or neither.',
  );
  expect(() => validateRestore(SOURCES[2]!)).not.toThrow();
});

describeWithTerraform('each rule judges alike in TypeScript and in HCL', () => {
  let verdicts: boolean[];
  const cases = [...fieldCases, ...rowCases, ...inputCases, ...restoreCases];

  beforeAll(() => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rules-console-'));
    try {
      // The cases as a local of a configuration: a line of console input is limited in length.
      writeFileSync(
        path.join(dir, 'cases.tf'),
        `locals {\n  verdicts = [\n${cases.map((c) => `    ${c.condition},\n`).join('')}  ]\n}\n`,
      );
      const output = execFileSync('terraform', ['console'], {
        cwd: dir,
        env: terraformEnv(),
        input: 'jsonencode(local.verdicts)\n',
        encoding: 'utf8',
      });
      verdicts = JSON.parse(JSON.parse(output.trim()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every case has both verdicts', () => {
    expect(cases.map((c, i) => ({ rule: c.rule, input: c.input, hcl: verdicts[i] }))).toEqual(
      cases.map((c) => ({ rule: c.rule, input: c.input, hcl: c.typescript })),
    );
  });

  test('each rule is tried on values it accepts and values it refuses', () => {
    const rules = [...new Set(cases.map((c) => c.rule))];
    const sides = (rule: string) => new Set(cases.filter((c) => c.rule === rule).map((c) => c.typescript));
    expect(rules.filter((rule) => sides(rule).size !== 2)).toEqual([]);
  });
});
