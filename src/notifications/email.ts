import nodemailer, { type Transporter } from 'nodemailer';
import { describeNotice } from './webhook.js';

/** Addresses of an email channel's `mailto:` URL (comma-separated), or null when one is not an address. */
export function mailRecipients(url: string): string[] | null {
  if (!url.toLowerCase().startsWith('mailto:')) return null;
  const list = decodeURIComponent(url.slice('mailto:'.length).split('?')[0]!)
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (list.length === 0 || list.length > 50) return null;
  return list.every((a) => /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/.test(a)) ? list : null;
}

/** Sends notification emails through the configured SMTP server (one pooled transport per process). */
export class Mailer {
  private transport: Transporter | undefined;

  constructor(
    private readonly smtpUrl: string,
    private readonly from: string,
  ) {}

  async send(
    to: readonly string[],
    subject: string,
    text: string,
  ): Promise<{ ok: boolean; error: string | null }> {
    this.transport ??= nodemailer.createTransport(this.smtpUrl);
    try {
      await this.transport.sendMail({ from: this.from, to: [...to], subject, text });
      return { ok: true, error: null };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }

  close(): void {
    this.transport?.close();
  }
}

/** Subject and body of a notification email from its JSON payload. */
export function emailFor(payload: string): { subject: string; text: string } {
  const { alarm: a, headline } = describeNotice(payload);
  const text = [
    headline,
    '',
    `Alarm:      ${a.id ?? '?'} (${a.dedupKey ?? ''})`,
    `Raised at:  ${a.raisedAt ?? '?'}`,
    `Last value: ${a.lastValue ?? '—'}`,
    '',
    JSON.stringify(JSON.parse(payload), null, 2),
  ].join('\n');
  return { subject: headline, text };
}
