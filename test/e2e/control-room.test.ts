import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepAt, totpCode } from '../../src/auth/totp.js';
import { DEMO_OWNER, DEMO_TENANT, type RunningDemo, startDemo } from '../../src/demo/demo.js';
import { findTenant } from '../../src/tenants/tenants.repository.js';
import { createUserInTenant } from '../../src/users/users.service.js';
import { testConfig } from '../helpers/env.js';
import { ensureWebBuild, findChromium, launch, pageWithErrors, shot, signIn } from './browser.js';

/**
 * The control room in a real browser (Debian's Chromium driven by playwright-core) against a real
 * Vigil running the demo water network: sign-in (with and without the second factor), the overview,
 * live readings on a sensor's chart, acknowledging the alarm the demo's leak raised, alarm changes
 * arriving live, a viewer kept out of actions and administration, and a session ended elsewhere.
 * Screenshots of the main screens go to test-results/ui/.
 */

const executablePath = findChromium();
if (!executablePath && process.env.CI)
  throw new Error('chromium is not installed (apt-get install chromium)');

const SYSTEM = { actorType: 'system' as const, actorId: null, ip: null, userAgent: 'e2e', requestId: null };
const VIEWER = { email: 'viewer@demo.vigil.local', password: 'Viewer-Reservoir-7419' };
const OPERATOR = { email: 'operator@demo.vigil.local', password: 'Operator-Pumphouse-2286' };
const MFA_USER = { email: 'mfa@demo.vigil.local', password: 'Second-Factor-Tank-5531' };
const ADMIN = { email: 'admin@demo.vigil.local', password: 'Admin-Booster-Station-8842' };

/** Chrome reports answers with an error status as console errors; these are the expected ones. */
const expected401 = (e: string) =>
  /Failed to load resource: the server responded with a status of 401/.test(e);

interface AlarmJson {
  id: string;
  title: string;
  status: string;
  severity: string;
  assetId: string | null;
  raisedAt: string;
}

