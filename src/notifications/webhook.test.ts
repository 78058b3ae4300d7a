import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatFor, signWebhook } from './webhook.js';

const payload = JSON.stringify({
  event: 'raised',
  alarm: {
    title: 'Rule low',
    severity: 'major',
    raisedAt: '2026-11-23T22:26:00.000Z',
    lastValue: 1.5,
    dedupKey: 'sensor:s:threshold:low',
  },
});

describe('webhook bodies and signatures', () => {
  it('signs timestamp.body with HMAC-SHA256', () => {
    const expected = createHmac('sha256', 'k').update('1700000000.{"a":1}').digest('hex');
    expect(signWebhook('k', 1_700_000_000, '{"a":1}')).toBe(expected);
    expect(signWebhook('k', 1_700_000_001, '{"a":1}')).not.toBe(expected);
  });

  it('formats for Vigil JSON, Slack and Teams', () => {
    expect(formatFor('webhook', payload)).toBe(payload);
    expect(JSON.parse(formatFor('slack', payload))).toEqual({
      text: '[MAJOR] Rule low raised\nsensor:s:threshold:low · raised 2026-11-23T22:26:00.000Z · last value 1.5',
    });
    expect(JSON.parse(formatFor('teams', payload))).toMatchObject({
      '@type': 'MessageCard',
      summary: '[MAJOR] Rule low raised',
      themeColor: 'E65100',
    });
  });
});
