/**
 * Monthly cost of each environment, from the environment table (the rows the module emits) and a committed price
 * list, rendered into the module README so a caller sees what dev, staging and prod cost before applying.
 */
import { PRIMARY_ALARMS } from '../config/alarms';
import { DatabaseSizing, ENVIRONMENT_CONFIGS, ENVIRONMENTS, StorageType } from '../config/environments';
import { INSTANCE_CLASSES } from '../config/instance-classes';
import priceListUsEast1 from '../config/prices.us-east-1.json';

export interface Price {
  readonly usd: number;
  /** The page the price is published on. */
  readonly source: string;
}

export interface PriceList {
  readonly region: string;
  readonly currency: 'USD';
  /** Day the prices were recorded (YYYY-MM-DD). */
  readonly recorded: string;
  readonly about: string;
  readonly hoursPerMonth: number;
  readonly instanceHour: Readonly<Record<string, Price>>;
  readonly storageGiBMonth: Readonly<Record<string, Price>>;
  readonly provisionedIopsMonth: Readonly<Record<string, Price>>;
  /** RDS Extended Support per vCPU-hour of every billed instance, by year past the end of standard support. */
  readonly extendedSupportVcpuHour: { readonly years1And2: Price; readonly year3: Price };
  readonly backupGiBMonth: Price;
  readonly kmsKeyMonth: Price;
  readonly secretMonth: Price;
  readonly alarmMonth: Price;
  readonly dashboardMonth: Price;
  readonly logsIngestGiB: Price;
  readonly logsStoredGiBMonth: Price;
}

/** The committed price list the README estimate uses. */
export const PRICE_LIST: PriceList = priceListUsEast1 as PriceList;

/** Share of the allocated storage that changes per day and is kept as backup for the retention period. */
export const BACKUP_DAILY_CHANGE = 0.05;
/** CloudWatch Logs per instance and month: exported PostgreSQL logs plus Enhanced Monitoring (assumed). */
export const LOG_GIB_PER_INSTANCE_MONTH = 1;
/** The RDS-managed master secret, the application login and the read-only login. */
export const SECRETS = 3;

/** RDS gp3 baseline, included in the storage price: RDS stripes volumes of 400 GiB and more. */
export function gp3Baseline(allocatedGiB: number): { iops: number; mibps: number } {
  return allocatedGiB >= 400 ? { iops: 12000, mibps: 500 } : { iops: 3000, mibps: 125 };
}

export interface CostLine {
  readonly item: string;
  /** Monthly USD; null when the price list does not price it. */
  readonly usd: number | null;
  readonly detail: string;
}

