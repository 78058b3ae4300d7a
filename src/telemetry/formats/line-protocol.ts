import { AppError } from '../../http/errors/catalogue.js';
import { BatchBuilder, type ParsedBatch } from './batch.js';

export type Precision = 'ns' | 'us' | 'ms' | 's';
/** A decimal number; unambiguous (linear time) even on long digit runs. */
export const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
/** Longer numeric text is refused before any matching (a double needs far fewer digits). */
export const MAX_NUMBER = 64;
const TO_MS: Readonly<Record<Precision, number>> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000 };

/**
 * The sensor key a line-protocol point maps to:
 * - with a `sensor` tag: that tag's value, plus `.<field>` unless the field is `value`;
 * - otherwise `<measurement>`, then `/<tag value>` for each tag in tag-key order, then `.<field>`
 *   (Telegraf's `cpu,cpu=cpu0,host=h1 usage_user=1` → `cpu/cpu0/h1.usage_user`).
 * Characters a key cannot hold become `_`.
 */
export function sensorKeyFor(
  measurement: string,
  tags: ReadonlyArray<[string, string]>,
  field: string,
): string {
  const sensorTag = tags.find(([k]) => k === 'sensor');
  const raw = sensorTag
    ? field === 'value'
      ? sensorTag[1]
      : `${sensorTag[1]}.${field}`
    : `${[measurement, ...[...tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v)].join('/')}.${field}`;
  return raw.replace(/[^A-Za-z0-9._:/-]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
}

/** Splits on `sep` outside backslash escapes (and, when `quotes`, outside double quotes). */
function split(text: string, sep: string, quotes: boolean): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[i + 1];
      i++;
    } else if (quotes && c === '"') {
      inQuotes = !inQuotes;
      cur += c;
    } else if (c === sep && !inQuotes) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

const unescapeLp = (s: string) => s.replace(/\\(.)/g, '$1');

/**
 * InfluxDB line protocol (what Telegraf and other agents write):
 * `measurement[,tag=v...] field=value[,field2=value2] [timestamp]`, one point per line, `#`
 * comments. Each numeric field becomes one reading of the sensor named by {@link sensorKeyFor};
 * string and boolean fields are refused per item. Item indexes count fields in order.
 * A line that cannot be parsed is a 400 naming the line.
 */
export function parseLineProtocol(
  text: string,
  receivedAt: number,
  precision: Precision = 'ns',
): ParsedBatch {
  const b = new BatchBuilder(256);
  const factor = TO_MS[precision];
  let index = 0;
  const lines = text.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const malformed = (why: string) =>
      new AppError('MALFORMED_BODY', `Line protocol line ${ln + 1}: ${why}`, { fields: { line: ln + 1 } });
    const parts = split(line, ' ', true).filter((p) => p !== '');
    if (parts.length < 2 || parts.length > 3)
      throw malformed('expected "measurement[,tags] fields [timestamp]"');
    const [series, fieldSet, stamp] = parts as [string, string, string | undefined];
    const [measurementRaw, ...tagParts] = split(series, ',', false);
    const measurement = unescapeLp(measurementRaw ?? '');
    if (measurement === '') throw malformed('missing measurement');
    const tags: [string, string][] = [];
    for (const t of tagParts) {
      const [k, v, extra] = split(t, '=', false);
      if (k === undefined || v === undefined || extra !== undefined || k === '' || v === '')
        throw malformed(`bad tag "${t}"`);
      tags.push([unescapeLp(k), unescapeLp(v)]);
    }
    let ts = receivedAt;
    if (stamp !== undefined) {
      if (!/^-?\d+$/.test(stamp)) throw malformed(`bad timestamp "${stamp}"`);
      ts = Number(stamp) * factor;
    }
    for (const f of split(fieldSet, ',', true)) {
      const eq = f.indexOf('=');
      if (eq <= 0) throw malformed(`bad field "${f}"`);
      const field = unescapeLp(f.slice(0, eq));
      const raw = f.slice(eq + 1);
      const key = sensorKeyFor(measurement, tags, field);
      const i = index++;
      if (key.length > 128) {
        b.reject(i, 'MISSING_SENSOR', 'the sensor key this point maps to is longer than 128 characters');
        continue;
      }
      if (raw.startsWith('"')) {
        b.reject(i, 'NOT_NUMERIC', `${key}: string field values are not stored`);
      } else if (/^(t|T|true|True|TRUE|f|F|false|False|FALSE)$/.test(raw)) {
        b.reject(i, 'NOT_NUMERIC', `${key}: boolean field values are not stored`);
      } else if (/^-?\d+[iu]$/.test(raw)) {
        b.add(i, key, ts, Number(raw.slice(0, -1)));
      } else if (raw.length <= MAX_NUMBER && NUMBER.test(raw)) {
        const value = Number(raw);
        if (Number.isFinite(value)) b.add(i, key, ts, value);
        else b.reject(i, 'NOT_FINITE', `${key}: value must be finite`);
      } else {
        throw malformed(`bad field value "${raw}"`);
      }
    }
  }
  return b.finish();
}
