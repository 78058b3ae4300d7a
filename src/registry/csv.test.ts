import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.js';

describe('parseCsv', () => {
  it('reads quoted fields with commas, quotes and newlines, CRLF and a BOM', () => {
    const text = '\ufeffkey,name,metadata\r\np-1,"Pump, north","{""a"":1}"\r\np-2,"two\nlines",\r\n';
    const { header, rows } = parseCsv(text, { maxRows: 10 });
    expect(header).toEqual(['key', 'name', 'metadata']);
    expect(rows).toEqual([
      { line: 2, values: { key: 'p-1', name: 'Pump, north', metadata: '{"a":1}' } },
      { line: 3, values: { key: 'p-2', name: 'two\nlines', metadata: '' } },
    ]);
  });

  it('says where malformed input breaks', () => {
    expect(() => parseCsv('a,b\n1,"x\n', { maxRows: 10 })).toThrow(/line 2: a quoted field is not closed/);
    expect(() => parseCsv('a,b\n1,2,3\n', { maxRows: 10 })).toThrow(/line 2: 3 fields, the header has 2/);
    expect(() => parseCsv('a,b\n1,x"y\n', { maxRows: 10 })).toThrow(
      /line 2: a quote inside an unquoted field/,
    );
    expect(() => parseCsv('a,b\n1,"x"y\n', { maxRows: 10 })).toThrow(/closing quote must end the field/);
    expect(() => parseCsv('', { maxRows: 10 })).toThrow(/empty/);
    expect(() => parseCsv('a\n1\n2\n3\n', { maxRows: 2 })).toThrow(/At most 2 rows/);
  });
});
