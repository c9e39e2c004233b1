/** The monthly cost estimate: one environment computed by hand, the prod storage comparison, the price list. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PRIMARY_ALARMS } from '../../src/config/alarms';
import { ENVIRONMENT_CONFIGS } from '../../src/config/environments';
import {
  costReadme,
  extendedSupportCost,
  monthlyCost,
  monthlyTotal,
  PRICE_LIST,
  storageOptions,
} from '../../src/rds/cost';

const byItem = (env: keyof typeof ENVIRONMENT_CONFIGS) =>
  Object.fromEntries(monthlyCost(ENVIRONMENT_CONFIGS[env].database).map((line) => [line.item, line.usd]));

describe('monthly cost estimate', () => {
  test('staging, by hand: db.t3.small Multi-AZ + 1 replica, 100 GiB gp3, 7 days of backups', () => {
    // 3 billed instances (primary, standby, replica), each with its own 100 GiB copy.
    const alarms = (PRIMARY_ALARMS.length + 1) * 0.1 + 3;
    const expected = {
      Instances: 3 * 0.036 * 730, // 78.84
      Storage: 3 * 100 * 0.115, // 34.50
      'Provisioned IOPS': 0,
      'Backups beyond the free allowance': 100 * 0.05 * 7 * 0.095, // 35 GiB: 3.325
      'Performance Insights': 0, // 7 days are free
      'KMS key': 1,
      'Secrets Manager': 3 * 0.4,
      'CloudWatch alarms and dashboard': alarms,
      'CloudWatch Logs': 2 * (0.5 + 0.03),
    };
    const actual = byItem('staging');
    expect(Object.keys(actual)).toEqual(Object.keys(expected));
    for (const [item, usd] of Object.entries(expected)) expect({ item, usd: actual[item] }).toEqual({ item, usd });
    const total = monthlyTotal(monthlyCost(ENVIRONMENT_CONFIGS.staging.database));
    expect(total.complete).toBe(true);
    expect(total.usd).toBeCloseTo(78.84 + 34.5 + 3.325 + 1 + 1.2 + alarms + 1.06, 6);
  });

  test('prod Extended Support, by hand: 4 billed db.r6g.large (2 vCPUs each) at $0.10, then $0.20 a vCPU-hour', () => {
    expect(extendedSupportCost(ENVIRONMENT_CONFIGS.prod.database)).toEqual({
      vcpus: 8,
      enrolled: true,
      years1And2: 8 * 0.1 * 730, // 584
      year3: 8 * 0.2 * 730, // 1,168
    });
  });

  test('the README says what Extended Support would add to each environment', () => {
    expect(costReadme()).toContain(
      '| prod | `open-source-rds-extended-support` | 8 (4 × db.r6g.large) | $584.00 | $1,168.00 |',
    );
  });

  test('prod storage, by hand: 4 copies of 500 GiB; gp3 is the choice, at a sixth of io1', () => {
    const { copies, options } = storageOptions(ENVIRONMENT_CONFIGS.prod.database);
    expect(copies).toBe(4);
    expect(options.map((o) => [o.label, o.iops, o.usd])).toEqual([
      ['io1, 3,000 provisioned IOPS', 3000, 4 * (500 * 0.125 + 3000 * 0.1)], // 1,450
      ['gp3, baseline', 12000, 4 * 500 * 0.115], // 230
      ['io2, 3,000 provisioned IOPS', 3000, 4 * (500 * 0.125 + 3000 * 0.1)],
      ['io2, 12,000 provisioned IOPS', 12000, 4 * (500 * 0.125 + 12000 * 0.1)], // 5,050
    ]);
    expect(ENVIRONMENT_CONFIGS.prod.database).toMatchObject({ storageType: 'gp3', iops: null });
  });

  test("prod's total says Performance Insights beyond 7 days is not priced", () => {
    const lines = monthlyCost(ENVIRONMENT_CONFIGS.prod.database);
    expect(lines.find((l) => l.item === 'Performance Insights')).toMatchObject({ usd: null });
    expect(monthlyTotal(lines).complete).toBe(false);
    expect(costReadme()).toContain('+ unpriced lines');
  });

  test('an instance class missing from the price list stops the estimate, naming it', () => {
    expect(() => monthlyCost({ ...ENVIRONMENT_CONFIGS.prod.database, instanceClass: 'db.m7g.large' })).toThrow(
      "the us-east-1 price list has no instance price for 'db.m7g.large'",
    );
  });

  test('the price list names its region, date and, for every price, its source page', () => {
    expect(PRICE_LIST.region).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
    expect(PRICE_LIST.recorded).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const file = path.resolve(__dirname, `../../src/config/prices.${PRICE_LIST.region}.json`);
    const prices: unknown[] = [];
    const collect = (value: unknown): void => {
      if (value && typeof value === 'object' && 'usd' in value) prices.push(value);
      else if (value && typeof value === 'object') Object.values(value).forEach(collect);
    };
    collect(JSON.parse(readFileSync(file, 'utf8')));
    expect(prices.length).toBeGreaterThan(10);
    for (const p of prices)
      expect(p).toEqual({ usd: expect.any(Number), source: expect.stringMatching(/^https:\/\/aws\.amazon\.com\//) });
  });
});
