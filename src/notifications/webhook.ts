import { createHmac } from 'node:crypto';

/** The signature a receiver recomputes: HMAC-SHA256 of `timestamp.body` with the channel's secret, hex. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

const COLORS: Record<string, string> = {
  critical: 'B00020',
  major: 'E65100',
  minor: 'F9A825',
  warning: 'FDD835',
  info: '1E88E5',
};

/**
 * The body a channel type expects: Vigil's JSON for `webhook`; a `text` message for Slack
 * incoming webhooks (and Mattermost, Rocket.Chat); an Office 365 MessageCard for Teams.
 */
/** A notice's payload as people read it: a headline and a line of facts (chat messages, email). */
export function describeNotice(payload: string): {
  readonly event: string;
  readonly alarm: NoticeAlarm;
  readonly headline: string;
  readonly facts: string;
} {
  const p = JSON.parse(payload) as { event: string; alarm?: NoticeAlarm };
  const a = p.alarm ?? {};
  return {
    event: p.event,
    alarm: a,
    headline: `[${(a.severity ?? 'info').toUpperCase()}] ${a.title ?? 'Alarm'} ${p.event}`,
    facts: `${a.dedupKey ?? ''} · raised ${a.raisedAt ?? '?'} · last value ${a.lastValue ?? '—'}`,
  };
}

interface NoticeAlarm {
  readonly id?: string;
  readonly title?: string;
  readonly severity?: string;
  readonly raisedAt?: string;
  readonly lastValue?: number | null;
  readonly dedupKey?: string;
}

export function formatFor(type: string, payload: string): string {
  if (type === 'webhook') return payload;
  const { alarm: a, headline, facts } = describeNotice(payload);
  if (type === 'slack') return JSON.stringify({ text: `${headline}\n${facts}` });
  return JSON.stringify({
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: headline,
    themeColor: COLORS[a.severity ?? 'info'] ?? COLORS.info,
    title: headline,
    text: facts,
  });
}

export interface WebhookResult {
  readonly ok: boolean;
  readonly status: number | null;
  readonly error: string | null;
}

/** POSTs one signed JSON delivery; any 2xx is delivered, anything else (or no answer in 10 s) is retried. */
export async function postWebhook(
  url: string,
  secret: string,
  body: string,
  deliveryId: string,
  now: number,
): Promise<WebhookResult> {
  const timestamp = Math.floor(now / 1000);
  try {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Vigil-Webhook/1',
        'x-vigil-delivery': deliveryId,
        'x-vigil-timestamp': String(timestamp),
        'x-vigil-signature': `sha256=${signWebhook(secret, timestamp, body)}`,
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel().catch(() => undefined);
    return {
      ok: res.status >= 200 && res.status < 300,
      status: res.status,
      error: res.ok ? null : `HTTP ${res.status}`,
    };
  } catch (err) {
    return { ok: false, status: null, error: (err as Error).message };
  }
}
