import { describe, expect, it } from 'vitest';
import { LiveStream, type StreamMessage } from './stream';

class FakeSocket {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  closed: { code?: number } | undefined;
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code?: number) {
    this.closed = { code };
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  receive(m: Partial<StreamMessage> & { type: string }) {
    this.onmessage?.({
      data: JSON.stringify({ channel: null, id: null, payload: {}, ...m }),
    } as MessageEvent);
  }
  drop(code: number) {
    this.readyState = 3;
    this.onclose?.({ code } as CloseEvent);
  }
}

function setup() {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  let token = 'at-1';
  let renewals = 0;
  const stream = new LiveStream({
    url: 'ws://vigil.test/api/v1/stream',
    token: async () => token,
    renew: async () => {
      renewals++;
      token = `at-${renewals + 1}`;
      return true;
    },
    connect: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    now: () => 0,
    setTimer: (fn, ms) => {
      timers.push({ fn, ms });
      return timers.length;
    },
    clearTimer: () => undefined,
    random: () => 0.5,
  });
  const flush = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  /** Runs the reconnect timers that are due (not the watchdog). */
  const fireRetries = async () => {
    for (const t of timers.splice(0)) if (t.ms < 20_000) t.fn();
    await flush();
  };
  return {
    stream,
    sockets,
    flush,
    fireRetries,
    get renewals() {
      return renewals;
    },
  };
}

describe('the live stream client', () => {
  it('authenticates in the first message, then subscribes what the views follow', async () => {
    const t = setup();
    const events: StreamMessage[] = [];
    t.stream.follow('alarms', { event: (m) => events.push(m), resync: () => undefined });
    const readings: unknown[] = [];
    t.stream.watchReadings(['s1', 's2'], (r) => readings.push(r));
    t.stream.start();
    await t.flush();
    const ws = t.sockets[0]!;
    ws.open();
    expect(ws.sent[0]).toEqual({ type: 'auth', token: 'at-1' });
    ws.receive({ type: 'ready', payload: { heartbeatS: 30 } });
    expect(t.stream.status).toBe('live');
    expect(ws.sent.slice(1)).toEqual([
      { type: 'subscribe', channel: 'alarms' },
      { type: 'subscribe', channel: 'readings', sensorIds: ['s1', 's2'], maxRatePerS: 1 },
    ]);
    ws.receive({ type: 'alarm.raised', channel: 'alarms', id: '7', payload: { alarmId: 'a' } });
    ws.receive({ type: 'readings', channel: 'readings', payload: { readings: [['s2', 1000, 4.2]] } });
    expect(events.map((e) => e.id)).toEqual(['7']);
    expect(readings).toEqual([['s2', 1000, 4.2]]);
  });

  it('reconnects after a drop and resumes alarms after the last event id it processed', async () => {
    const t = setup();
    let resyncs = 0;
    t.stream.follow('alarms', { event: () => undefined, resync: () => resyncs++ });
    t.stream.start();
    await t.flush();
    t.sockets[0]!.open();
    t.sockets[0]!.receive({ type: 'ready' });
    t.sockets[0]!.receive({ type: 'alarm.raised', channel: 'alarms', id: '41', payload: { alarmId: 'a' } });
    t.sockets[0]!.drop(4008); // slow consumer
    expect(t.stream.status).toBe('reconnecting');
    await t.fireRetries();
    const ws = t.sockets[1]!;
    ws.open();
    ws.receive({ type: 'ready' });
    expect(ws.sent).toContainEqual({ type: 'subscribe', channel: 'alarms', since: '41' });
    ws.receive({ type: 'subscribed', channel: 'alarms', payload: { replayed: 2, complete: true } });
    expect(resyncs).toBe(0);
    // Too far behind: the server says so, and the view reloads over REST.
    ws.receive({ type: 'resync', channel: 'alarms', payload: { reason: 'too far behind' } });
    expect(resyncs).toBe(1);
  });

  it('keeps its resume position at the newest event when a resume repeats older ones', async () => {
    const t = setup();
    const seen: string[] = [];
    t.stream.follow('alarms', { event: (m) => seen.push(m.id!), resync: () => undefined });
    t.stream.start();
    await t.flush();
    t.sockets[0]!.open();
    t.sockets[0]!.receive({ type: 'ready' });
    t.sockets[0]!.receive({ type: 'alarm.raised', channel: 'alarms', id: '50', payload: { alarmId: 'a' } });
    // Replayed from just before 50 (committed after it on PostgreSQL): applied, position kept.
    t.sockets[0]!.receive({
      type: 'alarm.raised',
      channel: 'alarms',
      id: '48',
      payload: { alarmId: 'b', replayed: true },
    });
    expect(seen).toEqual(['50', '48']);
    t.sockets[0]!.drop(1006);
    await t.fireRetries();
    t.sockets[1]!.open();
    t.sockets[1]!.receive({ type: 'ready' });
    expect(t.sockets[1]!.sent).toContainEqual({ type: 'subscribe', channel: 'alarms', since: '50' });
  });

  it('reloads a channel it could not resume (no event seen before the drop)', async () => {
    const t = setup();
    let resyncs = 0;
    t.stream.follow('incidents', { event: () => undefined, resync: () => resyncs++ });
    t.stream.start();
    await t.flush();
    t.sockets[0]!.open();
    t.sockets[0]!.receive({ type: 'ready' });
    t.sockets[0]!.receive({ type: 'subscribed', channel: 'incidents', payload: { ref: null } });
    expect(resyncs).toBe(0); // the first subscription: the view loads by itself
    t.sockets[0]!.drop(1006);
    await t.fireRetries();
    t.sockets[1]!.open();
    t.sockets[1]!.receive({ type: 'ready' });
    expect(t.sockets[1]!.sent).toContainEqual({ type: 'subscribe', channel: 'incidents' });
    t.sockets[1]!.receive({ type: 'subscribed', channel: 'incidents', payload: { ref: null } });
    expect(resyncs).toBe(1);
  });

  it('renews the token and comes straight back when the server closes with 4401', async () => {
    const t = setup();
    t.stream.start();
    await t.flush();
    t.sockets[0]!.open();
    t.sockets[0]!.receive({ type: 'ready' });
    t.sockets[0]!.drop(4401);
    await t.flush();
    expect(t.renewals).toBe(1);
    expect(t.sockets).toHaveLength(2);
    t.sockets[1]!.open();
    expect(t.sockets[1]!.sent[0]).toEqual({ type: 'auth', token: 'at-2' });
  });

  it('subscribes and unsubscribes sensors as views come and go, sharing one socket', async () => {
    const t = setup();
    t.stream.start();
    await t.flush();
    const ws = t.sockets[0]!;
    ws.open();
    ws.receive({ type: 'ready' });
    const stopA = t.stream.watchReadings(['s1'], () => undefined);
    const stopB = t.stream.watchReadings(['s1', 's2'], () => undefined);
    expect(ws.sent.slice(1)).toEqual([
      { type: 'subscribe', channel: 'readings', sensorIds: ['s1'], maxRatePerS: 1 },
      { type: 'subscribe', channel: 'readings', sensorIds: ['s2'], maxRatePerS: 1 },
    ]);
    stopA();
    expect(ws.sent).toHaveLength(3); // s1 is still watched by the second view
    stopB();
    expect(ws.sent.at(-1)).toEqual({ type: 'unsubscribe', channel: 'readings', sensorIds: ['s1', 's2'] });
    t.stream.stop();
    expect(ws.closed?.code).toBe(1000);
    expect(t.stream.status).toBe('stopped');
  });
});
