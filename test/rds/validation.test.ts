import { Testing } from 'cdktf';
import { ENVIRONMENT_CONFIGS } from '../../src/config/environments';
import { AccessWeaverDatabase, AccessWeaverDatabaseProps, sizingOf } from '../../src/rds/database';
import { FIELD_RULES } from '../../src/rds/rules';
import { parseBackupWindow, parseMaintenanceWindow, windowsOverlap } from '../../src/rds/validation';

const valid: AccessWeaverDatabaseProps = {
  projectName: 'accessweaver',
  environment: 'dev',
  vpcId: 'vpc-0123456789abcdef0',
  privateSubnetIds: ['subnet-0aaa', 'subnet-0bbb'],
};

/** Synthesizes the database with `overrides`; returns the Terraform JSON (throws before anything is written). */
const synth = (overrides: Partial<AccessWeaverDatabaseProps>) =>
  Testing.synthScope((scope) => {
    new AccessWeaverDatabase(scope, 'database', { ...valid, ...overrides });
  });

const withSizing = (prod: Partial<(typeof ENVIRONMENT_CONFIGS)['prod']['database']>) => ({
  sizing: { ...sizingOf(ENVIRONMENT_CONFIGS), prod: { ...ENVIRONMENT_CONFIGS.prod.database, ...prod } },
});

