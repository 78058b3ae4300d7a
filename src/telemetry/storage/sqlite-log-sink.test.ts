import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/env.js';
import { isDatabaseUnavailable } from '../../db/errors.js';
import { summarise } from './log-sink.js';
import { SqliteWorkerLogSink } from './sqlite-log-sink.js';

describe('SqliteWorkerLogSink', () => {
  let sink: SqliteWorkerLogSink | undefined;
  afterEach(() => sink?.close());

  const group = (n: number) =>
    summarise(
      [
        {
          tenantId: 't',
          block: {
            count: n,
            series: new Int32Array(n).fill(1),
            ts: Float64Array.from({ length: n }, (_, i) => 1000 + i),
            value: new Float64Array(n).fill(2.5),
            quality: new Uint8Array(n),
          },
          devicesSeen: [],
          refused: new Map(),
        },
      ],
      5000,
    );

  it('commits groups from its own thread, visible to other connections at once; reports SQL errors per group', async () => {
    const file = path.join(tempDir(), 'w.db');
    const main = new SQLite(file);
    main.pragma('journal_mode = WAL');
    sink = new SqliteWorkerLogSink({ path: file, synchronous: 'FULL', busyTimeoutMs: 1000 });
    // No table yet: that group fails, and the writer stays usable.
    const err = await sink.write(group(3)).catch((e: unknown) => e as Error & { code?: string });
    expect((err as Error).message).toMatch(/no such table/);
    main.exec(`
      create table reading_log (id integer primary key autoincrement, count integer, min_ts integer, max_ts integer, data blob, created_at integer);
      create table ingest_requests (tenant_id text, idempotency_key text, response text, created_at integer, primary key (tenant_id, idempotency_key));
      create table devices (id text primary key, last_seen_at integer, refused_count integer);
    `);
    await sink.write(group(3));
    await sink.write(group(2));
    const rows = main.prepare('select count, min_ts, max_ts, created_at from reading_log order by id').all();
    expect(rows).toEqual([
      { count: 3, min_ts: 1000, max_ts: 1002, created_at: 5000 },
      { count: 2, min_ts: 1000, max_ts: 1001, created_at: 5000 },
    ]);
    main.close();
  });

  it('refuses writes after close, as unavailable', async () => {
    sink = new SqliteWorkerLogSink({
      path: path.join(tempDir(), 'c.db'),
      synchronous: 'FULL',
      busyTimeoutMs: 1000,
    });
    await sink.close();
    const err = await sink.write(group(1)).catch((e: unknown) => e);
    expect(isDatabaseUnavailable(err)).toBe(true);
    sink = undefined;
  });
});
