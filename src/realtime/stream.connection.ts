import type { WebSocket } from 'ws';
import type { Principal } from '../auth/principal.js';
import type { HubMessage } from './hub.js';
import { type Channel, CLOSE, encode, RELIABLE, type ServerMessage } from './stream.messages.js';

/** Bytes buffered in the socket above which we stop writing and queue (reliable) or conflate (readings). */
const HIGH_WATER = 1 << 20;

/** A readings subscription: its sensors, its rate, and the newest reading per sensor not yet sent. */
interface ReadingsSubscription {
  readonly sensors: Set<string>;
  intervalMs: number;
  pending: Map<string, [number, number]>;
  timer: NodeJS.Timeout | undefined;
}

/** While replaying from an event id: live messages wait here, then those not replayed follow. */
interface Replay {
  readonly buffered: HubMessage[];
  readonly sent: Set<string>;
}

export interface ConnectionHooks {
  readonly queueMax: number;
  /** Counts for metrics (sent, conflated, dropped by reason). */
  onSent?(channel: string): void;
  onConflated?(n: number): void;
}

/**
 * One live-stream client: who it is, what it subscribed to, and what it has not been sent yet.
 * Alarm, incident, job and system messages are never dropped: they queue while the socket is
 * backed up, and a client whose queue passes `queueMax` is closed with 4008 (it resumes from its
 * last event id). Readings conflate instead: the newest per sensor wins, flushed at the
 * subscription's rate when the socket has room.
 */
