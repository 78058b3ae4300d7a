import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { authenticateDeviceCertificate, authenticateDeviceToken } from '../auth/authenticate.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { setPresence } from '../registry/devices.repository.js';
import type { Services } from '../services.js';
import type { MqttStatus, MqttStatusSource } from './mqtt-status.js';
import {
  type DeviceIdentity,
  type GatewayCounters,
  handleReadings,
  newCounters,
} from './readings-handler.js';
import { deviceTopic, parseTopic } from './topics.js';

const identities = new WeakMap<Client, DeviceIdentity>();

/** The SHA-256 fingerprint (hex) of a client certificate the TLS layer verified against the CA. */
function verifiedClientCertificate(client: Client): string | undefined {
  const socket = client.conn;
  if (!(socket instanceof tls.TLSSocket) || !socket.authorized) return undefined;
  const fingerprint = socket.getPeerCertificate().fingerprint256;
  return fingerprint ? fingerprint.replace(/:/g, '').toLowerCase() : undefined;
}

function refused(code: 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: code }) as AuthenticateError;
}

/**
 * The embedded MQTT broker (aedes), used when no external broker is configured. Devices log in
 * with their device credential (username: the device key or id; password: the device token) and
 * may publish only under `vigil/<tenant>/<device>/…` and subscribe only to their own `errors` and
 * `commands` topics. Readings are stored through the same ingest pipeline as HTTP, inside the
 * publish authorisation: for QoS 1 the PUBACK goes out only after the readings are committed, so
 * a crash or a database outage before the commit means the device sends them again.
 */
export class EmbeddedBroker implements MqttStatusSource {
  readonly counters: GatewayCounters = newCounters();
  /** Device connections now, per tenant id. */
  private readonly connections = new Map<string, number>();
  /** Clients counted in `connections`, from their authentication until their connection closes. */
  private readonly counted = new WeakSet<Client>();
  private aedes: Aedes | undefined;
  private readonly servers: net.Server[] = [];
  private wss: WebSocketServer | undefined;

  constructor(
    private readonly services: Services,
    private readonly logger: Logger,
  ) {}

  status(): MqttStatus {
    return {
      mode: 'embedded',
      connected: this.aedes !== undefined && !this.aedes.closed,
      connectionsByTenant: this.connections,
      counters: this.counters,
    };
  }

