/** References built from the provider objects themselves. */
import { TerraformLocal, TerraformStack, Testing } from 'cdktf';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance';
import { addressOf, config, ref } from '../../src/rds/expressions';
import { address } from '../../src/rds/naming';

function parts() {
  const stack = new TerraformStack(Testing.app(), 'test');
  const primary = address(new DbInstance(stack, 'primary', { instanceClass: 'db.t3.micro' }), 'main');
  const replica = address(new DbInstance(stack, 'replica', { count: 2, instanceClass: 'db.t3.micro' }), 'replica');
  const region = address(new DataAwsRegion(stack, 'region'), 'current');
  const local = address(new TerraformLocal(stack, 'zones', ['a']), 'availability_zones');
  return { primary, replica, region, local };
}

describe('ref', () => {
  test('an attribute of an uncounted resource, in Terraform spelling', () => {
    const { primary } = parts();
    expect(ref(primary, 'dbName')).toBe('aws_db_instance.main.db_name');
    expect(ref(primary, 'masterUserSecret')).toBe('aws_db_instance.main.master_user_secret');
  });

  test('an instance, or all instances, of a counted resource', () => {
    const { replica } = parts();
    expect(ref(replica, 'address', 0)).toBe('aws_db_instance.replica[0].address');
    expect(ref(replica, 'identifier', 'count.index')).toBe('aws_db_instance.replica[count.index].identifier');
    expect(ref(replica, 'endpoint', '*')).toBe('aws_db_instance.replica[*].endpoint');
  });

  test('a counted resource without an index, or an uncounted one with an index, is refused', () => {
    const { primary, replica } = parts();
    expect(() => ref(replica, 'address')).toThrow('aws_db_instance.replica is counted: name the instance');
    expect(() => ref(primary, 'address', 0)).toThrow('aws_db_instance.main is not counted');
  });

  test('data sources and locals have their own address forms', () => {
    const { region, local } = parts();
    expect(ref(region, 'name')).toBe('data.aws_region.current.name');
    expect(addressOf(local)).toBe('local.availability_zones');
  });
});

test('config reads a sizing field under its module name', () => {
  expect(config('backupRetentionDays')).toBe('local.config.backup_retention');
  expect(config('protectFromDeletion')).toBe('local.config.deletion_protection');
});
