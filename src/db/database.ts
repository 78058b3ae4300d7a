import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type LogEvent, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/config.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;
/** What repositories take, so callers can compose several calls into one transaction. */
export type DbOrTrx = Kysely<Database> | Transaction<Database>;
export type Dialect = DatabaseConfig['dialect'];

export interface DatabaseHandle {
  readonly db: Db;
  readonly dialect: Dialect;
  /** Round trip to the database; rejects when it is unreachable. */
  ping(): Promise<void>;
  destroy(): Promise<void>;
  /** PostgreSQL: the pool's connections now (SQLite has one synchronous connection, no pool). */
  poolStats?(): {
    readonly total: number;
    readonly idle: number;
    readonly waiting: number;
    readonly max: number;
  };
}

/** Told of every query's duration (metrics); `failed` when it threw. */
export type QueryObserver = (seconds: number, failed: boolean) => void;

function queryLog(onQuery: QueryObserver | undefined): { log?: (event: LogEvent) => void } {
  return onQuery ? { log: (e) => onQuery(e.queryDurationMillis / 1000, e.level === 'error') } : {};
}

const INT8_OID = 20;

/** Opens the configured database. PostgreSQL connects lazily, so this succeeds while it is down. */
export function openDatabase(
  config: DatabaseConfig,
  opts: { onPoolError?: (err: Error) => void; onQuery?: QueryObserver } = {},
): DatabaseHandle {
  if (config.dialect === 'sqlite') {
    if (config.path !== ':memory:') mkdirSync(path.dirname(config.path), { recursive: true });
    const sqlite = new SQLite(config.path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`synchronous = ${config.synchronous}`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${config.busyTimeoutMs}`);
    const db = new Kysely<Database>({
      dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
      ...queryLog(opts.onQuery),
    });
    return {
      db,
      dialect: 'sqlite',
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      destroy: () => db.destroy(),
    };
  }

  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolMax,
    idleTimeoutMillis: config.idleTimeoutMs,
    connectionTimeoutMillis: config.connectTimeoutMs,
    statement_timeout: config.statementTimeoutMs || undefined,
    application_name: 'vigil',
    // BIGINT holds epoch-ms timestamps and counters, all far below 2^53: read them as numbers.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary'
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its server must not crash the process: the next query fails and is answered 503.
  pool.on('error', (err) => opts.onPoolError?.(err));
  // pg-pool listens for errors only on idle clients; a connection lost mid-query would otherwise
  // emit an unhandled 'error' and crash the process. The query itself still fails (answered 503).
  pool.on('connect', (client) => client.on('error', (err) => opts.onPoolError?.(err)));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...queryLog(opts.onQuery) });
  return {
    db,
    dialect: 'postgres',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    destroy: () => db.destroy(),
    poolStats: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: config.poolMax,
    }),
  };
}

/**
 * Kysely prepares every query anew; on the ingest path that was a tenth of the CPU. Statements
 * are cached by their SQL (Kysely runs each to completion before the next, so reuse is safe);
 * the cache is bounded because some SQL embeds list lengths (`in (?, ?, …)`).
 */
function withStatementCache(sqlite: SQLite.Database, max = 500) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (text: string) => {
      let stmt = cache.get(text);
      if (stmt) {
        cache.delete(text);
      } else {
        stmt = sqlite.prepare(text);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
}
