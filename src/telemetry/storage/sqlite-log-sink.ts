import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { GroupWrite, LogSink } from './log-sink.js';

/**
 * The writer thread: its own connection to the same SQLite file (WAL: the main connection reads
 * what it commits at once). Plain JavaScript evaluated in the worker, so it runs the same from
 * the TypeScript sources (tests) and from dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
// Prepared on first use: the schema may still be migrating when the thread starts.
let write;
function prepare() {
  const insertLog = db.prepare('insert into reading_log (count, min_ts, max_ts, data, created_at) values (?, ?, ?, ?, ?)');
  const remember = db.prepare('insert into ingest_requests (tenant_id, idempotency_key, response, created_at) values (?, ?, ?, ?) on conflict (tenant_id, idempotency_key) do nothing');
  const seen = db.prepare('update devices set last_seen_at = ? where id = ? and (last_seen_at is null or last_seen_at < ?)');
  const refuse = db.prepare('update devices set refused_count = refused_count + ? where id = ?');
  return db.transaction((g) => {
    for (const l of g.log) insertLog.run(l.count, l.minTs, l.maxTs, Buffer.from(l.data.buffer, l.data.byteOffset, l.data.byteLength), g.now);
    for (const r of g.idempotency) remember.run(r.tenantId, r.key, r.response, g.now);
    for (const id of g.devicesSeen) seen.run(g.now, id, g.now);
    for (const [id, n] of g.refused) refuse.run(n, id);
  });
}
parentPort.on('message', (m) => {
  if (m.close) { db.close(); parentPort.postMessage({ closed: true }); return; }
  try {
    write ??= prepare();
    write(m.group);
    parentPort.postMessage({ id: m.id });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: { message: err.message, code: err.code } });
  }
});
`;

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Group commits on SQLite from a worker thread. better-sqlite3 is synchronous: a commit (and its
 * fsync) on the main thread would stop every request meanwhile; on its own thread the main
 * thread keeps parsing and validating the next batches while this one is made durable.
 */
export class SqliteWorkerLogSink implements LogSink {
  private worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failed: Error | undefined;
  private closed = false;

  constructor(private readonly opts: { path: string; synchronous: string; busyTimeoutMs: number }) {
    this.worker = this.start();
  }

  private start(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        path: this.opts.path,
        synchronous: this.opts.synchronous,
        busyTimeoutMs: this.opts.busyTimeoutMs,
        driver,
      },
    });
    worker.unref();
    worker.on(
      'message',
      (m: { id?: number; error?: { message: string; code?: string }; closed?: boolean }) => {
        if (m.id === undefined) return;
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
        else p.resolve();
      },
    );
    // Events of a thread already replaced must not fail its successor.
    worker.on('error', (err) => worker === this.worker && this.fail(err));
    worker.on(
      'exit',
      (code) => worker === this.worker && this.fail(new Error(`SQLite writer thread exited (${code})`)),
    );
    return worker;
  }

  write(group: GroupWrite): Promise<void> {
    if (this.closed)
      return Promise.reject(
        Object.assign(new Error('the SQLite writer is closed'), { code: 'SQLITE_IOERR' }),
      );
    if (this.failed) {
      // The thread died (its error went to the requests then in flight): start a fresh one.
      this.failed = undefined;
      this.worker = this.start();
    }
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(
        { id, group },
        group.log.map((l) => l.data.buffer as ArrayBuffer),
      );
    }).finally(() => {
      if (this.pending.size === 0) this.worker.unref();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.failed) return;
    await new Promise<void>((resolve) => {
      this.worker.once('message', () => resolve());
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ close: true });
    });
    await this.worker.terminate();
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.failed ??= Object.assign(
      new Error(`SQLite writer failed: ${err.message ?? String(err)}`, { cause: err }),
      {
        code: 'SQLITE_IOERR',
      },
    );
    for (const p of this.pending.values()) p.reject(this.failed);
    this.pending.clear();
  }
}
