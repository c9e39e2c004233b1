/**
 * What the Aurora engine costs per environment against the DB instance, and where I/O-Optimized storage starts to
 * pay: it raises the instance price by about 30 % and the storage price, and drops the per-request I/O charge, so it
 * is cheaper above a monthly I/O count this computes from the price list.
 */
import { AURORA_CONFIGS, AuroraSizing, AuroraStorageType } from '../../config/aurora';
import { DatabaseSizing, ENVIRONMENT_CONFIGS, ENVIRONMENTS } from '../../config/environments';
import prices from '../../config/aurora-prices.us-east-1.json';
import { monthlyCost, monthlyTotal } from '../cost';

interface Price {
  readonly usd: number;
}
export interface AuroraPriceList {
  readonly region: string;
  readonly hoursPerMonth: number;
  readonly instanceHour: Readonly<Record<AuroraStorageType, Readonly<Record<string, Price>>>>;
  readonly acuHour: Readonly<Record<AuroraStorageType, Price>>;
  readonly storageGiBMonth: Readonly<Record<AuroraStorageType, Price>>;
  readonly ioPerMillion: Price;
}
export const AURORA_PRICE_LIST: AuroraPriceList = prices;

/**
 * Compute and storage of one month (I/O aside): the writer and `replicaCount` readers (Serverless v2 at its
 * minimum capacity, the floor of its bill) and the table's allocated storage as the volume's size.
 */
export function auroraMonthly(
  d: DatabaseSizing,
  a: AuroraSizing,
  storage: AuroraStorageType,
  p: AuroraPriceList = AURORA_PRICE_LIST,
): number {
  const instances = 1 + d.replicaCount;
  const hourly = a.serverlessCapacity
    ? a.serverlessCapacity.minAcu * p.acuHour[storage].usd
    : requirePrice(p.instanceHour[storage][a.instanceClass], a.instanceClass);
  return instances * hourly * p.hoursPerMonth + d.allocatedStorage * p.storageGiBMonth[storage].usd;
}

function requirePrice(price: Price | undefined, what: string): number {
  if (!price) throw new Error(`the Aurora price list has no price for '${what}'`);
  return price.usd;
}

/** Monthly I/O requests (millions) above which I/O-Optimized costs less than Standard. */
export function ioBreakEvenMillions(d: DatabaseSizing, a: AuroraSizing, p: AuroraPriceList = AURORA_PRICE_LIST) {
  return (auroraMonthly(d, a, 'aurora-iopt1', p) - auroraMonthly(d, a, 'aurora', p)) / p.ioPerMillion.usd;
}

const money = (usd: number) => `$${usd.toLocaleString('en-US', { maximumFractionDigits: 0 })}`;

/** The README table: both engines per environment, and the I/O break-even behind each storage choice. */
export function auroraCostReadme(): string {
  const rows = ENVIRONMENTS.map((name) => {
    const d = ENVIRONMENT_CONFIGS[name].database;
    const a = AURORA_CONFIGS[name];
    const instance = monthlyTotal(monthlyCost(d)).usd;
    const millions = ioBreakEvenMillions(d, a);
    const perSecond = (millions * 1e6) / (AURORA_PRICE_LIST.hoursPerMonth * 3600);
    return (
      `| ${name} | ${money(instance)} | ${money(auroraMonthly(d, a, 'aurora'))} + I/O | ` +
      `${money(auroraMonthly(d, a, 'aurora-iopt1'))} | ${Math.round(millions).toLocaleString('en-US')} M ` +
      `(${Math.round(perSecond)} I/O per s) | ${a.storageType} |`
    );
  }).join('\n');
  return `## Cost: DB instance or Aurora

Monthly, ${AURORA_PRICE_LIST.region} on-demand prices (src/config/aurora-prices.us-east-1.json and the RDS price
list), before Aurora's I/O and backups. The DB instance column is modules/rds's whole estimate; the Aurora columns
are its compute (the writer and \`replica_count\` readers; Serverless v2 at its minimum) and storage (the table's
allocated storage as the volume's size). Aurora Standard adds $${AURORA_PRICE_LIST.ioPerMillion.usd.toFixed(2)} per million
I/O requests; I/O-Optimized costs more per hour and per GiB and nothing per request, so it is cheaper above the
break-even. Readers autoscaling adds are billed like the others, for the hours they run.

| environment | DB instance (modules/rds) | Aurora Standard | Aurora I/O-Optimized | I/O-Optimized cheaper above (per month) | chosen |
|---|---|---|---|---|---|
${rows}

Prod takes I/O-Optimized: at the design's 10,000 requests per second, a storage read or write for one request in
twenty already passes the break-even, and the bill no longer moves with the cache hit ratio. Dev and staging stay
on Standard: their load stays far below their break-even.
`;
}
