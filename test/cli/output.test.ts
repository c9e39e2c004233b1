import { formatCell, renderRecord, renderTable } from '../../src/cli/output';
import { formatDuration, formatElapsed, timestampSuffix } from '../../src/cli/wait';

describe('renderTable', () => {
  const columns = [
    { header: 'NAME', value: (r: { name: string; n: number }) => r.name },
    { header: 'N', value: (r: { name: string; n: number }) => r.n, align: 'right' as const },
  ];

  test('aligns columns under their headers, numbers to the right', () => {
    expect(
      renderTable(columns, [
        { name: 'tenants', n: 3 },
        { name: 'users', n: 120 },
      ]),
    ).toBe(['NAME       N', '-------  ---', 'tenants    3', 'users    120', ''].join('\n'));
  });

  test('cuts cells longer than maxWidth with an ellipsis and flattens whitespace', () => {
    const text = renderTable(
      [{ header: 'QUERY', value: (q: string) => q, maxWidth: 12 }],
      ['SELECT *\n  FROM accessweaver.users'],
    );
    expect(text.split('\n')[2]).toBe('SELECT * FR…');
  });

  test('says (none) for no rows', () => {
    expect(renderTable(columns, [])).toBe('(none)\n');
  });
});

describe('record, cell and time formats', () => {
  test('renderRecord aligns labels', () => {
    expect(
      renderRecord([
        ['Status', 'available'],
        ['Multi-AZ', true],
      ]),
    ).toBe('Status    available\nMulti-AZ  yes\n');
  });

  test('formatCell prints dates as ISO 8601 and null as empty', () => {
    expect([formatCell(new Date('2026-03-14T02:30:00Z')), formatCell(null), formatCell(12.345)]).toEqual([
      '2026-03-14T02:30:00.000Z',
      '',
      '12.35',
    ]);
  });

  test('formatDuration shows tenths of a second below a minute, then minutes and seconds', () => {
    expect([formatDuration(312), formatDuration(0), formatDuration(12_049), formatDuration(59_960)]).toEqual([
      '0.3 s',
      '0.0 s',
      '12.0 s',
      '1m00s',
    ]);
  });

  test('formatElapsed shows minutes and seconds, and hours once past the hour', () => {
    expect([formatElapsed(5_000), formatElapsed(754_000), formatElapsed(3_725_000)]).toEqual([
      '0m05s',
      '12m34s',
      '1h02m05s',
    ]);
  });

  test('timestampSuffix is the UTC YYYYMMDD-HHMMSS of identifiers', () => {
    expect(timestampSuffix(new Date('2026-03-04T05:06:07.890Z'))).toBe('20260304-050607');
  });
});
