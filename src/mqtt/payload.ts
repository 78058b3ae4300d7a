import { AppError } from '../http/errors/catalogue.js';
import { BatchBuilder, type ParsedBatch, parseTimestamp } from '../telemetry/formats/batch.js';
import { MAX_NUMBER, NUMBER, parseLineProtocol } from '../telemetry/formats/line-protocol.js';
import { parseNative } from '../telemetry/formats/native.js';
import { parseSenml } from '../telemetry/formats/senml.js';

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('MALFORMED_BODY', `Invalid JSON: ${(err as Error).message}`);
  }
}

/**
 * A `…/readings` payload in any of the HTTP ingest formats, told apart by its first character:
 * a JSON object is Vigil JSON, a JSON array is SenML, anything else is line protocol (ns).
 */
export function parseReadingsPayload(payload: Buffer, receivedAt: number): ParsedBatch {
  const text = payload.toString('utf8');
  const first = text.trimStart()[0];
  if (first === '{') {
    const body = json(text) as { readings?: unknown };
    if (!Array.isArray(body?.readings))
      throw new AppError('VALIDATION_FAILED', 'Expected {"readings": [...]}');
    return parseNative({ readings: body.readings }, receivedAt);
  }
  if (first === '[') return parseSenml(json(text) as unknown[], receivedAt);
  return parseLineProtocol(text, receivedAt);
}

/** A `…/<sensor>` payload: a bare number, or `ts,value` (ts as RFC 3339 or epoch ms). */
export function parseSensorPayload(sensor: string, payload: Buffer, receivedAt: number): ParsedBatch {
  const text = payload.toString('utf8').trim();
  const b = new BatchBuilder(1);
  const comma = text.lastIndexOf(',');
  const rawTs = comma >= 0 ? text.slice(0, comma).trim() : undefined;
  const rawValue = comma >= 0 ? text.slice(comma + 1).trim() : text;
  const ts = rawTs === undefined ? receivedAt : parseTimestamp(/^-?\d+$/.test(rawTs) ? Number(rawTs) : rawTs);
  const value = rawValue.length <= MAX_NUMBER && NUMBER.test(rawValue) ? Number(rawValue) : Number.NaN;
  if (Number.isNaN(ts))
    b.reject(0, 'INVALID_TIMESTAMP', 'ts must be RFC 3339 with an offset or epoch milliseconds');
  else if (Number.isNaN(value)) b.reject(0, 'NOT_NUMERIC', 'the payload must be a number or "ts,value"');
  else if (!Number.isFinite(value)) b.reject(0, 'NOT_FINITE', 'value must be finite');
  else b.add(0, sensor, ts, value);
  return b.finish();
}
