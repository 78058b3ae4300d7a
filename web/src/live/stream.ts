/** One message of the live stream (docs/realtime.md). */
export interface StreamMessage {
  readonly type: string;
  readonly channel: string | null;
  readonly id: string | null;
  readonly payload: Record<string, unknown>;
}

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

/** What a channel's consumer is told: each event, and "reload from the REST API". */
export interface ChannelHandler {
  event(message: StreamMessage): void;
  resync(): void;
}

export type ReadingTuple = readonly [sensorId: string, ts: number, value: number];

interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
}

export interface StreamDeps {
  readonly url: string;
  /** A valid access token (renewed first when close to expiry), or undefined when signed out. */
  readonly token: () => Promise<string | undefined>;
  /** Renew the access token now (the server said ours expired). */
  readonly renew: () => Promise<boolean>;
  readonly connect: (url: string) => SocketLike;
  readonly now: () => number;
  readonly setTimer: (fn: () => void, ms: number) => unknown;
  readonly clearTimer: (handle: unknown) => void;
  readonly random?: () => number;
}

const BACKOFF_MS = [500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000];
/** No message for this long: ask for a pong; twice as long: the connection is dead. */
const QUIET_MS = 40_000;
const OPEN = 1;

/**
 * The browser's live-stream connection: authenticates in the first message, (re)subscribes what
 * the UI watches, resumes alarms and incidents from the last event id after a reconnect (or tells
 * the consumer to reload when it cannot), reconnects with backoff, renews an expired token, and
 * shares one socket between every view.
 */
export class LiveStream {
  private socket: SocketLike | undefined;
  private statusNow: LiveStatus = 'stopped';
  private lastMessage = 0;
  private attempts = 0;
  private connections = 0;
  private running = false;
  private ready = false;
  private retryTimer: unknown;
  private watchdog: unknown;
  private readonly lastIds = new Map<string, string>();
  /** Channels subscribed again after a reconnect (without an id to resume from, they reload). */
  private readonly resubscribed = new Set<string>();
  private readonly channels = new Map<string, Set<ChannelHandler>>();
  private readonly readings = new Map<string, Set<(r: ReadingTuple) => void>>();
  private readonly statusListeners = new Set<(s: LiveStatus, lastMessageAt: number) => void>();

  constructor(private readonly deps: StreamDeps) {}

  get status(): LiveStatus {
    return this.statusNow;
  }

  /** Epoch ms of the last message received (0: none yet). */
  get lastMessageAt(): number {
    return this.lastMessage;
  }

