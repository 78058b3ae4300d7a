import type { Severity } from '../api/types';
import type { Registry } from '../data/registry';
import { SEVERITY_LABEL, SeverityShape } from '../ui/Severity';
import { CheckboxGroup, type Choice, SelectField, type Submission, TextField } from './forms';

/** Which notices a channel takes besides its minimum severity (src/notifications/routing.ts). */
export interface ChannelRouting {
  readonly severities?: readonly Severity[];
  readonly events?: readonly string[];
  readonly siteIds?: readonly string[];
  readonly assetIds?: readonly string[];
}

/** A channel's quiet period by the wall clock of `timeZone` (src/notifications/quiet-hours.ts). */
export interface QuietHours {
  readonly start: string;
  readonly end: string;
  readonly days?: readonly number[];
  readonly timeZone: string;
  readonly minSeverity?: Severity;
  readonly during?: 'hold' | 'drop';
}

export interface Channel {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly url: string;
  readonly minSeverity: Severity;
  readonly enabled: boolean;
  readonly routing?: ChannelRouting;
  readonly quietHours?: QuietHours | null;
  readonly rateLimitPerMinute: number;
}

export const CHANNEL_TYPES = ['webhook', 'slack', 'teams', 'email'] as const;
/** Lowest first, as "from severity" reads. */
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'minor', 'major', 'critical'];
export const EVENTS = ['raised', 'resolved', 'flapping', 'escalated', 'reminder'] as const;
const EVENT_LABEL: Record<string, string> = {
  raised: 'Raised',
  resolved: 'Resolved',
  flapping: 'Flapping',
  escalated: 'Escalated',
  reminder: 'Reminder',
};
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DEFAULT_RATE_LIMIT = 30;

/** The form's state: every control as the string (or list) it edits. */
export interface ChannelFormState {
  readonly name: string;
  readonly type: string;
  readonly url: string;
  readonly minSeverity: string;
  readonly severities: string[];
  readonly events: string[];
  readonly siteIds: string[];
  readonly assetIds: string[];
  readonly quiet: boolean;
  readonly timeZone: string;
  readonly start: string;
  readonly end: string;
  /** Weekdays the quiet period starts on, '0' = Sunday; none: every day. */
  readonly days: string[];
  /** Notices from this severity pass during quiet hours ('' none). */
  readonly quietMinSeverity: string;
  readonly during: 'hold' | 'drop';
  readonly rateLimit: string;
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export function emptyChannelForm(timeZone = browserTimeZone()): ChannelFormState {
  return {
    name: '',
    type: 'webhook',
    url: '',
    minSeverity: 'warning',
    severities: [],
    events: [],
    siteIds: [],
    assetIds: [],
    quiet: false,
    timeZone,
    start: '22:00',
    end: '07:00',
    days: [],
    quietMinSeverity: 'critical',
    during: 'hold',
    rateLimit: String(DEFAULT_RATE_LIMIT),
  };
}

/** The form for editing a channel as it is. */
export function channelForm(c: Channel, timeZone = browserTimeZone()): ChannelFormState {
  const r = c.routing ?? {};
  const q = c.quietHours ?? null;
  return {
    ...emptyChannelForm(timeZone),
    name: c.name,
    type: c.type,
    url: c.url,
    minSeverity: c.minSeverity,
    severities: [...(r.severities ?? [])],
    events: [...(r.events ?? [])],
    siteIds: [...(r.siteIds ?? [])],
    assetIds: [...(r.assetIds ?? [])],
    rateLimit: String(c.rateLimitPerMinute),
    ...(q
      ? {
          quiet: true,
          timeZone: q.timeZone,
          start: q.start,
          end: q.end,
          days: (q.days ?? []).map(String),
          quietMinSeverity: q.minSeverity ?? '',
          during: q.during ?? 'hold',
        }
      : {}),
  };
}

/** The routing the form describes: only the lists that restrict (an empty one means "all"). */
export function routingOf(f: ChannelFormState): ChannelRouting {
  return {
    ...(f.severities.length > 0 ? { severities: f.severities as Severity[] } : {}),
    ...(f.events.length > 0 ? { events: f.events } : {}),
    ...(f.siteIds.length > 0 ? { siteIds: f.siteIds } : {}),
    ...(f.assetIds.length > 0 ? { assetIds: f.assetIds } : {}),
  };
}

export function quietHoursOf(f: ChannelFormState): QuietHours | null {
  if (!f.quiet) return null;
  return {
    start: f.start,
    end: f.end,
    timeZone: f.timeZone.trim(),
    ...(f.days.length > 0 ? { days: f.days.map(Number).sort((a, b) => a - b) } : {}),
    ...(f.quietMinSeverity ? { minSeverity: f.quietMinSeverity as Severity } : {}),
    during: f.during,
  };
}

/** The rate limit as a number (left as typed when it is not one: the server names the field). */
const rateOf = (f: ChannelFormState): number | string => {
  const t = f.rateLimit.trim();
  return /^\d+$/.test(t) ? Number(t) : t;
};

/** The body of `POST /notification-channels`. */
export function createBody(f: ChannelFormState): Record<string, unknown> {
  const quietHours = quietHoursOf(f);
  return {
    name: f.name.trim(),
    type: f.type,
    url: f.url.trim(),
    minSeverity: f.minSeverity,
    routing: routingOf(f),
    ...(quietHours ? { quietHours } : {}),
    rateLimitPerMinute: rateOf(f),
  };
}

/** Equal as settings: lists compared as sets. */
const same = (a: unknown, b: unknown) => {
  const norm = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (Array.isArray(x) ? [...x].sort() : x));
  return norm(a) === norm(b);
};

