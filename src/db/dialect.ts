import { type Kysely, PostgresAdapter } from 'kysely';
import type { Dialect } from './database.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations work on the schema as it is at their point in history, not on today's table types; Kysely models that as Kysely<any>.
export type SchemaDb = Kysely<any>;

/** Which SQL dialect a Kysely instance speaks; migrations use it where the two differ. */
export function dialectOf(db: SchemaDb): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}
