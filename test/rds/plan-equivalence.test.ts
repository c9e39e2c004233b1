/**
 * modules/rds plans exactly as recorded: the same resources at the same addresses with the same values, for the
 * dev, staging and prod callers. A refactor of the constructs must leave the recorded plans untouched; a change
 * meant to alter the module re-records them (`npm run plans:record`) and shows its effect in their diff.
 */
import { readFileSync } from 'node:fs';
import { ENVIRONMENTS } from '../../src/config/environments';
import { normalise, planExamples, planFile } from '../support/module-plan';
import { describeWithTerraform } from '../support/terraform';

jest.setTimeout(10 * 60 * 1000);

test('JSON held in a string compares as a document, not as text', () => {
  expect(normalise('{"b": [1, {"d": 2, "c": 3}], "a": "x"}')).toEqual(normalise('{"a":"x","b":[1,{"c":3,"d":2}]}'));
  expect(normalise('{"a": [1, 2]}')).not.toEqual(normalise('{"a": [2, 1]}'));
  expect(normalise('[not json')).toBe('[not json');
});

describeWithTerraform('modules/rds plans as recorded', () => {
  let plans: Record<string, unknown>;

  beforeAll(async () => {
    plans = await planExamples();
  });

  test.each(ENVIRONMENTS)('the %s caller plans the recorded resources and values', (environment) => {
    expect(plans[environment]).toEqual(JSON.parse(readFileSync(planFile(environment), 'utf8')));
  });
});
