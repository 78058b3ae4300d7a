import { describe, expect, it } from 'vitest';
import { type HubMessage, RealtimeHub } from './hub.js';
import { ReadingsRelay, WATCH_TTL_MS } from './readings-relay.js';

describe('ReadingsRelay', () => {
  it('keeps only watched sensors, the newest reading of each, and forgets expired watches', () => {
    let now = 1_000_000;
    const hub = new RealtimeHub();
    const relay = new ReadingsRelay(hub, 250, () => now);
    const out: HubMessage[] = [];
    hub.subscribe((m) => {
      if (m.channel === 'readings') out.push(m);
    });
    relay.offer('t', ['a'], new Float64Array([1]), new Float64Array([10]));
    relay.flush();
    expect(out).toEqual([]); // nobody watches
    relay.watch('t', ['a']);
    relay.offer('t', ['a', 'b', 'a', 'a'], new Float64Array([5, 5, 7, 6]), new Float64Array([1, 2, 3, 4]));
    relay.flush();
    expect(out.map((m) => m.payload.readings)).toEqual([[['a', 7, 3]]]);
    expect(relay.stats.conflated).toBe(2);
    now += WATCH_TTL_MS + 1;
    relay.flush();
    relay.offer('t', ['a'], new Float64Array([9]), new Float64Array([9]));
    relay.flush();
    expect(out).toHaveLength(1);
  });

  it('learns watches announced by another instance through the hub', () => {
    const hub = new RealtimeHub();
    const relay = new ReadingsRelay(hub, 250, () => 0);
    hub.publish({
      tenantId: 't',
      channel: 'control',
      type: 'watch',
      id: null,
      payload: { sensorIds: ['x'], until: 10 },
      at: 0,
    });
    const out: HubMessage[] = [];
    hub.subscribe((m) => out.push(m));
    relay.offer('t', ['x'], new Float64Array([1]), new Float64Array([2]));
    relay.flush();
    expect(out.map((m) => m.payload.readings)).toEqual([[['x', 1, 2]]]);
  });
});
