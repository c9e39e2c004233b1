import { fillTemplate } from '../../src/rds/emit';

test('a template gets each value where its placeholder stands', () => {
  expect(
    fillTemplate('PostgreSQL {{version}} ({{family}}), {{version}}.x', { version: '15', family: 'postgres15' }),
  ).toBe('PostgreSQL 15 (postgres15), 15.x');
});

test('a placeholder without a value is refused', () => {
  expect(() => fillTemplate('{{missing}}', {})).toThrow('template placeholder {{missing}} has no value');
});

test('a value the template never uses is refused', () => {
  expect(() => fillTemplate('text', { stray: 'x' })).toThrow('template has no placeholder for stray');
});