const money = (usd: number) =>
  `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const n = (value: number) => value.toLocaleString('en-US');
const rate = (usd: number) => `$${usd.toLocaleString('en-US', { minimumFractionDigits: 3, maximumFractionDigits: 4 })}`;

function price(table: Readonly<Record<string, Price>>, key: string, what: string): number {
  const found = table[key];
  if (!found) throw new Error(`the ${PRICE_LIST.region} price list has no ${what} price for '${key}'`);
  return found.usd;
}

/** Instances billed: the primary (twice with Multi-AZ) and each replica; each holds its own storage copy. */
export const billedCopies = (d: DatabaseSizing) => (d.multiAz ? 2 : 1) + d.replicaCount;

/** Storage and provisioned IOPS of `copies` copies of one volume. */
export function storageCost(
  type: StorageType | 'io2',
  gib: number,
  iops: number | null,
  copies: number,
  prices = PRICE_LIST,
): number {
  const perCopy =
    gib * price(prices.storageGiBMonth, type, 'storage') +
    (type === 'gp3' ? 0 : (iops ?? 0) * price(prices.provisionedIopsMonth, type, 'IOPS'));
  return perCopy * copies;
}

function performanceInsightsLine(d: DatabaseSizing): CostLine {
  const days = d.performanceInsightsRetentionDays;
  const item = 'Performance Insights';
  if (days === null) return { item, usd: 0, detail: `off, Database Insights ${d.databaseInsightsMode}` };
  if (days <= 7) return { item, usd: 0, detail: `7 days, free, Database Insights ${d.databaseInsightsMode}` };
  return {
    item,
    usd: null,
    detail: `${days} days on ${d.replicaCount + 1} instances, Database Insights ${d.databaseInsightsMode}: per vCPU, not in the price list`,
  };
}

/** The monthly cost lines of one environment's sizing. */
export function monthlyCost(d: DatabaseSizing, prices = PRICE_LIST): CostLine[] {
  const copies = billedCopies(d);
  const hourly = price(prices.instanceHour, d.instanceClass, 'instance');
  const storage = storageCost(d.storageType, d.allocatedStorage, null, copies, prices);
  const iops = storageCost(d.storageType, 0, d.iops, copies, prices);
  const backupGiB = d.allocatedStorage * BACKUP_DAILY_CHANGE * d.backupRetentionDays;
  const alarms = PRIMARY_ALARMS.length + d.replicaCount;
  const instances = d.replicaCount + 1;
  const baseline = gp3Baseline(d.allocatedStorage);
  return [
    {
      item: 'Instances',
      usd: copies * hourly * prices.hoursPerMonth,
      detail: `${copies} × ${d.instanceClass} × ${prices.hoursPerMonth} h × ${rate(hourly)}`,
    },
    {
      item: 'Storage',
      usd: storage,
      detail: `${copies} × ${n(d.allocatedStorage)} GiB ${d.storageType}`,
    },
    {
      item: 'Provisioned IOPS',
      usd: iops,
      detail:
        d.storageType === 'gp3'
          ? `gp3 baseline included: ${n(baseline.iops)} IOPS, ${baseline.mibps} MiB/s`
          : `${copies} × ${n(d.iops ?? 0)} IOPS`,
    },
    {
      item: 'Backups beyond the free allowance',
      usd: backupGiB * prices.backupGiBMonth.usd,
      detail: `${n(backupGiB)} GiB: ${BACKUP_DAILY_CHANGE * 100} %/day × ${d.backupRetentionDays} d`,
    },
    performanceInsightsLine(d),
    { item: 'KMS key', usd: prices.kmsKeyMonth.usd, detail: '1 key' },
    { item: 'Secrets Manager', usd: SECRETS * prices.secretMonth.usd, detail: `${SECRETS} secrets` },
    {
      item: 'CloudWatch alarms and dashboard',
      usd: alarms * prices.alarmMonth.usd + prices.dashboardMonth.usd,
      detail: `${alarms} alarms, 1 dashboard`,
    },
    {
      item: 'CloudWatch Logs',
      usd: instances * LOG_GIB_PER_INSTANCE_MONTH * (prices.logsIngestGiB.usd + prices.logsStoredGiBMonth.usd),
      detail: `${instances} × ${LOG_GIB_PER_INSTANCE_MONTH} GiB`,
    },
  ];
}

/** Sum of the priced lines, and whether a line is left out for want of a price. */
export function monthlyTotal(lines: readonly CostLine[]): { usd: number; complete: boolean } {
  return {
    usd: lines.reduce((sum, line) => sum + (line.usd ?? 0), 0),
    complete: lines.every((line) => line.usd !== null),
  };
}

/** The "Monthly cost" section of the module README: one column per environment. */
export function costReadme(prices = PRICE_LIST): string {
  const byEnv = ENVIRONMENTS.map((env) => monthlyCost(ENVIRONMENT_CONFIGS[env].database, prices));
  const cell = (line: (typeof byEnv)[number][number]) =>
    `${line.usd === null ? 'not priced' : money(line.usd!)} (${line.detail})`;
  const rows = byEnv[0].map((line, i) => `| ${line.item} | ${byEnv.map((lines) => cell(lines[i])).join(' | ')} |`);
  const totals = byEnv.map((lines) => {
    const total = monthlyTotal(lines);
    return `**${money(total.usd)}**${total.complete ? '' : ' + unpriced lines'}`;
  });
  return `## Monthly cost

Estimated from the sizing table above and the committed price list \`src/config/prices.${prices.region}.json\`
(${prices.region}, on-demand, recorded ${prices.recorded}; each price names the page it is published on; the
project's default region, eu-west-3, lists higher prices and has no committed list yet), for
${prices.hoursPerMonth} hours a month. Multi-AZ bills the standby's instance hours and storage; each replica adds its
own. Assumed: ${BACKUP_DAILY_CHANGE * 100} % of the allocated storage changes per day (backups beyond the free
allowance, which equals the provisioned storage); ${LOG_GIB_PER_INSTANCE_MONTH} GiB of logs per instance and month.
Not counted: data transfer, API requests (KMS, Secrets Manager), storage autoscaling above the initial size, the
rotation function's invocations, and taxes.

| | ${ENVIRONMENTS.join(' | ')} |
|---|${ENVIRONMENTS.map(() => '---').join('|')}|
${rows.join('\n')}
| **Total per month** | ${totals.join(' | ')} |

${extendedSupportReadme(prices)}
${storageComparisonReadme(prices)}`;
}

/** Storage I/O an instance class sustains, and bursts to 30 minutes a day (its EC2 counterpart's EBS figures). */
export const INSTANCE_STORAGE_LIMITS: Readonly<
  Record<string, { iops: number; mbps: number; burstIops: number; burstMbps: number }>
> = {
  'db.r6g.large': { iops: 3600, mbps: 79, burstIops: 20000, burstMbps: 594 },
};

function instanceLimitSentence(instanceClass: string): string {
  const limit = INSTANCE_STORAGE_LIMITS[instanceClass];
  if (!limit) return '';
  return `${instanceClass} itself sustains about ${n(limit.iops)} IOPS and ${limit.mbps} MB/s to its storage (${n(limit.burstIops)} IOPS and ${limit.burstMbps} MB/s in bursts of 30 minutes a day), so the instance, not gp3, is the limit. `;
}

/** End of standard support of the pinned major version (PostgreSQL 15 on RDS). */
export const STANDARD_SUPPORT_ENDS = '28 February 2028';

