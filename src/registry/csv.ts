import { AppError } from '../http/errors/catalogue.js';

export interface CsvRow {
  /** 1-based line of the row in the file (the header is line 1). */
  readonly line: number;
  readonly values: Readonly<Record<string, string>>;
}

/**
 * RFC 4180 CSV: comma-separated, fields optionally in double quotes (a doubled quote escapes
 * one, quoted fields may hold commas and newlines), CRLF or LF line ends, a header row naming
 * the columns. Malformed input is a 400 saying where.
 */
export function parseCsv(text: string, opts: { maxRows: number }): { header: string[]; rows: CsvRow[] } {
  const records: { line: number; fields: string[] }[] = [];
  let field = '';
  let fields: string[] = [];
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let i = 0;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // tolerate a UTF-8 BOM
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
  };
  while (i < src.length) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = src[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new AppError('MALFORMED_BODY', `CSV line ${line}: a closing quote must end the field`, {
            fields: { line },
          });
        }
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== '')
        throw new AppError('MALFORMED_BODY', `CSV line ${line}: a quote inside an unquoted field`, {
          fields: { line },
        });
      quoted = true;
      i++;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      i += c === '\r' && src[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      if (records.length > opts.maxRows + 1) {
        throw new AppError('PAYLOAD_TOO_LARGE', `At most ${opts.maxRows} rows per import`);
      }
    } else {
      field += c;
      i++;
    }
  }
  if (quoted)
    throw new AppError('MALFORMED_BODY', `CSV line ${recordLine}: a quoted field is not closed`, {
      fields: { line: recordLine },
    });
  if (field !== '' || fields.length > 0) endRecord();
  const [head, ...body] = records;
  if (!head) throw new AppError('MALFORMED_BODY', 'The CSV is empty: the first line must name the columns');
  if (body.length > opts.maxRows)
    throw new AppError('PAYLOAD_TOO_LARGE', `At most ${opts.maxRows} rows per import`);
  const header = head.fields.map((h) => h.trim());
  const rows = body.map((r) => {
    if (r.fields.length !== header.length) {
      throw new AppError(
        'MALFORMED_BODY',
        `CSV line ${r.line}: ${r.fields.length} fields, the header has ${header.length}`,
        {
          fields: { line: r.line },
        },
      );
    }
    return { line: r.line, values: Object.fromEntries(header.map((h, idx) => [h, r.fields[idx]!.trim()])) };
  });
  return { header, rows };
}
