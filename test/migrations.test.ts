import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../src/db/database.js';
import { migrations } from '../src/db/migrations/index.js';
import { migrateDown, migrateToLatest, migrationStatus, pendingMigrations } from '../src/db/migrator.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './helpers/databases.js';
import { testConfig } from './helpers/env.js';

/** Application tables of this test's own database (other tests' schemas share the PostgreSQL database). */
async function tableNames(handle: DatabaseHandle, schema: string | undefined): Promise<string[]> {
  const tables = await handle.db.introspection.getTables();
  return tables
    .filter((t) => schema === undefined || t.schema === schema)
    .map((t) => t.name)
    .filter((n) => !n.startsWith('kysely_'))
    .sort();
}

describe.each(DIALECTS)('migrations on %s', (dialect) => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;

  afterEach(async () => {
    await handle?.destroy();
    await testDb?.drop();
  });

  async function open() {
    testDb = await createTestDatabase(dialect);
    handle = openDatabase(testConfig({ DATABASE_URL: testDb.url }).database);
    expect(handle.dialect).toBe(dialect);
  }

  it('round-trips every migration up → down → up', async () => {
    await open();
    const names = Object.keys(migrations);
    expect(await pendingMigrations(handle.db)).toEqual(names);

    expect(await migrateToLatest(handle.db)).toEqual(names);
    const tablesUp = await tableNames(handle, testDb.schema);
    expect(tablesUp).toContain('job_runs');
    expect(await pendingMigrations(handle.db)).toEqual([]);

    // Down one at a time, newest first, until nothing is applied and no table is left.
    const reverted = await migrateDown(handle.db, names.length);
    expect(reverted).toEqual([...names].reverse());
    expect(await tableNames(handle, testDb.schema)).toEqual([]);
    expect(await migrateDown(handle.db, 1)).toEqual([]);

    expect(await migrateToLatest(handle.db)).toEqual(names);
    expect(await tableNames(handle, testDb.schema)).toEqual(tablesUp);
    expect((await migrationStatus(handle.db)).every((m) => m.executedAt instanceof Date)).toBe(true);
  });

  it('enforces the job_runs claim and status constraints', async () => {
    await open();
    await migrateToLatest(handle.db);
    const row = {
      job: 'x',
      scheduled_for: 1000,
      instance_id: 'a',
      status: 'running' as const,
      started_at: 1,
      lease_until: 2,
    };
    await handle.db.insertInto('job_runs').values(row).execute();
    await expect(handle.db.insertInto('job_runs').values(row).execute()).rejects.toThrow(/unique/i);
    await expect(
      sql`insert into job_runs (job, scheduled_for, instance_id, status, started_at, lease_until) values ('y', 1, 'a', 'bogus', 1, 2)`.execute(
        handle.db,
      ),
    ).rejects.toThrow(/check/i);
  });
});
