import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import type { Dialect } from '../../src/db/database.js';
import { PG_URL, tempDir } from './env.js';

export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

export interface TestDatabase {
  /** A DATABASE_URL for this isolated database. */
  readonly url: string;
  /** PostgreSQL: the schema holding this database's tables (the `test` database is shared). */
  readonly schema?: string;
  drop(): Promise<void>;
}

/**
 * An isolated, empty database: a fresh SQLite file, or a fresh PostgreSQL schema (selected via
 * search_path in the URL) in the shared `test` database, dropped afterwards.
 */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const file = path.join(tempDir('vigil-db-'), 'test.db');
    return { url: `sqlite:${file}`, drop: async () => {} };
  }
  const schema = `vt_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`create schema ${schema}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.href,
    schema,
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}
