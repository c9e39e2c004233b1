/**
 * The RDS instance classes the project allows, with what the module derives from each: its memory (the
 * freeable-memory alarm is a share of it) and whether it is burstable (CPU-credit alarms exist only there).
 * The module emits this catalogue as `local.instance_classes`; the environment table and caller overrides may
 * name only these classes, checked at synth and at plan.
 */

export interface InstanceClassSpec {
  /** Memory in GiB, as AWS publishes it for the class. */
  readonly memoryGiB: number;
  /** T-family classes run on CPU credits. */
  readonly burstable: boolean;
  /** vCPUs, as AWS publishes them for the class: what RDS Extended Support bills per hour. */
  readonly vcpus: number;
}

const family = (
  prefix: string,
  burstable: boolean,
  sizes: Readonly<Record<string, number>>,
): Record<string, InstanceClassSpec> =>
  Object.fromEntries(
    Object.entries(sizes).map(([size, memoryGiB]) => [
      `db.${prefix}.${size}`,
      { memoryGiB, burstable, vcpus: VCPUS[size] },
    ]),
  );

/** vCPUs per size, the same in every family listed here (micro to large: 2). */
const VCPUS: Readonly<Record<string, number>> = {
  micro: 2,
  small: 2,
  medium: 2,
  large: 2,
  xlarge: 4,
  '2xlarge': 8,
  '4xlarge': 16,
  '8xlarge': 32,
  '12xlarge': 48,
};

const BURSTABLE = { micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, '2xlarge': 32 };
const GENERAL_PURPOSE = { large: 8, xlarge: 16, '2xlarge': 32, '4xlarge': 64, '8xlarge': 128, '12xlarge': 192 };
const MEMORY_OPTIMIZED = { large: 16, xlarge: 32, '2xlarge': 64, '4xlarge': 128, '8xlarge': 256, '12xlarge': 384 };

export const INSTANCE_CLASSES: Readonly<Record<string, InstanceClassSpec>> = {
  ...family('t3', true, BURSTABLE),
  ...family('t4g', true, BURSTABLE),
  ...family('m6g', false, GENERAL_PURPOSE),
  ...family('m7g', false, GENERAL_PURPOSE),
  ...family('r6g', false, MEMORY_OPTIMIZED),
  ...family('r7g', false, MEMORY_OPTIMIZED),
};

export function instanceClass(name: string): InstanceClassSpec | undefined {
  return Object.prototype.hasOwnProperty.call(INSTANCE_CLASSES, name) ? INSTANCE_CLASSES[name] : undefined;
}
