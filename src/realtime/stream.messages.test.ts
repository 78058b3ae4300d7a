import { describe, expect, it } from 'vitest';
import { parseClientMessage } from './stream.messages.js';

describe('parseClientMessage', () => {
  it('accepts the four message types', () => {
    for (const m of [
      { type: 'auth', token: 'x' },
      { type: 'subscribe', channel: 'alarms', since: '12' },
      {
        type: 'subscribe',
        channel: 'readings',
        sensorIds: ['8f1d4e7d-0e1c-4f3a-aa43-dc4507a898f6'],
        maxRatePerS: 2,
      },
      { type: 'unsubscribe', channel: 'readings' },
      { type: 'ping', ref: 'p' },
    ])
      expect(parseClientMessage(JSON.stringify(m))).toEqual({ ok: true, message: m });
  });

  it('says what is wrong, with a pointer', () => {
    expect(parseClientMessage('{')).toMatchObject({ ok: false, detail: 'not JSON' });
    expect(parseClientMessage('{"type":"nope"}')).toMatchObject({ ok: false, pointer: '/type' });
    expect(parseClientMessage('{"type":"subscribe","channel":"gossip"}')).toMatchObject({
      ok: false,
      pointer: '/channel',
    });
    expect(
      parseClientMessage('{"type":"subscribe","channel":"readings","sensorIds":["not-a-uuid"]}'),
    ).toMatchObject({
      ok: false,
      pointer: '/sensorIds/0',
    });
    expect(parseClientMessage('{"type":"subscribe","channel":"alarms","since":"-1"}')).toMatchObject({
      ok: false,
    });
    expect(parseClientMessage('{"type":"auth","token":"x","extra":1}')).toMatchObject({ ok: false });
  });
});
