// @vitest-environment happy-dom
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sensor } from '../api/types';
import type { ChannelHandler } from '../live/stream';
import { json, renderSignedIn } from '../testing/harness';
import { BacktestRunner } from './BacktestRunner';
import type { BacktestRun } from './backtest-log';

afterEach(cleanup);

const SENSOR: Sensor = {
  id: 's1',
  key: 'dma-l1/pressure',
  name: 'Old Town pressure',
  typeId: 't1',
  deviceId: null,
  assetId: null,
  status: 'active',
};

const run = (over: Partial<BacktestRun> = {}): BacktestRun => ({
  id: 'r1',
  scope: 'sensor',
  targetId: 's1',
  status: 'running',
  params: { from: '2026-11-18T00:00:00.000Z', to: '2026-11-25T00:00:00.000Z', config: null },
  summary: null,
  episodes: null,
  error: null,
  rowsDone: 0,
  rowsTotal: 0,
  cancelRequested: false,
  createdAt: '2026-11-25T00:00:00.000Z',
  startedAt: '2026-11-25T00:00:00.000Z',
  finishedAt: null,
  ...over,
});

const line = (seq: number, message: string) => ({
  seq,
  at: '2026-11-25T00:00:01.000Z',
  level: 'info',
  message,
});

describe('<BacktestRunner>', () => {
  it('starts a backtest with a candidate document and streams its log live, merged with the stored one', async () => {
    const handlers: ChannelHandler[] = [];
    let current = run();
    const calls = await renderSignedIn(<BacktestRunner target="sensor:s1" />, {
      permissions: ['detection:read', 'detection:write'],
      path: '/lab',
      sensors: [SENSOR],
      follow: (channel, h) => {
        if (channel !== 'lab') return () => undefined;
        handlers.push(h);
        return () => handlers.splice(handlers.indexOf(h), 1);
      },
      api: (method, url) => {
        if (method === 'POST' && url === '/api/v1/backtests') return json(202, run({ status: 'queued' }));
        if (method === 'GET' && url.startsWith('/api/v1/backtests?'))
          return json(200, { items: [], nextCursor: null });
        if (method === 'GET' && url.startsWith('/api/v1/backtests/r1/log'))
          return json(200, {
            items: [line(1, 'Queued'), line(2, 'Scoring Old Town pressure')],
            status: 'running',
          });
        if (method === 'GET' && url === '/api/v1/backtests/r1') return json(200, current);
        return undefined;
      },
    });
    await screen.findByRole('option', { name: 'Old Town pressure' });
    fireEvent.change(screen.getByLabelText(/Candidate detector document/), {
      target: { value: '{"rules":[{"id":"low","when":"below","value":2}]}' },
    });
    fireEvent.change(screen.getByLabelText('Threshold'), { target: { value: '0.8' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Run backtest' }));
    });
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.body).toMatchObject({
      sensorId: 's1',
      threshold: 0.8,
      compare: true,
      config: { rules: [{ id: 'low', when: 'below', value: 2 }] },
    });
    expect(typeof (post.body as { from: string }).from).toBe('string');

    const log = await screen.findByRole('log');
    await within(log).findByText(/Scoring Old Town pressure/);
    // Live lines arrive (one the stored log also had), with progress.
    await act(async () => {
      for (const h of handlers) {
        h.event({
          type: 'backtest.log',
          channel: 'lab',
          id: null,
          payload: { runId: 'r1', ...line(2, 'Scoring Old Town pressure'), at: 0 },
        });
        h.event({
          type: 'backtest.log',
          channel: 'lab',
          id: null,
          payload: { runId: 'r1', seq: 3, at: 0, level: 'info', message: 'Read 5,000 readings' },
        });
        h.event({
          type: 'backtest.log',
          channel: 'lab',
          id: null,
          payload: { runId: 'other', seq: 4, at: 0, level: 'info', message: 'Not ours' },
        });
        h.event({
          type: 'backtest.progress',
          channel: 'lab',
          id: null,
          payload: { runId: 'r1', rowsDone: 1250, rowsTotal: 5000 },
        });
      }
    });
    expect(
      within(log)
        .getAllByRole('listitem')
        .map((li) => li.querySelector('span')?.textContent),
    ).toEqual(['Queued', 'Scoring Old Town pressure', 'Read 5,000 readings']);
    expect(screen.getByText('1,250 of 5,000 readings (25 %)')).toBeTruthy();

    // It finishes: the summary and the episodes come from the run.
    current = run({
      params: { ...run().params, config: { rules: [{ id: 'low', when: 'below', value: 2 }] }, compare: true },
      status: 'succeeded',
      rowsDone: 5000,
      rowsTotal: 5000,
      summary: {
        rows: 5000,
        readingsInWindow: 5000,
        from: '2026-11-18T00:00:00.000Z',
        to: '2026-11-25T00:00:00.000Z',
        threshold: 0.8,
        anomalyRows: 3,
        episodes: 1,
        byDetector: { threshold: 1 },
        maxScore: 1,
        current: { anomalyRows: 0, episodes: 0, byDetector: {}, maxScore: 0.4 },
        storedAnomalies: 0,
        durationMs: 1200,
      },
      episodes: [
        {
          from: '2026-11-20T03:00:00.000Z',
          to: '2026-11-20T03:02:00.000Z',
          rows: 3,
          peakAt: '2026-11-20T03:01:00.000Z',
          peakScore: 1,
          peakValue: 1.7,
          detectors: ['threshold'],
          explanation: 'threshold(low) raised',
        },
      ],
    });
    await act(async () => {
      for (const h of handlers)
        h.event({
          type: 'backtest.status',
          channel: 'lab',
          id: null,
          payload: { runId: 'r1', status: 'succeeded' },
        });
    });
    await screen.findByText('threshold(low) raised');
    expect(screen.getByRole('row', { name: /Candidate 1 3 1\.00/ })).toBeTruthy();
    expect(screen.getByRole('row', { name: /Configured 0 0 0\.40/ })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
  });

  it('shows runs to a reader without offering to start or cancel one', async () => {
    await renderSignedIn(<BacktestRunner target="" />, {
      permissions: ['detection:read'],
      path: '/lab',
      sensors: [SENSOR],
      api: (method, url) => {
        if (method === 'GET' && url.startsWith('/api/v1/backtests?'))
          return json(200, { items: [run({ rowsDone: 10, rowsTotal: 40 })], nextCursor: null });
        if (method === 'GET' && url.startsWith('/api/v1/backtests/r1/log'))
          return json(200, { items: [], status: 'running' });
        if (method === 'GET' && url === '/api/v1/backtests/r1')
          return json(200, run({ rowsDone: 10, rowsTotal: 40 }));
        return undefined;
      },
    });
    await screen.findByRole('row', { name: /Old Town pressure running/ });
    expect(screen.queryByRole('form', { name: 'Start a backtest' })).toBeNull();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: /Show/ }));
    });
    await screen.findByText('10 of 40 readings (25 %)');
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
  });

  it('starts an asset backtest: the asset is named, with its document as the candidate', async () => {
    const calls = await renderSignedIn(<BacktestRunner target="" />, {
      permissions: ['detection:read', 'detection:write'],
      path: '/lab',
      sensors: [SENSOR],
      assets: [
        {
          id: 'a1',
          siteId: null,
          kind: 'meter',
          key: 'meter-l1',
          name: 'Old Town inlet meter',
          geometry: null,
        },
      ],
      api: (method, url) => {
        if (method === 'POST' && url === '/api/v1/backtests')
          return json(202, run({ scope: 'asset', targetId: 'a1', status: 'queued' }));
        if (method === 'GET' && url.startsWith('/api/v1/backtests?'))
          return json(200, { items: [], nextCursor: null });
        if (method === 'GET' && url.startsWith('/api/v1/backtests/r1/log'))
          return json(200, { items: [], status: 'queued' });
        if (method === 'GET' && url === '/api/v1/backtests/r1')
          return json(200, run({ scope: 'asset', targetId: 'a1', status: 'queued' }));
        return undefined;
      },
    });
    await screen.findByRole('option', { name: 'Old Town inlet meter' });
    fireEvent.change(screen.getByLabelText('Sensor or asset to backtest'), { target: { value: 'asset:a1' } });
    expect(screen.getByLabelText(/in place of the asset’s own/)).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Run backtest' }));
    });
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.body).toMatchObject({ assetId: 'a1' });
    expect((post.body as { sensorId?: string }).sensorId).toBeUndefined();
    await screen.findByRole('link', { name: 'Old Town inlet meter' });
  });
});