  onStatus(fn: (s: LiveStatus, lastMessageAt: number) => void): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.setStatus('connecting');
    void this.connect();
  }

  stop(): void {
    this.running = false;
    this.ready = false;
    if (this.retryTimer !== undefined) this.deps.clearTimer(this.retryTimer);
    if (this.watchdog !== undefined) this.deps.clearTimer(this.watchdog);
    this.retryTimer = undefined;
    this.watchdog = undefined;
    const s = this.socket;
    this.socket = undefined;
    if (s) {
      s.onclose = null;
      s.onmessage = null;
      s.onerror = null;
      s.close(1000, 'signed out');
    }
    this.lastIds.clear();
    this.setStatus('stopped');
  }

  /** Follows `alarms`, `incidents` or `lab` (backtest logs); returns the unsubscribe. */
  follow(channel: 'alarms' | 'incidents' | 'lab', handler: ChannelHandler): () => void {
    let set = this.channels.get(channel);
    const first = !set || set.size === 0;
    if (!set) {
      set = new Set();
      this.channels.set(channel, set);
    }
    set.add(handler);
    if (first && this.ready) this.subscribeChannel(channel);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.ready) this.send({ type: 'unsubscribe', channel });
    };
  }

  /** Live readings of some sensors (the newest per sensor, about once a second). */
  watchReadings(sensorIds: readonly string[], fn: (r: ReadingTuple) => void): () => void {
    const fresh: string[] = [];
    for (const id of sensorIds) {
      let set = this.readings.get(id);
      if (!set) {
        set = new Set();
        this.readings.set(id, set);
      }
      if (set.size === 0) fresh.push(id);
      set.add(fn);
    }
    if (fresh.length > 0 && this.ready) this.subscribeReadings(fresh);
    return () => {
      const gone: string[] = [];
      for (const id of sensorIds) {
        const set = this.readings.get(id);
        if (!set) continue;
        set.delete(fn);
        if (set.size === 0) {
          this.readings.delete(id);
          gone.push(id);
        }
      }
      if (gone.length > 0 && this.ready) {
        for (let i = 0; i < gone.length; i += 1000)
          this.send({ type: 'unsubscribe', channel: 'readings', sensorIds: gone.slice(i, i + 1000) });
      }
    };
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    const token = await this.deps.token();
    if (!this.running) return;
    if (!token) {
      this.setStatus('reconnecting');
      this.retry();
      return;
    }
    let socket: SocketLike;
    try {
      socket = this.deps.connect(this.deps.url);
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    this.ready = false;
    socket.onopen = () => socket.send(JSON.stringify({ type: 'auth', token }));
    socket.onmessage = (ev) => this.receive(String(ev.data));
    socket.onerror = () => undefined;
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      const wasReady = this.ready;
      this.ready = false;
      if (!this.running) return;
      this.setStatus('reconnecting');
      if (ev.code === 4401) {
        // The token expired (or was refused): renew, then come straight back.
        void this.deps.renew().then((ok) => {
          if (ok) void this.connect();
          else this.retry();
        });
        return;
      }
      if (wasReady) this.attempts = 0;
      this.retry();
    };
  }

  private retry(): void {
    if (!this.running || this.retryTimer !== undefined) return;
    const base = BACKOFF_MS[Math.min(this.attempts, BACKOFF_MS.length - 1)]!;
    this.attempts++;
    const jitter = 0.75 + 0.5 * (this.deps.random ?? Math.random)();
    this.retryTimer = this.deps.setTimer(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, base * jitter);
  }

  private receive(text: string): void {
    let m: StreamMessage;
    try {
      m = JSON.parse(text) as StreamMessage;
    } catch {
      return;
    }
    this.lastMessage = this.deps.now();
    if (m.type === 'ready') {
      this.ready = true;
      this.attempts = 0;
      this.connections++;
      this.armWatchdog();
      for (const channel of this.channels.keys()) {
        if ((this.channels.get(channel)?.size ?? 0) === 0) continue;
        if (this.connections > 1) this.resubscribed.add(channel);
        this.subscribeChannel(channel);
      }
      if (this.readings.size > 0) this.subscribeReadings([...this.readings.keys()]);
      this.setStatus('live');
      return;
    }
    if (m.type === 'readings') {
      const list = (m.payload.readings ?? []) as ReadingTuple[];
      for (const r of list) for (const fn of this.readings.get(r[0]) ?? []) fn(r);
    } else if (m.type === 'resync' && m.channel) {
      this.lastIds.delete(m.channel);
      for (const h of this.channels.get(m.channel) ?? []) h.resync();
    } else if (m.type === 'subscribed' && m.channel && m.channel !== 'readings') {
      // A fresh subscription after a reconnect, without an id to resume from: reload.
      if (this.resubscribed.delete(m.channel) && m.payload.replayed === undefined)
        for (const h of this.channels.get(m.channel) ?? []) h.resync();
    } else if (m.channel && m.type.includes('.')) {
      // Events without an id (lab) cannot be resumed: after a reconnect their consumer reloads.
      // A resume may repeat events from just before the last one (ids commit out of order on
      // PostgreSQL): the position only moves forward.
      const last = this.lastIds.get(m.channel);
      if (m.id !== null && (last === undefined || Number(m.id) > Number(last)))
        this.lastIds.set(m.channel, m.id);
      for (const h of this.channels.get(m.channel) ?? []) h.event(m);
    }
    this.emitStatus();
  }

  private subscribeChannel(channel: string): void {
    const since = this.lastIds.get(channel);
    this.send({ type: 'subscribe', channel, ...(since ? { since } : {}) });
  }

  private subscribeReadings(ids: readonly string[]): void {
    for (let i = 0; i < ids.length; i += 1000)
      this.send({
        type: 'subscribe',
        channel: 'readings',
        sensorIds: ids.slice(i, i + 1000),
        maxRatePerS: 1,
      });
  }

  private send(message: Record<string, unknown>): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Pings when the stream has been quiet; drops a connection that stays silent. */
  private armWatchdog(): void {
    if (this.watchdog !== undefined) this.deps.clearTimer(this.watchdog);
    this.watchdog = this.deps.setTimer(() => {
      this.watchdog = undefined;
      if (!this.running || !this.ready) return;
      const quiet = this.deps.now() - this.lastMessage;
      if (quiet > 2 * QUIET_MS) {
        this.socket?.close(4000, 'no answer');
        return;
      }
      if (quiet > QUIET_MS) this.send({ type: 'ping' });
      this.armWatchdog();
    }, QUIET_MS / 2);
  }

  private setStatus(s: LiveStatus): void {
    this.statusNow = s;
    this.emitStatus();
  }

  private emitStatus(): void {
    for (const fn of this.statusListeners) fn(this.statusNow, this.lastMessage);
  }
}

/** The stream of this page's origin, wired to the browser's WebSocket and timers. */
export function browserStream(token: () => Promise<string | undefined>, renew: () => Promise<boolean>) {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return new LiveStream({
    url: `${proto}//${window.location.host}/api/v1/stream`,
    token,
    renew,
    connect: (url) => new WebSocket(url),
    now: () => Date.now(),
    setTimer: (fn, ms) => window.setTimeout(fn, ms),
    clearTimer: (h) => window.clearTimeout(h as number),
  });
}