  /** Listens (plain TCP, and TLS / WebSocket when configured); resolves with the bound ports. */
  async start(opts: {
    host: string;
    port: number;
    tls?: { port: number; certFile: string; keyFile: string; caFile?: string | undefined } | undefined;
    wsPort?: number | undefined;
  }): Promise<{ port: number; tlsPort?: number; wsPort?: number }> {
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        this.authenticate(client, username, password).then(
          () => done(null, true),
          (err: AuthenticateError) => {
            this.counters.authFailures++;
            this.logger.info({ clientId: client.id, reason: err.message }, 'mqtt: connection refused');
            done(err, false);
          },
        );
      },
      authorizePublish: (client, packet, done) => {
        this.onPublish(client, packet).then(
          () => done(null),
          (err: Error) => done(err),
        );
      },
      authorizeSubscribe: (client, sub, done) => done(null, this.allowSubscribe(client, sub) ? sub : null),
    });
    this.aedes = aedes;
    // Presence: a device is online from its CONNECT until its connection ends (cleanly or not).
    aedes.on('clientReady', (client) => this.presence(client, true));
    aedes.on('clientDisconnect', (client) => this.presence(client, false));
    const listen = async (server: net.Server, port: number) => {
      this.servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, opts.host, () => resolve());
      });
      return (server.address() as net.AddressInfo).port;
    };
    const ports: { port: number; tlsPort?: number; wsPort?: number } = {
      port: await listen(net.createServer(aedes.handle), opts.port),
    };
    if (opts.tls) {
      const server = tls.createServer(
        {
          cert: readFileSync(opts.tls.certFile),
          key: readFileSync(opts.tls.keyFile),
          minVersion: 'TLSv1.2',
          // mTLS: ask for a client certificate and check it against the CA; a connection without
          // one may still log in with a token (checked at CONNECT, where the decision is made).
          ...(opts.tls.caFile
            ? { ca: readFileSync(opts.tls.caFile), requestCert: true, rejectUnauthorized: false }
            : {}),
        },
        aedes.handle,
      );
      ports.tlsPort = await listen(server, opts.tls.port);
    }
    if (opts.wsPort !== undefined) {
      const httpServer = http.createServer((_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect to /mqtt\n');
      });
      const wss = new WebSocketServer({
        server: httpServer,
        path: '/mqtt',
        maxPayload: this.services.config.telemetry.maxBytes,
      });
      wss.on('connection', (socket, req) => aedes.handle(createWebSocketStream(socket), req));
      this.wss = wss;
      ports.wsPort = await listen(httpServer, opts.wsPort);
    }
    return ports;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.aedes ? this.aedes.close(() => resolve()) : resolve()));
    this.wss?.close();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private presence(client: Client, online: boolean): void {
    const identity = identities.get(client);
    if (!identity) return;
    setPresence(this.services.database.db, identity.deviceId, online, Date.now()).catch((err: Error) =>
      this.logger.warn({ err: err.message }, 'mqtt: presence not recorded'),
    );
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<void> {
    const certificate = verifiedClientCertificate(client);
    if (!username || (!password?.length && !certificate)) {
      throw refused(
        4,
        'username (device key or id) and password (device token), or a registered client certificate, are required',
      );
    }
    let principal: Awaited<ReturnType<typeof authenticateDeviceToken>>;
    try {
      principal = password?.length
        ? await authenticateDeviceToken(this.services, password.toString('utf8'))
        : await authenticateDeviceCertificate(this.services, certificate!);
    } catch (err) {
      if (isDatabaseUnavailable(err))
        throw Object.assign(new Error('database unavailable'), { returnCode: 3 });
      throw refused(4, 'unknown, revoked or expired device token');
    }
    if (principal.kind !== 'device') throw refused(5, 'not a device credential');
    const { db } = this.services.database;
    const row = await db
      .selectFrom('devices')
      .innerJoin('tenants', 'tenants.id', 'devices.tenant_id')
      .select(['devices.id', 'devices.key', 'tenants.slug'])
      .where('devices.id', '=', principal.deviceId)
      .executeTakeFirst();
    if (!row || (username !== row.key && username !== row.id)) {
      throw refused(4, 'the username is not the device the token belongs to');
    }
    const limit = (await this.services.tenantQuotas.get(principal.tenantId)).mqttConnections;
    // From here to the end, no await: the check and taking the slot are one step, so a burst of
    // parallel CONNECTs cannot all pass. A device reconnecting under the client id of a connection
    // that is about to be replaced does not count that one twice.
    const tenantId = principal.tenantId;
    // aedes keeps connected clients by id (not in its typings).
    const previous = (this.aedes as unknown as { clients?: Record<string, Client> } | undefined)?.clients?.[
      client.id
    ];
    const replacing = previous !== undefined && identities.get(previous)?.tenantId === tenantId ? 1 : 0;
    if ((this.connections.get(tenantId) ?? 0) - replacing >= limit) {
      this.counters.connectionLimitRefusals++;
      // MQTT 3.1.1 has no quota code; 3 (server unavailable) tells the device to retry later.
      throw Object.assign(new Error(`the tenant has its limit of ${limit} MQTT connections`), {
        returnCode: 3,
      });
    }
    identities.set(client, {
      tenantId,
      tenantSlug: row.slug,
      deviceId: row.id,
      deviceKey: row.key,
    });
    this.connections.set(tenantId, (this.connections.get(tenantId) ?? 0) + 1);
    this.counted.add(client);
    // Counted until its connection closes, however it ends (also if it never becomes ready).
    client.conn.once('close', () => {
      if (!this.counted.delete(client)) return;
      const n = this.connections.get(tenantId) ?? 1;
      if (n <= 1) this.connections.delete(tenantId);
      else this.connections.set(tenantId, n - 1);
    });
  }

  private owns(identity: DeviceIdentity, tenant: string, device: string): boolean {
    return (
      (tenant === identity.tenantSlug || tenant === identity.tenantId) &&
      (device === identity.deviceKey || device === identity.deviceId)
    );
  }

  private allowSubscribe(client: Client, sub: Subscription): boolean {
    const identity = identities.get(client);
    const topic = parseTopic(sub.topic);
    const ok =
      identity !== undefined &&
      topic !== null &&
      (topic.kind === 'commands' || topic.kind === 'errors') &&
      this.owns(identity, topic.tenant, topic.device);
    if (!ok) {
      this.counters.aclViolations++;
      this.logger.info({ clientId: client.id, topic: sub.topic }, 'mqtt: subscription refused');
    }
    return ok;
  }

  private async onPublish(client: Client | null, packet: PublishPacket): Promise<void> {
    const identity = client ? identities.get(client) : undefined;
    const topic = parseTopic(packet.topic);
    if (
      !identity ||
      !topic ||
      !this.owns(identity, topic.tenant, topic.device) ||
      topic.kind === 'errors' ||
      topic.kind === 'commands'
    ) {
      this.counters.aclViolations++;
      this.logger.info({ clientId: client?.id, topic: packet.topic }, 'mqtt: publish refused');
      throw new Error(`not allowed to publish to ${packet.topic}`);
    }
    if (topic.kind === 'status') return;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    try {
      const handled = await handleReadings(this.services, this.counters, identity, topic, payload);
      if (handled.report) this.report(identity, packet.topic, handled.report);
    } catch (err) {
      // Not stored (database unavailable…): no PUBACK — the connection closes and the device resends.
      this.logger.warn(
        { clientId: client?.id, err: (err as Error).message },
        'mqtt: readings not stored; the device will resend',
      );
      throw err;
    }
  }

  /** Refusals go to the device's own errors topic, in the HTTP answer's shape. */
  private report(identity: DeviceIdentity, topic: string, body: Record<string, unknown>): void {
    this.aedes?.publish(
      {
        cmd: 'publish',
        topic: deviceTopic(identity.tenantSlug, identity.deviceKey, 'errors'),
        payload: Buffer.from(JSON.stringify({ topic, ...body })),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
  }
}
