import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { decodeJwt } from 'jose';
import { type WebSocket, WebSocketServer } from 'ws';
import { authenticateAccessToken, authenticateApiKey } from '../auth/authenticate.js';
import type { Permission } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { TOKEN_PREFIX } from '../auth/tokens.js';
import { clientAddress } from '../http/client-address.js';
import { clientKey } from '../http/client-key.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import { type ConnectionSlots, MemorySlots, RedisSlots } from './connection-slots.js';
import { type HubMessage, PLATFORM } from './hub.js';
import { replayAlarms, replayIncidents } from './replay.js';
import { StreamConnection } from './stream.connection.js';
import {
  CHANNELS as CHANNEL_NAMES,
  type Channel,
  CLOSE,
  encode,
  parseClientMessage,
  type SubscribeMessage,
  type UnsubscribeMessage,
} from './stream.messages.js';

export const STREAM_PATH = '/api/v1/stream';
/** Query parameters that would carry a credential in the URL (logged by every proxy): refused. */
const URL_CREDENTIALS = [
  'token',
  'access_token',
  'accesstoken',
  'jwt',
  'auth',
  'authorization',
  'key',
  'apikey',
];
/** Connections per address that have not authenticated yet. */
const MAX_PENDING_PER_IP = 20;
/** How often readings watches are announced again (they last WATCH_TTL_MS). */
const REWATCH_MS = 10_000;

/** The slowest readings rate a subscription may ask for (one message every 10 s). */
const MIN_RATE_PER_S = 0.1;
/** Connections a message is written to before the event loop is let go (fan-out to thousands). */
const FANOUT_CHUNK = 1024;
/** How often this instance tells `system` subscribers how it is. */
const STATUS_MS = 5_000;

/** Who may subscribe to what. */
const NEEDS: Record<Channel, Permission | 'platform'> = {
  alarms: 'alarms:read',
  incidents: 'alarms:read',
  readings: 'telemetry:read',
  jobs: 'platform',
  system: 'platform',
  lab: 'detection:read',
};