export class StreamConnection {
  principal: Principal | undefined;
  /** When the access token expires (epoch ms; the connection closes then). */
  expiresAt: number | undefined;
  readonly channels = new Set<Channel>();
  readings: ReadingsSubscription | undefined;
  /** The readings rate asked for last (kept when a later subscribe does not say). */
  ratePerS: number | undefined;
  private readonly replays = new Map<string, Replay>();
  private readonly queue: string[] = [];
  private drainTimer: NodeJS.Timeout | undefined;
  closed = false;
  /** The API key it authenticated with (kept to check it again: revoked, expired, creator gone). */
  apiKey: string | undefined;
  /** Answered the last heartbeat ping. */
  alive = true;
  /** Since when it has had no subscription (idle timeout). */
  idleSince: number;
  readonly stats = { sent: 0, conflated: 0, queuedMax: 0 };
  /** Queued messages discarded when it was closed (a resume replays them). */
  discarded = 0;

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    private readonly hooks: ConnectionHooks,
    now: number,
  ) {
    this.idleSince = now;
  }

  get tenantId(): string | undefined {
    return this.principal?.tenantId;
  }

  /** Subscriptions counted against the per-connection limit: channels plus watched sensors. */
  get subscriptionCount(): number {
    return this.channels.size + (this.readings?.sensors.size ?? 0) - (this.readings ? 1 : 0);
  }

  send(m: ServerMessage): void {
    this.write(encode(m), m.channel ?? '', true);
  }

  /** Writes now, or queues (reliable); false if it had to close the connection. */
  private write(text: string, channel: string, reliable: boolean): boolean {
    if (this.closed) return false;
    if (this.queue.length === 0 && this.ws.bufferedAmount < HIGH_WATER) {
      this.ws.send(text);
      this.stats.sent++;
      this.hooks.onSent?.(channel);
      return true;
    }
    if (!reliable) return false;
    if (this.queue.length >= this.hooks.queueMax) {
      this.discarded++;
      this.close(CLOSE.slowConsumer, 'slow consumer: resume from your last event id');
      return false;
    }
    this.queue.push(text);
    this.stats.queuedMax = Math.max(this.stats.queuedMax, this.queue.length);
    this.scheduleDrain();
    return true;
  }

  private scheduleDrain(): void {
    if (this.drainTimer || this.closed) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      while (this.queue.length > 0 && this.ws.bufferedAmount < HIGH_WATER && !this.closed) {
        this.ws.send(this.queue.shift()!);
        this.stats.sent++;
      }
      if (this.queue.length > 0) this.scheduleDrain();
    }, 20);
  }

  /** A hub message for this connection's tenant (or the platform), encoded once for everyone: sent if subscribed. */
  deliver(m: HubMessage, text?: string): void {
    if (!this.channels.has(m.channel as Channel) || !RELIABLE.has(m.channel)) return;
    const replay = this.replays.get(m.channel);
    if (replay) {
      replay.buffered.push(m);
      return;
    }
    if (this.alreadyReplayed(m)) return;
    this.write(
      text ?? encode({ type: m.type, channel: m.channel, id: m.id, payload: m.payload }),
      m.channel,
      true,
    );
  }

  /** Starts a replay of `channel`: live messages wait until `endReplay`. */
  beginReplay(channel: string): void {
    this.replays.set(channel, { buffered: [], sent: new Set() });
  }

  replayed(channel: string, m: ServerMessage): void {
    this.replays.get(channel)?.sent.add(m.id ?? '');
    this.send(m);
  }

  /** Ends the replay: live messages that arrived meanwhile follow, without those already replayed. */
  endReplay(channel: string): void {
    const replay = this.replays.get(channel);
    this.replays.delete(channel);
    if (!replay) return;
    // A live copy of a replayed event can still come (from another instance through Redis, or
    // behind a fan-out in progress): remembered for a while, so it is not sent twice.
    this.replayedRecently.set(channel, { ids: replay.sent, until: Date.now() + 60_000 });
    for (const m of replay.buffered) this.deliver(m);
  }

  private readonly replayedRecently = new Map<string, { ids: Set<string>; until: number }>();

  private alreadyReplayed(m: HubMessage): boolean {
    const recent = this.replayedRecently.get(m.channel);
    if (!recent || !m.id) return false;
    if (recent.until < Date.now()) {
      this.replayedRecently.delete(m.channel);
      return false;
    }
    return recent.ids.has(m.id);
  }

  /** A reading of a sensor it watches: the newest (by reading time) waits for the next flush. */
  offerReading(sensorId: string, ts: number, value: number): void {
    const sub = this.readings;
    if (!sub?.sensors.has(sensorId)) return;
    const prev = sub.pending.get(sensorId);
    if (prev) {
      this.stats.conflated++;
      this.hooks.onConflated?.(1);
      if (prev[0] > ts) return;
    }
    sub.pending.set(sensorId, [ts, value]);
  }

  /** Sends the newest reading of each sensor since the last flush, if the socket has room. */
  flushReadings(): void {
    const sub = this.readings;
    if (!sub || sub.pending.size === 0 || this.closed) return;
    if (this.ws.bufferedAmount >= HIGH_WATER || this.queue.length > 0) return;
    const readings = [...sub.pending].map(([sensorId, [ts, value]]) => [sensorId, ts, value]);
    sub.pending = new Map();
    this.write(
      encode({ type: 'readings', channel: 'readings', id: null, payload: { readings } }),
      'readings',
      false,
    );
  }

  /** Adds sensors (and sets the rate) of the readings subscription. */
  watchReadings(sensorIds: readonly string[], intervalMs: number): void {
    if (!this.readings) {
      this.readings = { sensors: new Set(), intervalMs, pending: new Map(), timer: undefined };
    }
    const sub = this.readings;
    for (const id of sensorIds) sub.sensors.add(id);
    if (sub.timer && sub.intervalMs === intervalMs) return;
    clearInterval(sub.timer);
    sub.intervalMs = intervalMs;
    sub.timer = setInterval(() => this.flushReadings(), intervalMs);
    sub.timer.unref();
  }

  unwatchReadings(sensorIds: readonly string[] | undefined): void {
    const sub = this.readings;
    if (!sub) return;
    if (sensorIds) for (const id of sensorIds) sub.sensors.delete(id);
    if (!sensorIds || sub.sensors.size === 0) {
      clearInterval(sub.timer);
      this.readings = undefined;
      this.channels.delete('readings');
    }
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.drainTimer);
    clearInterval(this.readings?.timer);
    this.discarded += this.queue.length;
    this.queue.length = 0;
    // Close reasons are limited to 123 bytes.
    this.ws.close(code, reason.slice(0, 120));
  }

  /** The socket is gone: stop timers. */
  dispose(): void {
    this.closed = true;
    clearTimeout(this.drainTimer);
    clearInterval(this.readings?.timer);
  }
}