describe('literal inputs are checked at synth, naming the bad value', () => {
  test('valid inputs synthesize, with the literal environment selecting its row', () => {
    const json = JSON.parse(synth({}));
    expect(json.locals.environment).toBe('dev');
    expect(json.locals.config).toMatch(/^\$\{merge\(local\.instance_configs\[local\.environment\], /);
  });

  test('literal overrides reach the module under its attribute names', () => {
    const json = JSON.parse(synth({ instanceOverrides: { instanceClass: 'db.t4g.medium', allocatedStorage: 50 } }));
    expect(json.locals.instance_overrides).toEqual({ instance_class: 'db.t4g.medium', allocated_storage: 50 });
  });

  test('an override outside the catalogue, named as the module names it', () => {
    expect(() => synth({ instanceOverrides: { instanceClass: 'db.x9.huge' } })).toThrow(
      'instance_overrides.instance_class "db.x9.huge" must be one of db.t3.micro, db.t3.small',
    );
  });

  test('an override of the wrong type', () => {
    expect(() => synth({ instanceOverrides: { replicaCount: '2' as never } })).toThrow(
      'instance_overrides.replica_count "2" must be a number',
    );
  });

  test('overrides valid one by one but not together: io1 storage without iops', () => {
    expect(() => synth({ instanceOverrides: { storageType: 'io1' } })).toThrow(
      "environment 'dev' with instance_overrides: io1 storage needs iops",
    );
  });

  test('a static parameter applied immediately', () => {
    expect(() => synth({ parameters: [{ name: 'max_wal_senders', value: '20', applyMethod: 'immediate' }] })).toThrow(
      "parameters: 'max_wal_senders' is static and applies only at a reboot: use pending-reboot",
    );
  });

  test('the same parameter twice', () => {
    const entry = { name: 'work_mem', value: '8192' };
    expect(() => synth({ parameters: [entry, entry] })).toThrow("parameters: 'work_mem' is set twice");
  });

  test('unknown environment', () => {
    expect(() => synth({ environment: 'qa' })).toThrow("Environment must be dev, staging, or prod. Got 'qa'.");
  });

  test('empty subnet list', () => {
    expect(() => synth({ privateSubnetIds: [] })).toThrow('private_subnet_ids [] has 0 subnet(s)');
  });

  test('single subnet', () => {
    expect(() => synth({ privateSubnetIds: ['subnet-0aaa'] })).toThrow(
      'private_subnet_ids [subnet-0aaa] has 1 subnet(s)',
    );
  });

  test('the same subnet twice', () => {
    expect(() => synth({ privateSubnetIds: ['subnet-0aaa', 'subnet-0aaa'] })).toThrow(
      'lists subnet-0aaa more than once',
    );
  });

  test('malformed backup window', () => {
    expect(() => synth({ backupWindow: '3:00-4:00' })).toThrow("backup_window '3:00-4:00' is malformed");
  });

  test('malformed maintenance window', () => {
    expect(() => synth({ maintenanceWindow: 'Sunday:04:00-Sunday:05:00' })).toThrow(
      "maintenance_window 'Sunday:04:00-Sunday:05:00' is malformed",
    );
  });

  test('backup window shorter than 30 minutes', () => {
    expect(() => synth({ backupWindow: '03:00-03:15' })).toThrow("backup_window '03:00-03:15' lasts 15 minutes");
  });

  test('overlapping windows', () => {
    expect(() => synth({ backupWindow: '03:00-04:00', maintenanceWindow: 'Sun:03:30-Sun:04:30' })).toThrow(
      "backup_window '03:00-04:00' overlaps maintenance_window 'Sun:03:30-Sun:04:30'",
    );
  });

  test('io1 IOPS/storage ratio above 50', () => {
    expect(() => synth(withSizing({ storageType: 'io1', allocatedStorage: 100, iops: 6000 }))).toThrow(
      "environment 'prod': io1 iops 6000 for 100 GiB is 60 IOPS/GiB",
    );
  });

  test('io1 IOPS/storage ratio below 0.5', () => {
    expect(() =>
      synth(withSizing({ storageType: 'io1', allocatedStorage: 2500, maxAllocatedStorage: 4000, iops: 1000 })),
    ).toThrow('is 0.4 IOPS/GiB');
  });

  test('Performance Insights retention that RDS refuses', () => {
    expect(() => synth(withSizing({ performanceInsightsRetentionDays: 30 }))).toThrow(
      "environment 'prod': performanceInsightsRetentionDays 30 must be 7, 731, or a multiple of 31 days up to 713",
    );
  });

  test("Database Insights' advanced mode with less than 465 days of Performance Insights", () => {
    expect(() =>
      synth(withSizing({ databaseInsightsMode: 'advanced', performanceInsightsRetentionDays: 434 })),
    ).toThrow('environment \'prod\': database_insights_mode "advanced" needs Performance Insights retention');
  });

  // Rows of the table are held to the rules overrides are held to.
  test.each([
    [
      { allocatedStorage: 70000, maxAllocatedStorage: 70000 },
      'allocatedStorage 70000 must be a whole number from 20 to 65536',
    ],
    [{ maxConnections: 5 }, 'maxConnections 5 must be a whole number from 10 to 262143'],
    [{ secretRecoveryWindowDays: 3 }, 'secretRecoveryWindowDays 3 must be 0 or a whole number from 7 to 30'],
  ])('a table row with %o is refused', (row, message) => {
    expect(() => synth(withSizing(row))).toThrow(`environment 'prod': ${message}`);
  });

  test('network ACL without a VPC CIDR', () => {
    expect(() => synth({ enableNetworkAcl: true })).toThrow('enableNetworkAcl is true but vpcCidr is not set');
  });
});

describe('windows', () => {
  test('the defaults do not overlap', () => {
    expect(windowsOverlap(parseBackupWindow('03:00-04:00'), parseMaintenanceWindow('Sun:04:00-Sun:05:00'))).toBe(false);
  });

  test('a backup window crossing midnight meets a Monday-morning maintenance window', () => {
    expect(windowsOverlap(parseBackupWindow('23:30-00:30'), parseMaintenanceWindow('Mon:00:00-Mon:01:00'))).toBe(true);
  });

  test('a maintenance window crossing Sunday night meets a daily window early on Monday', () => {
    expect(windowsOverlap(parseBackupWindow('00:10-00:40'), parseMaintenanceWindow('Sun:23:30-Mon:00:30'))).toBe(true);
  });

  test('day names are case-insensitive', () => {
    expect(parseMaintenanceWindow('sun:04:00-sun:05:00')).toEqual(parseMaintenanceWindow('Sun:04:00-Sun:05:00'));
  });
});

test.each([
  [7, true],
  [31, true],
  [713, true],
  [731, true],
  [30, false],
  [744, false],
  [0, false],
])('Performance Insights retention %i days is valid: %s', (days, expected) => {
  expect(FIELD_RULES.performanceInsightsRetentionDays.check!(days as never)).toBe(expected);
});