function refuse(socket: Duplex, status: number, code: string, detail: string): void {
  const body = JSON.stringify({
    type: `https://vigil.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`,
    title: detail,
    status,
    code,
    detail,
  });
  socket.end(
    `HTTP/1.1 ${status} ${({ 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 503: 'Service Unavailable' } as Record<number, string>)[status] ?? 'Bad Request'}\r\n` +
      'content-type: application/problem+json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
}

/**
 * The live stream at GET /api/v1/stream (docs/realtime.md): checks the Origin and refuses
 * credentials in the URL at the upgrade; then the client authenticates in its first message and
 * subscribes to channels, each subscription authorised for its tenant and permission.
 */
export class StreamServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly connections = new Set<StreamConnection>();
  private readonly byTenant = new Map<string, Set<StreamConnection>>();
  /** Connections per user or API key, across instances with Redis. */
  private readonly slots: ConnectionSlots;
  /** Shutdown's release of every slot (awaited before Redis closes). */
  closingSlots: Promise<void> = Promise.resolve();
  /** The slot each admitted connection holds. */
  private readonly slotOf = new Map<StreamConnection, { key: string; id: string }>();
  private readonly pendingPerIp = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** The client's address, believing X-Forwarded-For only from TRUST_PROXY's proxies. */
  private readonly clientIp: (req: IncomingMessage) => string;
  private unsubscribe: (() => void) | undefined;
  readonly stats = { accepted: 0, refused: 0, slowConsumers: 0, conflated: 0, sent: 0 };

  constructor(
    private readonly services: Services,
    private readonly clock: () => number = Date.now,
  ) {
    this.clientIp = clientAddress(services.config.http.trustProxy);
    // A slot outlives its instance by three missed heartbeats at most.
    this.slots = services.redis
      ? new RedisSlots(services.redis, 3 * services.config.stream.heartbeatMs, (err) =>
          services.logger.warn({ err: err.message }, 'stream: connection slots in Redis failed'),
        )
      : new MemorySlots();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node takes its own error listener off the socket before emitting `upgrade`: a client that
      // resets it while it is refused or checked must not become an unhandled error (ws adds its
      // own listener when it takes the socket).
      socket.on('error', () => socket.destroy());
      const url = new URL(req.url ?? '/', 'http://x');
      // No other upgrade is served: answer rather than leave the socket open (and shutdown waiting).
      if (url.pathname !== STREAM_PATH) {
        refuse(socket, 404, 'NOT_FOUND', 'Only /api/v1/stream takes a WebSocket upgrade');
        return;
      }
      this.onUpgrade(req, socket, head, url);
    });
    this.unsubscribe = this.services.hub.subscribe((m) => this.dispatch(m));
    this.services.relay.start();
    const { heartbeatMs } = this.services.config.stream;
    this.timers.push(setInterval(() => this.heartbeat(), heartbeatMs));
    this.timers.push(setInterval(() => this.rewatch(), REWATCH_MS));
    this.timers.push(setInterval(() => this.publishStatus(), STATUS_MS));
    this.timers.push(setInterval(() => this.recountSubscriptions(), 1000));
    this.timers.push(
      setInterval(
        () =>
          void this.checkSessions().catch((err: Error) =>
            this.services.logger.warn({ err: err.message }, 'stream: session check failed'),
          ),
        heartbeatMs,
      ),
    );
    for (const t of this.timers) t.unref();
  }

  /** Closes every connection (1001) and stops; their slots are given back before Redis closes. */
  close(): void {
    const held = [...this.slotOf.values()];
    this.slotOf.clear();
    this.closingSlots = this.slots.releaseAll(held);
    for (const t of this.timers) clearInterval(t);
    this.unsubscribe?.();
    this.services.relay.stop();
    for (const c of this.connections) c.close(CLOSE.goingAway, 'server shutting down');
    this.wss.close();
  }

  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    // Not a browser: no Origin to check (its token is what authenticates it).
    if (!origin) return true;
    if (this.services.config.http.corsOrigins.includes(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const ip = this.clientIp(req);
    for (const name of url.searchParams.keys()) {
      if (URL_CREDENTIALS.includes(name.toLowerCase())) {
        this.stats.refused++;
        refuse(
          socket,
          400,
          'TOKEN_IN_URL',
          'Never put a credential in the URL: send {"type":"auth","token":…} as the first message',
        );
        return;
      }
    }
    if (!this.originAllowed(req)) {
      this.stats.refused++;
      refuse(socket, 403, 'ORIGIN_REFUSED', 'This origin may not open the live stream');
      return;
    }
    const ipKey = clientKey(ip);
    const pending = this.pendingPerIp.get(ipKey) ?? 0;
    if (pending >= MAX_PENDING_PER_IP) {
      this.stats.refused++;
      refuse(socket, 429, 'RATE_LIMITED', 'Too many unauthenticated live-stream connections');
      return;
    }
    // Counted now, not once the checks below are done, so a burst cannot pass the limit together;
    // the connection gives it back when it authenticates or closes.
    this.pendingPerIp.set(ipKey, pending + 1);
    let reserved = true;
    const releasePending = () => {
      if (!reserved) return;
      reserved = false;
      const n = (this.pendingPerIp.get(ipKey) ?? 1) - 1;
      if (n <= 0) this.pendingPerIp.delete(ipKey);
      else this.pendingPerIp.set(ipKey, n);
    };
    socket.once('close', releasePending);
    void this.admissible(ip)
      .then((refusal) => {
        if (refusal) {
          releasePending();
          this.stats.refused++;
          refuse(socket, refusal.status, refusal.code, refusal.detail);
        } else if (socket.destroyed) releasePending();
        else {
          // From here the connection owns the reservation (its close gives it back).
          socket.removeListener('close', releasePending);
          this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, ip, releasePending));
        }
      })
      .catch((err: Error) => {
        releasePending();
        this.services.logger.warn({ err: err.message }, 'stream: upgrade check failed');
        refuse(socket, 503, 'SERVICE_UNAVAILABLE', 'The live stream cannot take connections right now');
      });
  }

  /**
   * What the HTTP pipeline would refuse this address for, before a socket is accepted: a blocked
   * or denied address (the threat guard), or one that spent its authentication attempts (the
   * `auth` rate-limit class, which failed live-stream authentications count against too).
   */
  private async admissible(ip: string): Promise<{ status: number; code: string; detail: string } | null> {
    const { config, guard, rateLimits } = this.services;
    if (config.guard.enabled) {
      const standing = await guard.standing(ip);
      if (standing === 'denied')
        return {
          status: 403,
          code: 'REQUEST_BLOCKED',
          detail: 'Requests from this address are not accepted',
        };
      if (standing && standing !== 'allowed')
        return {
          status: 403,
          code: 'REQUEST_BLOCKED',
          detail: `This address is blocked for ${Math.max(1, Math.ceil((standing.until - this.clock()) / 1000))} s after suspicious requests`,
        };
    }
    if (config.rateLimit.enabled) {
      const wait = await rateLimits.retryAfter('auth', streamAuthKey(ip));
      if (wait > 0)
        return {
          status: 429,
          code: 'RATE_LIMITED',
          detail: `Too many failed authentications from this address; retry in ${wait} s`,
        };
    }
    return null;
  }

  /** A failed authentication counts as a failed login does over HTTP: for the IP's limit and its risk. */
  private async authFailed(ip: string, token: string): Promise<void> {
    // A well-formed token that merely expired is a client that slept, not a guess.
    if (expired(token, this.clock())) return;
    const { config, guard, rateLimits } = this.services;
    if (config.guard.enabled) guard.record(ip, 'failed-login');
    if (config.rateLimit.enabled)
      await rateLimits.hit('auth', streamAuthKey(ip), 'client IP').catch(() => undefined);
  }

  private onConnection(ws: WebSocket, ip: string, settlePending: () => void): void {
    this.stats.accepted++;
    const metrics = this.services.metrics;
    const conn = new StreamConnection(
      ws,
      ip,
      {
        queueMax: this.services.config.stream.queueMax,
        onSent: (channel) => {
          this.stats.sent++;
          metrics?.wsMessagesSent.inc({ channel: channel || 'control' });
        },
        onConflated: (n) => {
          this.stats.conflated += n;
          metrics?.wsMessagesConflated.inc(n);
        },
      },
      this.clock(),
    );
    this.connections.add(conn);
    metrics?.wsConnections.set(this.connections.size);
    // A token bucket of the client's own messages: a flood closes the connection, not the server.
    const { clientMessagesPerS } = this.services.config.stream;
    let tokens = 2 * clientMessagesPerS;
    let refilledAt = this.clock();
    const authTimer = setTimeout(
      () => conn.close(CLOSE.unauthenticated, 'authenticate first: {"type":"auth","token":…}'),
      this.services.config.stream.authTimeoutMs,
    );
    let expiry: NodeJS.Timeout | undefined;
    // Messages are handled one at a time, in order (auth before the first subscribe).
    let chain: Promise<void> = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      const now = this.clock();
      tokens = Math.min(2 * clientMessagesPerS, tokens + ((now - refilledAt) / 1000) * clientMessagesPerS);
      refilledAt = now;
      if (tokens < 1) {
        if (!conn.closed) {
          this.services.metrics?.wsDisconnects.inc({ reason: 'message-flood' });
          conn.close(CLOSE.tooMany, `too many messages: at most ${clientMessagesPerS} a second`);
        }
        return;
      }
      tokens -= 1;
      const text = isBinary ? '' : data.toString();
      chain = chain
        .then(async () => {
          if (conn.closed) return;
          const parsed = parseClientMessage(text);
          if (!parsed.ok) {
            if (!conn.principal) return conn.close(CLOSE.badMessage, `bad message: ${parsed.detail}`);
            return conn.send({
              type: 'error',
              channel: null,
              id: null,
              payload: { code: 'VALIDATION_FAILED', pointer: parsed.pointer, detail: parsed.detail },
            });
          }
          const m = parsed.message;
          if (!conn.principal) {
            if (m.type !== 'auth') return conn.close(CLOSE.unauthenticated, 'authenticate first');
            clearTimeout(authTimer);
            settlePending();
            const who = await this.authenticate(m.token);
            // A failed attempt counts even when the client has already gone.
            if (!who) await this.authFailed(ip, m.token);
            // Gone while we looked: nothing to admit (its close handler has already run).
            if (conn.closed) return;
            if (!who) return conn.close(CLOSE.unauthenticated, 'invalid or expired token');
            if (!(await this.admit(conn, who.principal))) return;
            conn.expiresAt = who.expiresAt;
            if (who.principal.kind === 'api-key') conn.apiKey = m.token;
            if (who.expiresAt !== undefined) {
              expiry = setTimeout(
                () => conn.close(CLOSE.unauthenticated, 'token expired: reconnect with a fresh one'),
                Math.max(0, who.expiresAt - this.clock()),
              );
              expiry.unref();
            }
            const { stream, rateLimit } = this.services.config;
            return conn.send({
              type: 'ready',
              channel: null,
              id: null,
              payload: {
                tenantId: who.principal.tenantId,
                heartbeatS: stream.heartbeatMs / 1000,
                maxSubscriptions: rateLimit.ws.subscriptionsPerConnection,
                maxRatePerS: stream.maxRatePerS,
                expiresAt: who.expiresAt === undefined ? null : new Date(who.expiresAt).toISOString(),
              },
            });
          }
          if (m.type === 'auth') return;
          if (m.type === 'ping')
            return conn.send({ type: 'pong', channel: null, id: null, payload: { ref: m.ref ?? null } });
          if (m.type === 'subscribe') await this.subscribe(conn, m);
          else this.unsubscribeFrom(conn, m);
          this.countSubscriptions();
        })
        .catch((err: Error) => {
          this.services.logger.warn({ err: err.message }, 'stream: message handling failed');
          conn.send({
            type: 'error',
            channel: null,
            id: null,
            payload: { code: 'INTERNAL', detail: 'the message could not be handled' },
          });
        });
    });
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('close', () => {
      clearTimeout(authTimer);
      clearTimeout(expiry);
      settlePending();
      conn.dispose();
      if (conn.readings) this.unwatch(conn, conn.readings.sensors);
      this.connections.delete(conn);
      metrics?.wsConnections.set(this.connections.size);
      this.countSubscriptions();
      const tenant = conn.tenantId;
      if (tenant) this.byTenant.get(tenant)?.delete(conn);
      const slot = this.slotOf.get(conn);
      if (slot) {
        this.slotOf.delete(conn);
        this.slots.release(slot.key, slot.id);
      }
    });
    ws.on('error', () => conn.dispose());
  }

  private async authenticate(
    token: string,
  ): Promise<{ principal: Principal; expiresAt?: number } | undefined> {
    try {
      if (token.startsWith(TOKEN_PREFIX.apiKey))
        return { principal: await authenticateApiKey(this.services, token) };
      const principal = await authenticateAccessToken(this.services, token, this.clock());
      if (principal.kind === 'user' && principal.mfaPending) return undefined;
      const exp = decodeJwt(token).exp;
      return { principal, ...(exp ? { expiresAt: exp * 1000 } : {}) };
    } catch (err) {
      if (err instanceof AppError) return undefined;
      throw err;
    }
  }

  /** Counts the connection against its user's limit (on every instance); closes it (4429) when over. */
  private async admit(conn: StreamConnection, principal: Principal): Promise<boolean> {
    const slot = { key: userKey(principal), id: `${this.services.config.instanceId}:${randomUUID()}` };
    const max = this.services.config.rateLimit.ws.connectionsPerUser;
    if (!(await this.slots.take(slot.key, slot.id, max, this.clock()))) {
      conn.close(CLOSE.tooMany, 'too many live-stream connections for this user');
      return false;
    }
    // Gone while the slot was taken: give it straight back.
    if (conn.closed) {
      this.slots.release(slot.key, slot.id);
      return false;
    }
    this.slotOf.set(conn, slot);
    conn.principal = principal;
    const set = this.byTenant.get(principal.tenantId) ?? new Set();
    set.add(conn);
    this.byTenant.set(principal.tenantId, set);
    return true;
  }

  private refuseSubscription(
    conn: StreamConnection,
    m: { channel: string; ref?: string },
    code: string,
    detail: string,
  ) {
    conn.send({ type: 'error', channel: m.channel, id: null, payload: { code, detail, ref: m.ref ?? null } });
  }

  private async subscribe(conn: StreamConnection, m: SubscribeMessage): Promise<void> {
    const p = conn.principal!;
    const need = NEEDS[m.channel];
    const allowed =
      need === 'platform'
        ? p.kind === 'user' && p.isPlatformAdmin
        : p.kind !== 'device' && p.permissions.has(need);
    if (!allowed)
      return this.refuseSubscription(conn, m, 'FORBIDDEN', `not allowed to subscribe to ${m.channel}`);
    const limit = this.services.config.rateLimit.ws.subscriptionsPerConnection;
    if (m.channel === 'readings') {
      if (!m.sensorIds)
        return this.refuseSubscription(conn, m, 'VALIDATION_FAILED', 'readings need sensorIds');
      const fresh = m.sensorIds.filter((id) => !conn.readings?.sensors.has(id));
      if (conn.subscriptionCount + fresh.length + (conn.readings ? 0 : 1) > limit)
        return this.refuseSubscription(conn, m, 'LIMIT', `at most ${limit} subscriptions per connection`);
      // Only the tenant's own sensors: another tenant's id is answered like an unknown one.
      const owned = new Set<string>();
      for (let i = 0; i < fresh.length; i += 500) {
        const rows = await this.services.database.db
          .selectFrom('sensors')
          .select('id')
          .where('tenant_id', '=', p.tenantId)
          .where('id', 'in', fresh.slice(i, i + 500))
          .execute();
        for (const r of rows) owned.add(r.id);
      }
      if (conn.closed) return;
      const unknown = fresh.filter((id) => !owned.has(id));
      if (unknown.length > 0)
        return conn.send({
          type: 'error',
          channel: 'readings',
          id: null,
          payload: { code: 'NOT_FOUND', detail: 'unknown sensors', sensorIds: unknown, ref: m.ref ?? null },
        });
      const { maxRatePerS } = this.services.config.stream;
      const rate = Math.max(MIN_RATE_PER_S, Math.min(m.maxRatePerS ?? conn.ratePerS ?? 1, maxRatePerS));
      conn.ratePerS = rate;
      conn.channels.add('readings');
      conn.watchReadings(fresh, Math.round(1000 / rate));
      this.watch(conn, fresh);
      this.services.relay.watch(p.tenantId, fresh);
      conn.idleSince = Number.POSITIVE_INFINITY;
      return conn.send({
        type: 'subscribed',
        channel: 'readings',
        id: null,
        payload: { ref: m.ref ?? null, sensorIds: [...conn.readings!.sensors], maxRatePerS: rate },
      });
    }
    if (m.since !== undefined && m.channel !== 'alarms' && m.channel !== 'incidents')
      return this.refuseSubscription(conn, m, 'VALIDATION_FAILED', `${m.channel} cannot be resumed`);
    if (!conn.channels.has(m.channel) && conn.subscriptionCount + 1 > limit)
      return this.refuseSubscription(conn, m, 'LIMIT', `at most ${limit} subscriptions per connection`);
    conn.channels.add(m.channel);
    conn.idleSince = Number.POSITIVE_INFINITY;
    if (m.since === undefined) {
      return conn.send({ type: 'subscribed', channel: m.channel, id: null, payload: { ref: m.ref ?? null } });
    }
    conn.beginReplay(m.channel);
    try {
      const replay = m.channel === 'alarms' ? replayAlarms : replayIncidents;
      const { messages, complete } = await replay(this.services.database.db, p.tenantId, m.since);
      conn.send({
        type: 'subscribed',
        channel: m.channel,
        id: null,
        payload: { ref: m.ref ?? null, replayed: messages.length, complete },
      });
      for (const r of messages) conn.replayed(m.channel, r);
      // Too far behind to replay everything: reload the list, then go on live.
      if (!complete)
        conn.send({ type: 'resync', channel: m.channel, id: null, payload: { reason: 'too far behind' } });
    } finally {
      conn.endReplay(m.channel);
    }
  }

  private unsubscribeFrom(conn: StreamConnection, m: UnsubscribeMessage): void {
    if (m.channel === 'readings') {
      const before = [...(conn.readings?.sensors ?? [])];
      conn.unwatchReadings(m.sensorIds);
      this.unwatch(
        conn,
        before.filter((id) => !conn.readings?.sensors.has(id)),
      );
    } else conn.channels.delete(m.channel);
    if (conn.channels.size === 0) conn.idleSince = this.clock();
    conn.send({ type: 'unsubscribed', channel: m.channel, id: null, payload: { ref: m.ref ?? null } });
  }

  /** Hub messages waiting to be fanned out, in order. */
  private readonly fanOut: HubMessage[] = [];
  private fanningOut = false;

  private dispatch(m: HubMessage): void {
    if (m.channel === 'control') return;
    this.fanOut.push(m);
    if (!this.fanningOut)
      this.drainFanOut().catch((err: Error) => {
        this.services.logger.error({ err: err.message }, 'stream: fan-out failed');
      });
  }

  /**
   * Sends each message to its connections in order, encoded once, a chunk of connections at a
   * time: HTTP acknowledgements and ingest get the event loop in between, however many clients.
   */
  private async drainFanOut(): Promise<void> {
    this.fanningOut = true;
    try {
      for (let m = this.fanOut.shift(); m; m = this.fanOut.shift()) {
        if (m.channel === 'readings') {
          this.fanOutReadings(m);
          continue;
        }
        const targets =
          m.tenantId === PLATFORM
            ? [...this.connections].filter((c) => c.principal?.kind === 'user' && c.principal.isPlatformAdmin)
            : [...(this.byTenant.get(m.tenantId) ?? [])];
        const text = encode({ type: m.type, channel: m.channel, id: m.id, payload: m.payload });
        for (let i = 0; i < targets.length; i += FANOUT_CHUNK) {
          if (i > 0) await new Promise((resolve) => setImmediate(resolve));
          for (const c of targets.slice(i, i + FANOUT_CHUNK)) this.deliverTo(c, m, text);
        }
      }
    } finally {
      this.fanningOut = false;
    }
  }

  private deliverTo(c: StreamConnection, m: HubMessage, text: string): void {
    const before = c.closed;
    c.deliver(m, text);
    if (!before && c.closed) {
      this.stats.slowConsumers++;
      this.services.metrics?.wsDisconnects.inc({ reason: 'slow-consumer' });
      // Not lost: the client resumes them from its last event id; counted as not delivered here.
      this.services.metrics?.wsMessagesDropped.inc({ reason: 'slow-consumer' }, c.discarded);
    }
  }

  /** Each reading to the connections watching its sensor (an index, not a scan of every connection). */
  private fanOutReadings(m: HubMessage): void {
    for (const [sensorId, ts, value] of m.payload.readings as [string, number, number][]) {
      const watchers = this.watchers.get(sensorId);
      if (!watchers) continue;
      for (const c of watchers) if (c.tenantId === m.tenantId) c.offerReading(sensorId, ts, value);
    }
  }

  /** sensor → the connections watching it. */
  private readonly watchers = new Map<string, Set<StreamConnection>>();

  private watch(c: StreamConnection, sensorIds: readonly string[]): void {
    for (const id of sensorIds) {
      const set = this.watchers.get(id) ?? new Set();
      set.add(c);
      this.watchers.set(id, set);
    }
  }

  private unwatch(c: StreamConnection, sensorIds: Iterable<string>): void {
    for (const id of sensorIds) {
      const set = this.watchers.get(id);
      set?.delete(c);
      if (set?.size === 0) this.watchers.delete(id);
    }
  }

  /**
   * Closes (4401) the connections of people whose session ended since they authenticated — logout
   * everywhere, a password change, a disabled user, a removed membership — rather than waiting for
   * their access token to expire (one query for all), and of API keys no longer valid.
   */
  async checkSessions(): Promise<number> {
    const bySession = new Map<string, StreamConnection[]>();
    for (const c of this.connections) {
      if (c.closed || c.principal?.kind !== 'user') continue;
      const list = bySession.get(c.principal.sessionId) ?? [];
      list.push(c);
      bySession.set(c.principal.sessionId, list);
    }
    const ids = [...bySession.keys()];
    const live = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.services.database.db
        .selectFrom('refresh_tokens')
        .select('family_id')
        .distinct()
        .where('family_id', 'in', ids.slice(i, i + 500))
        .where('revoked_at', 'is', null)
        .where('absolute_expires_at', '>', this.clock())
        .execute();
      for (const r of rows) live.add(r.family_id);
    }
    let closed = 0;
    for (const [id, conns] of bySession) {
      if (live.has(id)) continue;
      for (const c of conns) {
        c.close(CLOSE.unauthenticated, 'session ended: sign in again');
        closed++;
      }
    }
    // API keys: revoked, expired, or their creator no longer standing — each key checked once.
    const byKey = new Map<string, StreamConnection[]>();
    for (const c of this.connections)
      if (!c.closed && c.apiKey) byKey.set(c.apiKey, [...(byKey.get(c.apiKey) ?? []), c]);
    for (const [key, conns] of byKey) {
      if (await this.authenticate(key)) continue;
      for (const c of conns) {
        c.close(CLOSE.unauthenticated, 'API key no longer valid');
        closed++;
      }
    }
    return closed;
  }

  /** Pings everyone; closes those that did not answer the last ping, and idle ones. */
  heartbeat(): void {
    const now = this.clock();
    void this.slots.refresh([...this.slotOf.values()], now);
    const { idleTimeoutMs } = this.services.config.stream;
    for (const c of this.connections) {
      if (!c.alive) {
        c.dispose();
        c.ws.terminate();
        this.services.metrics?.wsDisconnects.inc({ reason: 'heartbeat' });
        continue;
      }
      if (now - c.idleSince >= idleTimeoutMs) {
        c.close(CLOSE.idle, 'idle: no subscription');
        this.services.metrics?.wsDisconnects.inc({ reason: 'idle' });
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  private subscriptionsChanged = false;

  /** Marks the subscription gauge for a recount (once a second, not per message: thousands of clients). */
  private countSubscriptions(): void {
    this.subscriptionsChanged = true;
  }

  private recountSubscriptions(): void {
    const metrics = this.services.metrics;
    if (!metrics || !this.subscriptionsChanged) return;
    this.subscriptionsChanged = false;
    const counts = new Map<string, number>(CHANNEL_NAMES.map((c) => [c, 0]));
    for (const c of this.connections) {
      for (const ch of c.channels) if (ch !== 'readings') counts.set(ch, (counts.get(ch) ?? 0) + 1);
      if (c.readings) counts.set('readings', (counts.get('readings') ?? 0) + c.readings.sensors.size);
    }
    for (const [channel, n] of counts) metrics.wsSubscriptions.set({ channel }, n);
  }

  /** This instance's status, to platform admins subscribed to `system` (on any instance). */
  publishStatus(): void {
    const { services } = this;
    const d = services.detection;
    const memory = process.memoryUsage();
    services.hub.publish({
      tenantId: PLATFORM,
      channel: 'system',
      type: 'system.status',
      id: null,
      payload: {
        instanceId: services.config.instanceId,
        uptimeS: Math.round(process.uptime()),
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        streamConnections: this.connections.size,
        detection: d
          ? {
              queued: d.queueLength,
              scored: d.stats.scored,
              errors: d.stats.errors,
              lagMs: d.lagPercentiles(),
            }
          : null,
        alarms: { ...services.alarms.stats },
        notifications: { ...services.notifications.stats },
      },
      at: this.clock(),
    });
  }

  private rewatch(): void {
    for (const c of this.connections)
      if (c.readings && c.tenantId) this.services.relay.watch(c.tenantId, [...c.readings.sensors]);
  }
}

/**
 * Failed stream authentications per address, at the `auth` class's rate but counted apart from
 * HTTP logins: an office's sign-ins through one NAT must not lock its live streams out.
 */
function streamAuthKey(ip: string): string {
  return `stream:${clientKey(ip)}`;
}

/** Whether `token` is a JWT whose `exp` has passed (a signature is not checked here). */
function expired(token: string, now: number): boolean {
  try {
    const exp = decodeJwt(token).exp;
    return exp !== undefined && exp * 1000 <= now;
  } catch {
    return false;
  }
}

function userKey(p: Principal): string {
  return p.kind === 'user'
    ? `u:${p.userId}`
    : p.kind === 'api-key'
      ? `k:${p.apiKeyId}`
      : `d:${p.credentialId}`;
}
