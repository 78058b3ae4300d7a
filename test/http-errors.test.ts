import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/http/errors/catalogue.js';
import { createTestApp, type TestApp } from './helpers/app.js';

const PROBLEM = 'application/problem+json; charset=utf-8';

function addTestRoutes(app: TestApp['app']): void {
  app.post(
    '/test/echo',
    {
      bodyLimit: 2048,
      schema: {
        body: Type.Object(
          {
            name: Type.String({ minLength: 1 }),
            count: Type.Integer({ minimum: 0 }),
            items: Type.Optional(
              Type.Array(Type.Object({ value: Type.Number() }, { additionalProperties: false })),
            ),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => req.body,
  );
  app.get('/test/boom', async () => {
    throw new Error('database password is hunter2');
  });
  app.get('/test/conflict', async () => {
    throw new AppError('CONFLICT', 'Sensor key already exists', { fields: { key: 'p-1' } });
  });
}

describe('problem+json errors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, { beforeReady: addTestRoutes });
  });
  afterAll(() => t.close());

  it('400 VALIDATION_FAILED lists every failing field by JSON pointer', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/echo',
      payload: { name: '', count: -1, extra: true, items: [{ value: 1 }, { value: 'x' }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe(PROBLEM);
    const body = res.json();
    expect(body).toMatchObject({
      type: 'https://vigil.dev/problems/validation-failed',
      title: expect.any(String),
      status: 400,
      code: 'VALIDATION_FAILED',
      requestId: res.headers['x-request-id'],
      instance: '/test/echo',
    });
    const pointers = body.errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toEqual(
      expect.arrayContaining(['/body/name', '/body/count', '/body/extra', '/body/items/1/value']),
    );
    expect(body.errors.find((e: { pointer: string }) => e.pointer === '/body/extra').detail).toBe(
      'is not an allowed property',
    );
  });

  it('reports a missing field at its own pointer', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/test/echo', payload: { name: 'a' } });
    expect(res.json().errors).toEqual([{ pointer: '/body/count', detail: 'is required' }]);
  });

  it('400 MALFORMED_BODY says where the JSON broke', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "a",\n "count": 1,}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe(PROBLEM);
    const body = res.json();
    expect(body.code).toBe('MALFORMED_BODY');
    expect(body).toMatchObject({ line: 2, position: expect.any(Number), column: expect.any(Number) });
    expect(body.detail).toMatch(/^Invalid JSON at line 2, column \d+/);
  });

  it('400 MALFORMED_BODY for an empty JSON body and for prototype poisoning', async () => {
    const empty = await t.app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    expect(empty.json().code).toBe('MALFORMED_BODY');
    const poisoned = await t.app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":"a","count":1,"__proto__":{"admin":true}}',
    });
    expect(poisoned.statusCode).toBe(400);
    expect(poisoned.json().detail).toMatch(/__proto__/);
  });

  it('404 ROUTE_NOT_FOUND', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND', status: 404, instance: '/nope' });
  });

  it('405 METHOD_NOT_ALLOWED with an Allow header', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/test/echo' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED', status: 405 });
  });

  it('413 PAYLOAD_TOO_LARGE', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/echo',
      payload: { name: 'x'.repeat(5000), count: 1 },
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('accepts JSON with a charset parameter and +json media types', async () => {
    for (const type of [
      'application/json; charset=utf-8',
      'Application/JSON;charset="UTF-8"',
      'application/merge-patch+json',
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/test/echo',
        headers: { 'content-type': type },
        payload: '{"name":"a","count":1}',
      });
      expect(res.statusCode, type).toBe(200);
      expect(res.json()).toEqual({ name: 'a', count: 1 });
    }
  });

  it('415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toBe(PROBLEM);
    expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('500 INTERNAL hides the error outside development', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/test/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toBe(PROBLEM);
    const body = res.json();
    expect(body.code).toBe('INTERNAL');
    expect(body.stack).toBeUndefined();
    expect(res.body).not.toContain('hunter2');
  });

  it('application errors carry their catalogue code and extensions', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/test/conflict' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'CONFLICT', detail: 'Sensor key already exists', key: 'p-1' });
  });
});

describe('request ids', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('echoes a well-formed X-Request-Id', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'lb-7f3a9c21.trace' },
    });
    expect(res.headers['x-request-id']).toBe('lb-7f3a9c21.trace');
  });

  it('replaces a malformed one and generates one when absent', async () => {
    const bad = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'a b\r\n<script>' },
    });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const none = await t.app.inject({ method: 'GET', url: '/nope' });
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(none.json().requestId).toBe(none.headers['x-request-id']);
  });
});

describe('development mode', () => {
  it('includes the stack of a 500 for the developer', async () => {
    const t = await createTestApp({ NODE_ENV: 'development' }, { beforeReady: addTestRoutes });
    try {
      const res = await t.app.inject({ method: 'GET', url: '/test/boom' });
      expect(res.statusCode).toBe(500);
      expect(res.json().stack).toMatch(/Error: database password/);
    } finally {
      await t.close();
    }
  });
});
