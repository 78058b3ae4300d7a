import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type MigrationResultSet, Migrator, sql } from 'kysely';
import { dialectOf, type SchemaDb } from './dialect.js';
import { migrations } from './migrations/index.js';

export interface MigrationState {
  readonly name: string;
  readonly executedAt: Date | undefined;
}

/**
 * On PostgreSQL the migration tables are pinned to the connection's current schema: Kysely looks
 * for them across all schemas otherwise, and another installation's tables in a neighbouring
 * schema would make it skip creating its own.
 */
export async function createMigrator(db: SchemaDb): Promise<Migrator> {
  const provider = { getMigrations: async () => migrations };
  if (dialectOf(db) !== 'postgres') return new Migrator({ db, provider });
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return new Migrator({ db, provider, migrationTableSchema: rows[0]!.schema });
}

export async function migrationStatus(db: SchemaDb): Promise<MigrationState[]> {
  const list = await (await createMigrator(db)).getMigrations();
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt }));
}

export async function pendingMigrations(db: SchemaDb): Promise<string[]> {
  return (await migrationStatus(db)).filter((m) => m.executedAt === undefined).map((m) => m.name);
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly results: MigrationResultSet['results'],
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

function unwrap(set: MigrationResultSet, what: string): string[] {
  if (set.error) {
    const failed = set.results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = set.error instanceof Error ? set.error.message : String(set.error);
    throw new MigrationError(
      `${what} failed${failed ? ` at ${failed}` : ''}: ${reason}`,
      set.results,
      set.error,
    );
  }
  return (set.results ?? []).map((r) => r.migrationName);
}

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(db: SchemaDb): Promise<string[]> {
  return unwrap(await (await createMigrator(db)).migrateToLatest(), 'migrate up');
}

/** Reverts the most recent `steps` migrations; returns the names reverted. */
export async function migrateDown(db: SchemaDb, steps = 1): Promise<string[]> {
  const migrator = await createMigrator(db);
  const reverted: string[] = [];
  for (let i = 0; i < steps; i++) {
    const names = unwrap(await migrator.migrateDown(), 'migrate down');
    if (names.length === 0) break;
    reverted.push(...names);
  }
  return reverted;
}

const MARKER = '  // vigil:migrations-end';

/**
 * Writes a new migration file into `dir` (the source tree) and registers it in its index.
 * Names are timestamp-prefixed so migrations written on different branches still order by time.
 */
export function createMigrationFile(dir: string, rawName: string, now = new Date()): string {
  const slug = rawName
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (slug === '') throw new Error('migration name must contain letters or digits');
  const indexFile = path.join(dir, 'index.ts');
  if (!existsSync(indexFile)) throw new Error(`${indexFile} not found: run this from the repository root`);
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const name = `${stamp}_${slug}`;
  const file = path.join(dir, `${name}.ts`);
  if (existsSync(file)) throw new Error(`${file} already exists`);
  writeFileSync(
    file,
    `import type { SchemaDb } from '../dialect.js';

export async function up(db: SchemaDb): Promise<void> {
  // Use dialectOf(db) from '../dialect.js' where SQLite and PostgreSQL differ.
  await db.schema.createTable('${slug}').addColumn('id', 'text', (c) => c.primaryKey()).execute();
}

export async function down(db: SchemaDb): Promise<void> {
  await db.schema.dropTable('${slug}').execute();
}
`,
  );
  const index = readFileSync(indexFile, 'utf8');
  if (!index.includes(MARKER)) throw new Error(`${indexFile} lacks the "${MARKER.trim()}" line`);
  const lastImport = index.lastIndexOf('\nimport * as ');
  const insertAt = index.indexOf('\n', lastImport + 1) + 1;
  const updated =
    `${index.slice(0, insertAt)}import * as m${stamp} from './${name}.js';\n${index.slice(insertAt)}`.replace(
      MARKER,
      `  '${name}': m${stamp},\n${MARKER}`,
    );
  writeFileSync(indexFile, updated);
  return file;
}