/**
 * The body of `PATCH /notification-channels/{id}`: only what changed (so an unchanged URL is not
 * checked again), quiet hours `null` when they were turned off. Empty: nothing to save.
 */
export function patchBody(f: ChannelFormState, c: Channel): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.name.trim() !== c.name) out.name = f.name.trim();
  if (f.url.trim() !== c.url) out.url = f.url.trim();
  if (f.minSeverity !== c.minSeverity) out.minSeverity = f.minSeverity;
  const routing = routingOf(f);
  if (!same(routing, routingOf(channelForm(c)))) out.routing = routing;
  const quiet = quietHoursOf(f);
  const before = c.quietHours ? quietHoursOf(channelForm(c)) : null;
  if (!same(quiet, before)) out.quietHours = quiet;
  const rate = rateOf(f);
  if (rate !== c.rateLimitPerMinute) out.rateLimitPerMinute = rate;
  return out;
}

/** Every field the form shows the server's errors beside (pointer paths under /body). */
export const CHANNEL_FIELDS = [
  'name',
  'type',
  'url',
  'minSeverity',
  'routing/severities',
  'routing/events',
  'routing/siteIds',
  'routing/assetIds',
  'quietHours/timeZone',
  'quietHours/start',
  'quietHours/end',
  'quietHours/days',
  'quietHours/minSeverity',
  'quietHours/during',
  'rateLimitPerMinute',
] as const;

/** One line for the channel table: what it takes, when it is quiet, how fast it may send. */
export function routingSummary(c: Channel, registry: Registry): string {
  const r = c.routing ?? {};
  const parts: string[] = [];
  if (r.severities?.length) parts.push(`only ${r.severities.join(', ')}`);
  if (r.events?.length) parts.push(`events ${r.events.join(', ')}`);
  const places = [
    ...(r.siteIds ?? []).map((id) => registry.sites.get(id)?.name ?? 'a site'),
    ...(r.assetIds ?? []).map((id) => registry.assets.get(id)?.name ?? 'an asset'),
  ];
  if (places.length > 0)
    parts.push(places.length <= 2 ? `at ${places.join(', ')}` : `at ${places.length} places`);
  const q = c.quietHours;
  if (q)
    parts.push(
      `quiet ${q.start}–${q.end} ${q.timeZone}${q.days?.length ? ` (${q.days.map((d) => DAYS[d]).join(' ')})` : ''}, ${
        q.during === 'drop' ? 'dropped' : 'held'
      }${q.minSeverity ? ` below ${q.minSeverity}` : ''}`,
    );
  parts.push(c.rateLimitPerMinute === 0 ? 'no rate limit' : `${c.rateLimitPerMinute}/min`);
  return parts.join(' · ');
}

let zones: string[] | null = null;
/** The IANA zones this browser knows, for suggestions (the server checks the name itself). */
function timeZones(): string[] {
  if (zones) return zones;
  try {
    const supported = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
    zones = supported ? supported('timeZone') : [];
  } catch {
    zones = [];
  }
  return zones;
}

const severityChoices = SEVERITIES.map((s) => ({
  value: s,
  label: SEVERITY_LABEL[s],
  icon: <SeverityShape severity={s} size={12} />,
}));

/**
 * A channel's settings as form fields: name, type (on create), target, minimum severity, routing
 * (severities, events, sites, assets), quiet hours (zone, from, until, days, what passes, hold or
 * drop) and the rate limit. The server's errors appear beside the field their pointer names.
 */