/** What RDS Extended Support adds a month once standard support ends: every billed instance's vCPUs. */
export function extendedSupportCost(d: DatabaseSizing, prices = PRICE_LIST) {
  const copies = billedCopies(d);
  const vcpus = copies * INSTANCE_CLASSES[d.instanceClass].vcpus;
  const monthly = (perHour: Price) => vcpus * perHour.usd * prices.hoursPerMonth;
  return {
    vcpus,
    enrolled: d.engineLifecycleSupport === 'open-source-rds-extended-support',
    years1And2: monthly(prices.extendedSupportVcpuHour.years1And2),
    year3: monthly(prices.extendedSupportVcpuHour.year3),
  };
}

/** The Extended Support section of the module README: what each environment's lifecycle setting would cost. */
export function extendedSupportReadme(prices = PRICE_LIST): string {
  const { years1And2, year3 } = prices.extendedSupportVcpuHour;
  const rows = ENVIRONMENTS.map((env) => {
    const d = ENVIRONMENT_CONFIGS[env].database;
    const cost = extendedSupportCost(d, prices);
    return `| ${env} | \`${d.engineLifecycleSupport}\` | ${cost.vcpus} (${billedCopies(d)} × ${d.instanceClass}) | ${cost.enrolled ? money(cost.years1And2) : 'none: RDS upgrades the major version'} | ${cost.enrolled ? money(cost.year3) : 'none'} |`;
  });
  return `### After standard support: RDS Extended Support

PostgreSQL 15's standard support on RDS ends on ${STANDARD_SUPPORT_ENDS}. The table's
\`engine_lifecycle_support\` (the instance argument of that name) decides what happens then: enrolled, the
instances keep running 15 and every billed instance (standby and replicas included) pays
${rate(years1And2.usd)} per vCPU-hour in years 1 and 2 and ${rate(year3.usd)} in year 3 (${prices.region});
disabled, RDS upgrades the major version itself, past the module's pinned \`engine_version\`, its
\`postgres15\` parameter group and the tested migrations. The table enrolls every
environment (RDS's default, so existing instances see no change; read the plan before changing it on one) and the
amounts below are what not upgrading before that date would add to the monthly total.

| environment | \`engine_lifecycle_support\` | vCPUs billed | per month, years 1-2 | per month, year 3 |
|---|---|---|---|---|
${rows.join('\n')}
`;
}

/** The storage options weighed for a sizing row (prod's), with what each delivers and costs a month. */
export function storageOptions(d: DatabaseSizing, prices = PRICE_LIST) {
  const copies = billedCopies(d);
  const gib = d.allocatedStorage;
  const base = gp3Baseline(gib);
  const pageMiBps = (iops: number) => Math.round((iops * 8) / 1024);
  const option = (label: string, type: StorageType | 'io2', iops: number, throughput: string, latency: string) => ({
    label,
    iops,
    throughput,
    latency,
    usd: storageCost(type, gib, type === 'gp3' ? null : iops, copies, prices),
  });
  return {
    copies,
    gib,
    options: [
      option(
        'io1, 3,000 provisioned IOPS',
        'io1',
        3000,
        `bound by IOPS: ${pageMiBps(3000)} MiB/s of 8 KiB pages`,
        'single-digit ms',
      ),
      option(`gp3, baseline`, 'gp3', base.iops, `${base.mibps} MiB/s included`, 'single-digit ms'),
      option(
        'io2, 3,000 provisioned IOPS',
        'io2',
        3000,
        `bound by IOPS: ${pageMiBps(3000)} MiB/s of 8 KiB pages`,
        'sub-millisecond (Block Express)',
      ),
      option(
        `io2, ${n(base.iops)} provisioned IOPS`,
        'io2',
        base.iops,
        `bound by IOPS: ${pageMiBps(base.iops)} MiB/s of 8 KiB pages`,
        'sub-millisecond (Block Express)',
      ),
    ],
  };
}

/** The storage comparison section of the module README, for prod's row. */
export function storageComparisonReadme(prices = PRICE_LIST): string {
  const prod = ENVIRONMENT_CONFIGS.prod.database;
  const { copies, gib, options } = storageOptions(prod, prices);
  const [io1, gp3] = options;
  const rows = options.map(
    (o) =>
      `| ${o.label} | ${n(o.iops)} | ${o.throughput} | ${o.latency} | ${money(o.usd)} | ${money(o.usd / copies)} |`,
  );
  return `### Prod storage: io1, gp3 and io2 compared

${n(gib)} GiB, ${copies} copies (primary, Multi-AZ standby, ${prod.replicaCount} replicas), ${prices.region} prices. The
table's choice is \`${prod.storageType}\`.

| storage | IOPS | throughput | latency | per month, ${copies} copies | per copy |
|---|---|---|---|---|---|
${rows.join('\n')}

gp3 at ${n(gib)} GiB gives ${gp3.iops / io1.iops} times the IOPS of the io1 volume for ${money(gp3.usd)}
instead of ${money(io1.usd)} a month: io1 and io2 bill every GiB and every provisioned IOPS on each copy.
${instanceLimitSentence(prod.instanceClass)}io2's lower latency is worth its price only when the read/write latency
alarms (20 ms) or Performance Insights show storage waits dominating; RDS changes the storage type without downtime.
`;
}
