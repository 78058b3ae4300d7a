import { afterEach, describe, expect, it } from 'vitest';
import { AuditChain } from '../src/audit/audit.chain.js';
import {
  appendAudit,
  auditHead,
  checkpointPresent,
  verifyAuditChain,
} from '../src/audit/audit.repository.js';
import { toKeyMaterial } from '../src/security/crypto.js';
import { createTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './helpers/databases.js';
import { loginAs, PASSWORD, seedUser } from './helpers/identity.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function appOn(dialect: 'sqlite' | 'postgres', env: Record<string, string> = {}): Promise<TestApp> {
  const db: TestDatabase = await createTestDatabase(dialect);
  cleanups.push(() => db.drop());
  const t = await createTestApp({ DATABASE_URL: db.url, ...env });
  cleanups.push(() => t.close());
  return t;
}

describe.each(DIALECTS)('audit chain on %s', (dialect) => {
  async function withEvents() {
    const t = await appOn(dialect);
    const chain = t.services.identity.auditChain;
    const { db } = t.services.database;
    for (let i = 0; i < 5; i++) {
      await db.transaction().execute((trx) =>
        appendAudit(trx, chain, {
          action: `test.${i}`,
          outcome: 'success',
          actorType: 'system',
          details: { i },
        }),
      );
    }
    return { t, chain, db };
  }

  it('verifies an untouched chain', async () => {
    const { chain, db } = await withEvents();
    expect(await verifyAuditChain(db, chain)).toEqual({
      ok: true,
      rows: 5,
      head: { seq: 5, hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
  });

  it('detects an edited row', async () => {
    const { chain, db } = await withEvents();
    await db.updateTable('audit_log').set({ details: '{"i":99}' }).where('seq', '=', 3).execute();
    expect(await verifyAuditChain(db, chain)).toMatchObject({
      ok: false,
      seq: 3,
      problem: 'row 3 was altered after it was written',
    });
  });

  it('detects a deleted row', async () => {
    const { chain, db } = await withEvents();
    await db.deleteFrom('audit_log').where('seq', '=', 2).execute();
    expect(await verifyAuditChain(db, chain)).toMatchObject({
      ok: false,
      seq: 2,
      problem: expect.stringMatching(/row 2 is missing/),
    });
  });

  it('detects rows cut off the end against a checkpoint taken earlier', async () => {
    const { chain, db } = await withEvents();
    const head = (await auditHead(db))!;
    expect(head.seq).toBe(5);
    expect(await checkpointPresent(db, head)).toBe(true);
    await db.deleteFrom('audit_log').where('seq', '>=', 4).execute();
    // The remaining chain is internally consistent…
    expect(await verifyAuditChain(db, chain)).toMatchObject({ ok: true, rows: 3 });
    // …but the recorded checkpoint is gone.
    expect(await checkpointPresent(db, head)).toBe(false);
  });

  it('detects a row re-hashed by someone without the key', async () => {
    const { chain, db } = await withEvents();
    const forger = new AuditChain({ secretKey: toKeyMaterial(Buffer.alloc(32, 7)), secretKeyPrevious: [] });
    const row = await db.selectFrom('audit_log').selectAll().where('seq', '=', 4).executeTakeFirstOrThrow();
    const forged = { ...row, seq: Number(row.seq), ts: Number(row.ts), action: 'nothing.happened' };
    await db
      .updateTable('audit_log')
      .set({ action: forged.action, hash: forger.hash(row.prev_hash, forged, forger.currentKeyId)! })
      .where('seq', '=', 4)
      .execute();
    expect(await verifyAuditChain(db, chain)).toMatchObject({ ok: false, seq: 4 });
  });

  it('serialises concurrent appends into one unbroken chain', async () => {
    const { chain, db } = await withEvents();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db
          .transaction()
          .execute((trx) =>
            appendAudit(trx, chain, { action: `c.${i}`, outcome: 'success', actorType: 'system' }),
          ),
      ),
    );
    expect(await verifyAuditChain(db, chain)).toMatchObject({ ok: true, rows: 25 });
  });
});

describe('audit trail of real actions', () => {
  it('records logins, failures and changes with request context, never credentials', async () => {
    const t = await appOn('sqlite');
    const owner = await seedUser(t.services, { tenant: 'acme', role: 'owner', platformAdmin: true });
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'user-agent': 'audit-test', 'x-request-id': 'req-audit-0001' },
      payload: { email: owner.email, password: 'Wrong-Password-9' },
    });
    const s = await loginAs(t.app, owner.email);
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: s.auth,
      payload: { name: 'k', permissions: ['tenant:read'] },
    });

    // A failed login belongs to no tenant yet: it is in the installation-wide trail.
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit?limit=50', headers: s.auth });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as {
      action: string;
      outcome: string;
      userAgent: string;
      requestId: string;
    }[];
    const actions = items.map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining(['auth.login:failure', 'auth.login:success', 'api_key.create:success']),
    );
    const failure = items.find((e) => e.action === 'auth.login' && e.outcome === 'failure')!;
    expect(failure).toMatchObject({ userAgent: 'audit-test', requestId: 'req-audit-0001' });
    expect(res.body).not.toContain('Wrong-Password-9');
    expect(res.body).not.toContain(PASSWORD);
    expect(res.body).not.toMatch(/vgl_|vrt_/);

    const filtered = await t.app.inject({
      method: 'GET',
      url: '/api/v1/audit?action=api_key.create',
      headers: s.auth,
    });
    expect(filtered.json().items.every((e: { action: string }) => e.action === 'api_key.create')).toBe(true);
    const bad = await t.app.inject({ method: 'GET', url: '/api/v1/audit?cursor=%%%', headers: s.auth });
    expect(bad.statusCode).toBe(400);
  });

  it('shows tenant admins only their tenant, platform admins everything, and pages by cursor', async () => {
    const t = await appOn('sqlite');
    const a = await seedUser(t.services, { tenant: 'tenant-a', role: 'admin' });
    const b = await seedUser(t.services, { tenant: 'tenant-b', role: 'admin' });
    const root = await seedUser(t.services, { tenant: 'tenant-a', role: 'owner', platformAdmin: true });
    const sa = await loginAs(t.app, a.email);
    await loginAs(t.app, b.email);
    const tenants = (await t.app.inject({ method: 'GET', url: '/api/v1/audit?limit=500', headers: sa.auth }))
      .json()
      .items.map((e: { tenantId: string }) => e.tenantId);
    expect(new Set(tenants)).toEqual(new Set([a.tenant.id]));

    const sr = await loginAs(t.app, root.email);
    const first = (
      await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit?limit=3', headers: sr.auth })
    ).json();
    expect(first.items).toHaveLength(3);
    const second = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/admin/audit?limit=3&cursor=${first.nextCursor}`,
        headers: sr.auth,
      })
    ).json();
    expect(second.items[0].seq).toBeLessThan(first.items[2].seq);
    const all = (
      await t.app.inject({ method: 'GET', url: '/api/v1/admin/audit?limit=500', headers: sr.auth })
    ).json().items;
    expect(new Set(all.map((e: { tenantId: string }) => e.tenantId))).toEqual(
      new Set([a.tenant.id, b.tenant.id]),
    );
  });
});