export function ChannelFields({
  form,
  onChange,
  sub,
  registry,
  creating,
}: {
  form: ChannelFormState;
  onChange: (next: ChannelFormState) => void;
  sub: Submission;
  registry: Registry;
  creating: boolean;
}) {
  const set = <K extends keyof ChannelFormState>(k: K, v: ChannelFormState[K]) =>
    onChange({ ...form, [k]: v });
  const sites: Choice[] = [...registry.sites.values()]
    .map((s) => ({ value: s.id, label: s.name }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const assets: Choice[] = [...registry.assets.values()]
    .map((a) => ({ value: a.id, label: a.name }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const zoneList = timeZones();
  return (
    <div className="channel-form">
      <TextField
        label="Name"
        required
        value={form.name}
        onChange={(v) => set('name', v)}
        error={sub.field('name')}
      />
      {creating ? (
        <SelectField
          label="Type"
          value={form.type}
          onChange={(v) => set('type', v)}
          options={CHANNEL_TYPES.map((t) => ({ value: t, label: t }))}
          error={sub.field('type')}
        />
      ) : null}
      <TextField
        label={form.type === 'email' ? 'Address (mailto:…)' : 'URL'}
        required
        value={form.url}
        onChange={(v) => set('url', v)}
        error={sub.field('url')}
        {...(form.type === 'email' ? { placeholder: 'mailto:on-call@example.com' } : {})}
      />
      <SelectField
        label="Notify from severity"
        value={form.minSeverity}
        onChange={(v) => set('minSeverity', v)}
        options={SEVERITIES.map((s) => ({ value: s, label: SEVERITY_LABEL[s] }))}
        error={sub.field('minSeverity')}
      />

      <fieldset className="form-section">
        <legend>Routing</legend>
        <p className="muted small">
          Leave a list empty to take all. Every list that has a tick must match; sites include the sites below
          them.
        </p>
        <CheckboxGroup
          legend="Only these severities"
          options={severityChoices}
          value={form.severities}
          onChange={(v) => set('severities', v)}
          error={sub.field('routing/severities')}
        />
        <CheckboxGroup
          legend="Only these events"
          options={EVENTS.map((e) => ({ value: e, label: EVENT_LABEL[e] ?? e }))}
          value={form.events}
          onChange={(v) => set('events', v)}
          error={sub.field('routing/events')}
        />
        <CheckboxGroup
          legend="Only alarms at these sites"
          options={sites}
          value={form.siteIds}
          onChange={(v) => set('siteIds', v)}
          error={sub.field('routing/siteIds')}
          scroll
        />
        <CheckboxGroup
          legend="Only alarms of these assets"
          hint="With sites too, an alarm at either matches."
          options={assets}
          value={form.assetIds}
          onChange={(v) => set('assetIds', v)}
          error={sub.field('routing/assetIds')}
          scroll
        />
      </fieldset>

      <fieldset className="form-section">
        <legend>Quiet hours</legend>
        <label className="check">
          <input type="checkbox" checked={form.quiet} onChange={(e) => set('quiet', e.target.checked)} /> Keep
          quiet hours
        </label>
        {form.quiet ? (
          <>
            <TextField
              label="Time zone (IANA)"
              required
              value={form.timeZone}
              onChange={(v) => set('timeZone', v)}
              error={sub.field('quietHours/timeZone')}
              hint="For example Europe/Berlin; the wall clock there decides."
              list={zoneList.length > 0 ? 'channel-time-zones' : undefined}
              autoComplete="off"
            />
            {zoneList.length > 0 ? (
              <datalist id="channel-time-zones">
                {zoneList.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            ) : null}
            <div className="field-row">
              <TextField
                label="From"
                type="time"
                required
                value={form.start}
                onChange={(v) => set('start', v)}
                error={sub.field('quietHours/start')}
              />
              <TextField
                label="Until"
                type="time"
                required
                value={form.end}
                onChange={(v) => set('end', v)}
                error={sub.field('quietHours/end')}
                hint="Before the start: over midnight."
              />
            </div>
            <CheckboxGroup
              legend="Starting on"
              hint="None ticked: every day. A night's morning belongs to the day it started."
              options={DAYS.map((d, i) => ({ value: String(i), label: d }))}
              value={form.days}
              onChange={(v) => set('days', v)}
              error={sub.field('quietHours/days')}
            />
            <SelectField
              label="Still send from severity"
              value={form.quietMinSeverity}
              onChange={(v) => set('quietMinSeverity', v)}
              options={[
                { value: '', label: 'Nothing: all wait' },
                ...SEVERITIES.map((s) => ({ value: s, label: SEVERITY_LABEL[s] })),
              ]}
              error={sub.field('quietHours/minSeverity')}
            />
            <SelectField
              label="The others"
              value={form.during}
              onChange={(v) => set('during', v === 'drop' ? 'drop' : 'hold')}
              options={[
                { value: 'hold', label: 'Hold: send them when the quiet hours end' },
                { value: 'drop', label: 'Drop: record them as suppressed, never send' },
              ]}
              error={sub.field('quietHours/during')}
            />
          </>
        ) : null}
      </fieldset>

      <TextField
        label="Rate limit (deliveries per minute)"
        type="number"
        min={0}
        max={6000}
        step={1}
        inputMode="numeric"
        required
        value={form.rateLimit}
        onChange={(v) => set('rateLimit', v)}
        error={sub.field('rateLimitPerMinute')}
        hint="0: unlimited. Over the limit, deliveries wait; none are dropped."
      />
    </div>
  );
}