describe.skipIf(!executablePath)('the control room in a browser', () => {
  let demo: RunningDemo;
  let browser: Browser;
  let base: string;
  let ownerToken: string;
  let mfaSecret: string;

  const api = async <T>(method: string, path: string, token: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${demo.server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok)
      throw Object.assign(new Error(`${method} ${path}: ${res.status} ${text}`), { status: res.status });
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const login = async (email: string, password: string, extra: Record<string, string> = {}) => {
    const res = await fetch(`${demo.server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, ...extra }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return ((await res.json()) as { accessToken: string }).accessToken;
  };
  /** Open alarms, polled until `pick` finds one (the demo raises them from its history and live). */
  const waitForAlarm = async (pick: (a: AlarmJson[]) => AlarmJson | undefined): Promise<AlarmJson> => {
    let found: AlarmJson | undefined;
    await expect
      .poll(
        async () => {
          const { items } = await api<{ items: AlarmJson[] }>(
            'GET',
            '/api/v1/alarms?status=open&limit=200',
            ownerToken,
          );
          found = pick(items);
          return found !== undefined;
        },
        { timeout: 90_000, interval: 1000 },
      )
      .toBe(true);
    return found!;
  };

  beforeAll(async () => {
    ensureWebBuild();
    // Two hours of history (pump 2's bearing wear is past its vibration limit there), live every
    // second, and the Old Town leak ten seconds in rather than two minutes.
    demo = await startDemo(testConfig({ PORT: '0', HOST: '127.0.0.1' }), pino({ level: 'silent' }), {
      historyHours: 2,
      intervalMs: 1000,
      leakAfterMs: 10_000,
    });
    // The refresh cookie is Secure: browsers keep it for localhost, which is a secure context.
    base = demo.server.url.replace('127.0.0.1', 'localhost');
    const { services } = demo.server;
    const tenant = (await findTenant(services.database.db, DEMO_TENANT))!;
    for (const [u, role] of [
      [VIEWER, 'viewer'],
      [OPERATOR, 'operator'],
      [MFA_USER, 'operator'],
      [ADMIN, 'admin'],
    ] as const) {
      await createUserInTenant(
        services,
        services.database.db,
        { ...u, displayName: `Demo ${role}`, tenantId: tenant.id, role },
        SYSTEM,
      );
    }
    ownerToken = await login(DEMO_OWNER, demo.owner.password);
    // Enrol the MFA user's authenticator through the API.
    const mfaToken = await login(MFA_USER.email, MFA_USER.password);
    mfaSecret = (
      await api<{ secret: string }>('POST', '/api/v1/auth/mfa/totp/enroll', mfaToken, {
        password: MFA_USER.password,
      })
    ).secret;
    await api('POST', '/api/v1/auth/mfa/totp/activate', mfaToken, {
      totp: totpCode(mfaSecret, stepAt(Date.now())),
    });
    browser = await launch(executablePath!);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('signs the owner in to a strict-CSP page and shows the overview with KPIs and the schematic', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const { page, errors } = await pageWithErrors(context);
    const res = await page.goto(`${base}/`);
    const csp = res!.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res!.headers()['cache-control']).toBe('no-store');
    await page.getByRole('heading', { name: 'Sign in to the control room' }).waitFor();
    await shot(page, 'sign-in');
    await signIn(page, base, DEMO_OWNER, demo.owner.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await expect
      .poll(() => page.getByTestId('kpi-sensors').textContent(), { timeout: 30_000 })
      .toMatch(/\d+ \/ 14/);
    await page.getByRole('group', { name: /Network schematic/ }).waitFor();
    await expect.poll(() => page.getByTestId('live-indicator').getAttribute('data-status')).toBe('live');
    // Pump 2 is drawn in its alarm state (the bearing wear raised a major vibration alarm).
    await waitForAlarm((items) => items.find((a) => a.title === 'Rule vibration-high'));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect
      .poll(() => page.locator('[data-asset="pump-2"]').getAttribute('data-state'), { timeout: 30_000 })
      .not.toBe('normal');
    await shot(page, 'overview');
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  it('shows live readings arriving on a sensor chart, with history, limits and anomalies', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const { page, errors } = await pageWithErrors(context);
    await signIn(page, base, OPERATOR.email, OPERATOR.password);
    await page.getByRole('link', { name: 'Sensors', exact: true }).click();
    await page.getByRole('searchbox').fill('pump-2/vib');
    await page.getByRole('link', { name: 'Pump 2 vibration' }).click();
    const sensor = page.getByTestId('sensor-page');
    await sensor.waitFor();
    await page.locator('.trend canvas').first().waitFor();
    // History is drawn...
    await expect
      .poll(async () => Number(await page.locator('.trend').getAttribute('data-points')))
      .toBeGreaterThan(30);
    // ...and live readings keep arriving over the WebSocket (the demo sends one a second).
    await expect
      .poll(async () => Number(await sensor.getAttribute('data-live-count')), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(3);
    await expect.poll(() => page.getByTestId('current-value').textContent()).toMatch(/\d mm\/s/);
    // The vibration limit is listed with the chart.
    await page
      .getByText(/vibration-high/)
      .first()
      .waitFor();
    // Hovering the chart explains the point under the cursor.
    const box = (await page.locator('.trend').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.4);
    await page.locator('.trend-tip').waitFor({ state: 'visible' });
    // Zoom to the last hour: the chart follows now.
    await page.getByRole('button', { name: '1 h' }).click();
    await expect
      .poll(() => page.getByRole('button', { name: '1 h' }).getAttribute('aria-pressed'))
      .toBe('true');
    await page.mouse.move(0, 0);
    await shot(page, 'sensor');
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  it("acknowledges an alarm that the demo's leak raised, and shows changes made elsewhere live", async () => {
    // The Old Town leak trips the inlet meter's leak-suspected rule (critical-point pressure under
    // its managed band while the DMA draws water) a minute of readings after it starts.
    const { items: assets } = await api<{ items: { id: string; key: string }[] }>(
      'GET',
      '/api/v1/assets?limit=100',
      ownerToken,
    );
    const meter = assets.find((a) => a.key === 'meter-l1')!;
    const leak = await waitForAlarm((items) =>
      items.find((a) => a.title === 'Asset rule leak-suspected' && a.assetId === meter.id),
    );
    expect(leak.severity).toBe('major');
    // Raised by the leak's own readings (alarm times are the readings' times).
    expect(Date.parse(leak.raisedAt)).toBeGreaterThanOrEqual(demo.scenario.leakAt);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const { page, errors } = await pageWithErrors(context);
    await signIn(page, base, OPERATOR.email, OPERATOR.password);
    await page.getByRole('link', { name: 'Alarms', exact: true }).click();
    const row = page.locator(`tr[data-alarm="${leak.id}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('open');
    await row.getByText('Old Town inlet meter').waitFor();
    await shot(page, 'alarms');
    await row.getByRole('button', { name: /Acknowledge/ }).click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('acknowledged');
    const after = await api<{ alarm: AlarmJson }>('GET', `/api/v1/alarms/${leak.id}`, ownerToken);
    expect(after.alarm.status).toBe('acknowledged');

    // Another operator acknowledges pump 2's vibration alarm: the list updates without a reload.
    const other = await waitForAlarm((items) => items.find((a) => a.title === 'Rule vibration-high'));
    const otherRow = page.locator(`tr[data-alarm="${other.id}"]`);
    await otherRow.waitFor();
    await api('POST', `/api/v1/alarms/${other.id}/acknowledge`, ownerToken, { comment: 'seen on site' });
    await expect.poll(() => otherRow.getAttribute('data-status'), { timeout: 20_000 }).toBe('acknowledged');

    // The leak alarm's page shows who did what, and a comment can be added.
    await row.getByRole('link', { name: 'Asset rule leak-suspected' }).click();
    await page.getByTestId('alarm-detail').waitFor();
    await page.getByText('Acknowledged', { exact: false }).first().waitFor();
    await page.getByRole('button', { name: 'Comment…' }).click();
    await page.getByRole('textbox', { name: 'Comment' }).fill('Leak crew sent to sound the Old Town mains');
    await page.getByRole('button', { name: 'Add comment' }).click();
    await page
      .locator('.timeline-comment', { hasText: 'Leak crew sent to sound the Old Town mains' })
      .waitFor();
    await shot(page, 'alarm-detail');

    await page.getByRole('link', { name: 'Incidents', exact: true }).click();
    await page.getByRole('heading', { name: /Open/ }).first().waitFor();
    await shot(page, 'incidents');
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  it('keeps a viewer out of alarm actions and administration', async () => {
    await waitForAlarm((items) => items[0]);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const { page, errors } = await pageWithErrors(context);
    await signIn(page, base, VIEWER.email, VIEWER.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual([
      'Overview',
      'Sensors',
      'Alarms',
      'Incidents',
      'Maintenance',
    ]);
    await page.getByRole('link', { name: 'Alarms', exact: true }).click();
    await page.locator('tr[data-alarm]').first().waitFor();
    expect(await page.getByRole('button', { name: /Acknowledge/ }).count()).toBe(0);
    await page.locator('tr[data-alarm] a').first().click();
    await page.getByTestId('alarm-detail').waitFor();
    expect(
      await page.getByRole('button', { name: /Acknowledge|Resolve|Shelve|Comment|Assign/ }).count(),
    ).toBe(0);
    // Administration is not offered, and its address says so.
    await page.goto(`${base}/admin`);
    await page.getByRole('heading', { name: 'Not available to your role' }).waitFor();
    await shot(page, 'viewer-admin');
    for (const path of ['/admin/devices', '/admin/members', '/lab']) {
      await page.goto(`${base}${path}`);
      await page.getByRole('heading', { name: 'Not available to your role' }).waitFor();
    }
    // The API agrees.
    const viewerToken = await login(VIEWER.email, VIEWER.password);
    const { items } = await api<{ items: AlarmJson[] }>('GET', '/api/v1/alarms?status=open', viewerToken);
    await expect(
      api('POST', `/api/v1/alarms/${items[0]!.id}/acknowledge`, viewerToken, {}),
    ).rejects.toMatchObject({
      status: 403,
    });
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);

  it('signs in with the authenticator code when the account has one', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const { page, errors } = await pageWithErrors(context);
    await signIn(page, base, MFA_USER.email, MFA_USER.password);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await shot(page, 'sign-in-totp');
    // The next step's code: the activation used this one, and each code works once.
    await page.getByLabel('Authentication code').fill(totpCode(mfaSecret, stepAt(Date.now()) + 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(errors.filter((e) => !expected401(e))).toEqual([]);
    await context.close();
  }, 180_000);

  it('returns to sign-in with a message when the session is ended elsewhere, and survives a reload before that', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const { page, errors } = await pageWithErrors(context);
    await signIn(page, base, OPERATOR.email, OPERATOR.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // A reload resumes the session from the HttpOnly refresh cookie.
    await page.reload();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // Signing out everywhere (from another device) ends this session too.
    const other = await login(OPERATOR.email, OPERATOR.password);
    await api('POST', '/api/v1/auth/logout-all', other);
    // The next API call finds the session gone (live incident updates may get there first).
    await page
      .getByRole('button', { name: 'Refresh' })
      .click({ timeout: 3000 })
      .catch(() => undefined);
    await page.getByText(/session has expired/).waitFor({ timeout: 20_000 });
    await page.getByLabel('Email').waitFor();
    expect(errors.filter((e) => !expected401(e))).toEqual([]);
    await context.close();
  }, 180_000);

  it('works in the dark theme and at phone width', async () => {
    const dark = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: 'dark' });
    const { page, errors } = await pageWithErrors(dark);
    await signIn(page, base, DEMO_OWNER, demo.owner.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await page.getByRole('group', { name: /Network schematic/ }).waitFor();
    await expect.poll(() => page.getByTestId('kpi-sensors').textContent()).toMatch(/\d+ \/ 14/);
    await shot(page, 'overview-dark');
    await page.getByRole('link', { name: 'Alarms', exact: true }).click();
    await page.locator('tr[data-alarm]').first().waitFor();
    await shot(page, 'alarms-dark');
    expect(errors).toEqual([]);
    await dark.close();

    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const p = await pageWithErrors(phone);
    await signIn(p.page, base, OPERATOR.email, OPERATOR.password);
    await p.page.getByRole('heading', { name: 'Overview' }).waitFor();
    await expect.poll(() => p.page.getByTestId('kpi-sensors').textContent()).toMatch(/\d+ \/ 14/);
    // Nothing wider than the screen but the scrollable tables.
    const overflow = (await p.page.evaluate(
      'document.documentElement.scrollWidth - window.innerWidth',
    )) as number;
    expect(overflow).toBeLessThanOrEqual(1);
    await shot(p.page, 'overview-phone');
    await p.page.getByRole('link', { name: 'Sensors', exact: true }).click();
    await p.page.locator('tr[data-sensor]').first().waitFor();
    await shot(p.page, 'sensors-phone');
    expect(p.errors).toEqual([]);
    await phone.close();
  }, 180_000);
  it('creates a device and shows its secret once', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const { page, errors } = await pageWithErrors(context);
    await signIn(page, base, ADMIN.email, ADMIN.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    await shot(page, 'admin');
    await page
      .getByRole('navigation', { name: 'Administration' })
      .getByRole('link', { name: 'Devices' })
      .click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await page.locator('tr[data-device]').first().waitFor();
    await page.getByRole('button', { name: 'New device' }).click();
    const dialog = page.getByRole('dialog', { name: 'New device' });
    // The server's field error is shown next to the field.
    await dialog.getByLabel('Key').fill('bad key!');
    await dialog.getByLabel('Name').fill('Logger 17');
    await dialog.getByRole('button', { name: 'Create device' }).click();
    await expect.poll(() => dialog.locator('.field-error').first().textContent()).toMatch(/pattern|match/i);
    await shot(page, 'admin-device-field-error');
    await dialog.getByLabel('Key').fill('e2e-logger-17');
    await dialog.getByRole('button', { name: 'Create device' }).click();
    const secret = page.getByTestId('secret-once');
    await secret.waitFor();
    expect(await secret.textContent()).toMatch(/you will not see this again/);
    await secret.getByRole('button', { name: 'Copy device token' }).waitFor();
    const token = ((await page.getByTestId('secret-value').textContent()) ?? '').trim();
    expect(token.length).toBeGreaterThan(20);
    await shot(page, 'admin-device-secret');
    // The token is a working device credential.
    const who = await fetch(`${demo.server.url}/api/v1/device/whoami`, {
      headers: { authorization: `Device ${token}` },
    });
    expect(who.status).toBe(200);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await expect.poll(() => page.getByTestId('secret-once').count()).toBe(0);
    expect(await page.content()).not.toContain(token);
    // The device's page lists the credential by its prefix only, also after a reload.
    await page.locator('tr[data-device="e2e-logger-17"] a').click();
    await page.getByRole('heading', { name: 'Logger 17' }).waitFor();
    await page.locator('tr[data-credential]').first().waitFor();
    await page.reload();
    await page.locator('tr[data-credential]').first().waitFor();
    expect(await page.content()).not.toContain(token);
    expect(await page.getByTestId('secret-once').count()).toBe(0);
    await shot(page, 'admin-device');
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Logger 17' });
    await edit.getByLabel('Firmware').fill('2.4.0');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByText('2.4.0').waitFor();
    // The refused key above was a 400 the page showed beside its field.
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    await context.close();
  }, 180_000);

  it('opens every administration section and the Lab for an admin, with the CSV import’s row report', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const { page, errors } = await pageWithErrors(context);
    await signIn(page, base, ADMIN.email, ADMIN.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.goto(`${base}/admin`);
    const subnav = page.getByRole('navigation', { name: 'Administration' });
    await subnav.getByRole('link').first().waitFor();
    const sections = await subnav.getByRole('link').allTextContents();
    expect(sections).toEqual(
      expect.arrayContaining(['Devices', 'Registry', 'Users and roles', 'API keys', 'Audit log']),
    );
    expect(sections).not.toContain('System and jobs'); // platform administrators only
    for (const name of sections) {
      await subnav.getByRole('link', { name, exact: true }).click();
      await page.locator('main h1').first().waitFor();
      await expect.poll(() => page.locator('main .state-loading').count(), { timeout: 30_000 }).toBe(0);
      expect(await page.locator('main .state-error').count(), name).toBe(0);
      await shot(page, `admin-${name.toLowerCase().replace(/\W+/g, '-')}`);
    }
    // CSV import: all or nothing, every failing row and column listed.
    await subnav.getByRole('link', { name: 'Registry', exact: true }).click();
    await page.getByRole('heading', { name: 'Import from CSV' }).waitFor();
    await page.getByLabel('What to import').selectOption('sensors');
    await page
      .getByLabel('Or paste the CSV')
      .fill('key,name,type\nfine-1,Fine,nosuchtype\nbad key,Broken,nosuchtype\n');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const report = page.getByTestId('import-errors');
    await report.waitFor();
    expect(await report.textContent()).toMatch(/nothing was imported/);
    expect(await report.locator('tbody tr').count()).toBeGreaterThanOrEqual(2);
    await shot(page, 'admin-import-errors');
    // A detector document the server refuses: its JSON-pointer errors beside the editor.
    await subnav.getByRole('link', { name: 'Detectors and alarm rules', exact: true }).click();
    await page.locator('main select').first().selectOption({ index: 1 });
    const editor = page.getByLabel('Detector document (JSON)');
    await editor.waitFor();
    await editor.fill('{"rules":[{"id":"r","when":"below","value":2,"clear":1.5}]}');
    await page.getByRole('button', { name: 'Save as a new version' }).click();
    await expect
      .poll(() => page.locator('.json-editor .field-errors').textContent())
      .toContain('/rules/0/clear');
    await shot(page, 'admin-detector-errors');
    // The Lab: model versions and training runs.
    await page.getByRole('link', { name: 'Lab', exact: true }).click();
    await page.getByRole('heading', { name: 'Model versions' }).waitFor();
    await page.getByRole('heading', { name: 'Training runs' }).waitFor();
    await expect.poll(() => page.locator('main .state-loading').count(), { timeout: 30_000 }).toBe(0);
    expect(await page.locator('main .state-error').count()).toBe(0);
    await shot(page, 'lab');
    // The refused import (422) and document (400) were shown where they belong.
    expect(errors.filter((e) => !/status of (400|422)/.test(e))).toEqual([]);
    await context.close();
  }, 180_000);

  it('runs a backtest in the Lab with a candidate document, its log streamed live over the WebSocket', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const { page, errors } = await pageWithErrors(context);
    // What the page receives on its live connection.
    const frames: string[] = [];
    page.on('websocket', (ws) =>
      ws.on('framereceived', (f) => {
        if (typeof f.payload === 'string') frames.push(f.payload);
      }),
    );
    await signIn(page, base, ADMIN.email, ADMIN.password);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Lab', exact: true }).click();
    await page.getByRole('heading', { name: 'Backtests' }).waitFor();
    await page.getByLabel('Sensor or asset to backtest').selectOption({ label: 'Pump 2 vibration' });
    await page
      .getByLabel(/Candidate detector document/)
      .fill('{"rules":[{"id":"vibration-watch","when":"above","value":4.5,"forS":300}]}');
    await page.getByRole('button', { name: 'Run backtest' }).click();
    const run = page.locator('[data-backtest]');
    await expect.poll(() => run.getAttribute('data-status'), { timeout: 60_000 }).toBe('succeeded');
    const runId = (await run.getAttribute('data-backtest'))!;
    const log = page.getByRole('log');
    await log
      .getByText(/^Scoring Pump 2 vibration \(pump-2\/vibration\) .* with the candidate document/)
      .waitFor();
    await log.getByText(/^Done in .* s: [\d,]+ readings/).waitFor();
    // Each line went out on the lab channel, to this page, as the run wrote it.
    const live = frames
      .map(
        (f) => JSON.parse(f) as { type: string; channel: string; payload: { runId?: string; seq?: number } },
      )
      .filter((m) => m.channel === 'lab' && m.payload.runId === runId);
    expect(live.some((m) => m.type === 'backtest.status')).toBe(true);
    const seqs = live.filter((m) => m.type === 'backtest.log').map((m) => m.payload.seq);
    expect(seqs.length).toBeGreaterThanOrEqual(4);
    expect(seqs).toEqual([...seqs].sort((a, b) => a! - b!));
    // The candidate against the configured documents, and what it found.
    await run.getByRole('row', { name: /^Candidate/ }).waitFor();
    await run.getByRole('row', { name: /^Configured/ }).waitFor();
    expect(await run.getByRole('heading', { name: 'Anomaly episodes' }).count()).toBe(1);
    await shot(page, 'lab-backtest');
    // An asset: its sensors together, with its configured rules (the demo's leak rule among them).
    await page.getByLabel('Sensor or asset to backtest').selectOption({ label: 'Old Town inlet meter' });
    await page.getByLabel(/Candidate detector document/).fill('');
    await page.getByRole('button', { name: 'Run backtest' }).click();
    await expect.poll(() => run.getAttribute('data-backtest')).not.toBe(runId);
    await expect.poll(() => run.getAttribute('data-status'), { timeout: 60_000 }).toBe('succeeded');
    await log
      .getByText(/^Scoring the asset Old Town inlet meter \(3 sensors: .*\) .* with asset document v1/)
      .waitFor();
    await log.getByText(/^Done in .* s: [\d,]+ rows/).waitFor();
    await shot(page, 'lab-backtest-asset');
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  // Last: it makes two-step verification mandatory for owners and admins of the demo tenant.
  it('has an admin enrol an authenticator when the tenant requires it, then reach administration', async () => {
    await api('PATCH', '/api/v1/tenant', ownerToken, { settings: { requireMfaForAdmins: true } });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const { page, errors } = await pageWithErrors(context);
    await signIn(page, base, ADMIN.email, ADMIN.password);
    await page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    await page.getByLabel('Confirm your password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    const secret = ((await page.locator('.secret').textContent()) ?? '').replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    await page.getByLabel('Authentication code').fill(totpCode(secret, stepAt(Date.now())));
    await page.getByRole('button', { name: 'Activate' }).click();
    await expect.poll(() => page.getByTestId('recovery-codes').locator('li').count()).toBe(10);
    await shot(page, 'mfa-recovery-codes');
    await page.getByRole('button', { name: /I have stored them/ }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Administration' }).click();
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
