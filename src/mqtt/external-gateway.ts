import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
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

const PAYLOAD_FORMAT_INVALID = 0x99;

export interface GatewayOptions {
  readonly clientId: string;
  readonly shareGroup: string;
  readonly sessionExpiryS: number;
  /** Subscriber connections of this instance (each its own session, suffix `-<n>`). */
  readonly connections: number;
  /** Credentials and TLS files (PEM paths) for the broker; URL credentials also work. */
  readonly broker?: Config['mqtt']['broker'];
}

/**
 * Vigil as a subscriber of an external broker (`MQTT_URL`: Mosquitto, EMQX…). It subscribes with
 * a shared subscription, `$share/<group>/vigil/+/+/#`, so several instances split the messages and
 * each is processed once, in a persistent MQTT 5 session (`MQTT_SESSION_EXPIRY_S`, a week by default; a stable client id), so
 * messages published while Vigil was away are delivered when it returns.
 *
 * Trust model: the external broker authenticates devices, and its ACLs must keep each device to
 * its own `vigil/<tenant>/<device>/…` topics — Vigil takes the device from the topic and only
 * checks that it exists (and, at ingestion, that it owns the sensors named).
 *
 * A QoS 1 message is acknowledged only after its readings are committed. If they cannot be stored
 * now (database unavailable) the message is left unacknowledged and the connection is dropped, so
 * the broker delivers it again on reconnect. A message that can never be stored is acknowledged
 * with reason 0x99 (payload format invalid) and reported on the device's errors topic.
 */
export class ExternalGateway implements MqttStatusSource {
  readonly counters: GatewayCounters = newCounters();
  private readonly clients: MqttClient[] = [];
  private lastError: string | undefined;
  private readonly devices = new Map<string, { identity: DeviceIdentity | null; expires: number }>();

  constructor(
    private readonly services: Services,
    private readonly logger: Logger,
  ) {}

  status(): MqttStatus {
    const connected = this.clients.filter((c) => c.connected).length;
    return {
      mode: 'external',
      connected: connected > 0,
      subscribers: { connected, total: this.clients.length },
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      counters: this.counters,
    };
  }

  /** Settles once connected and subscribed (the server does not wait for it). */
  ready: Promise<void> = Promise.resolve();

  /**
   * mqtt.js hands a client's messages over one at a time (the next waits for the previous
   * acknowledgement, i.e. its commit), so each instance subscribes over `connections` clients of
   * the share group: that many messages are in flight and share group commits.
   */
  start(url: string, opts: GatewayOptions): Promise<void> {
    const login = loginOptions(opts.broker);
    this.ready = Promise.all(
      Array.from({ length: opts.connections }, (_, i) =>
        this.connect(
          url,
          { ...opts, clientId: opts.connections === 1 ? opts.clientId : `${opts.clientId}-${i}` },
          login,
        ),
      ),
    ).then(() => undefined);
    return this.ready;
  }

  private async connect(url: string, opts: GatewayOptions, login: IClientOptions): Promise<void> {
    const client = mqtt.connect(url, {
      ...login,
      clientId: opts.clientId,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: opts.sessionExpiryS },
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      customHandleAcks: (topic, message, _packet, done) => {
        this.onMessage(topic, message).then(
          (code) => done(code),
          (err: Error) => {
            this.logger.warn(
              { topic, err: err.message },
              'mqtt: readings not stored; reconnecting so the broker resends',
            );
            done(err);
            // Without a PUBACK the broker resends only on a new connection.
            client.stream?.destroy();
          },
        );
      },
    });
    this.clients.push(client);
    // QoS 0 has no acknowledgement, so mqtt.js does not route it through customHandleAcks.
    client.on('message', (topic, message, packet) => {
      if (packet.qos !== 0) return;
      this.onMessage(topic, message).catch((err: Error) =>
        this.logger.warn({ topic, err: err.message }, 'mqtt: QoS 0 readings not stored (not resent)'),
      );
    });
    // Errors of unacknowledged messages are logged above; connection errors are retried by mqtt.js.
    client.on('error', (err) => {
      this.lastError = err.message;
      this.logger.warn({ err: err.message }, 'mqtt: external broker error');
    });
    const filter = `$share/${opts.shareGroup}/vigil/+/+/#`;
    // The persistent session keeps the subscription across reconnects; subscribe whenever the
    // broker has no session for us (the first connection, or after it expired).
    await new Promise<void>((resolve) => {
      client.on('connect', (ack) => {
        this.lastError = undefined;
        // One small PUBACK per message: without this, Nagle's algorithm holds each one back until
        // the broker's delayed ACK arrives (tens of milliseconds), capping every connection.
        (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
        if (ack.sessionPresent) return resolve();
        client.subscribe(filter, { qos: 1 }, (err) => {
          if (err) this.logger.warn({ err: err.message }, 'mqtt: subscription failed');
          else
            this.logger.info(
              { url: redacted(url), clientId: opts.clientId, filter },
              'mqtt: subscribed to the external broker',
            );
          resolve();
        });
      });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync()));
  }

  private async onMessage(topicName: string, payload: Buffer): Promise<number> {
    const topic = parseTopic(topicName);
    // Vigil's own reports and commands, and unknown shapes: nothing to store.
    if (!topic || topic.kind === 'errors' || topic.kind === 'commands') return 0;
    const identity = await this.identify(topic.tenant, topic.device);
    if (identity && topic.kind === 'status') {
      // `online` / `offline` (the usual Last Will): the broker knows connections, Vigil learns them here.
      const state = payload.toString('utf8').trim().toLowerCase();
      if (state === 'online' || state === 'offline') {
        await setPresence(this.services.database.db, identity.deviceId, state === 'online', Date.now());
      }
      return 0;
    }
    if (!identity || topic.kind === 'status') {
      this.counters.aclViolations++;
      this.logger.info({ topic: topicName }, 'mqtt: message for an unknown tenant or device ignored');
      return 0;
    }
    const handled = await handleReadings(this.services, this.counters, identity, topic, payload);
    if (handled.report) {
      this.clients[0]?.publish(
        deviceTopic(identity.tenantSlug, identity.deviceKey, 'errors'),
        JSON.stringify({ topic: topicName, ...handled.report }),
        { qos: 1 },
      );
    }
    return handled.wholeMessageRejected ? PAYLOAD_FORMAT_INVALID : 0;
  }

  /** The device a topic names (tenant slug + device key or id), cached for a minute. */
  private async identify(tenant: string, device: string): Promise<DeviceIdentity | null> {
    const cacheKey = `${tenant}\u0000${device}`;
    const hit = this.devices.get(cacheKey);
    if (hit && hit.expires > Date.now()) return hit.identity;
    const { db } = this.services.database;
    const row = await db
      .selectFrom('devices')
      .innerJoin('tenants', 'tenants.id', 'devices.tenant_id')
      .select(['devices.id', 'devices.key', 'devices.tenant_id', 'tenants.slug'])
      .where('tenants.slug', '=', tenant)
      .where((eb) => eb.or([eb('devices.key', '=', device), eb('devices.id', '=', device)]))
      .executeTakeFirst();
    const identity = row
      ? { tenantId: row.tenant_id, tenantSlug: row.slug, deviceId: row.id, deviceKey: row.key }
      : null;
    if (this.devices.size > 100_000) this.devices.clear();
    this.devices.set(cacheKey, { identity, expires: Date.now() + 60_000 });
    return identity;
  }
}

/** Username/password and TLS material; the broker's certificate is always verified. */
function loginOptions(broker: GatewayOptions['broker']): IClientOptions {
  if (!broker) return {};
  return {
    ...(broker.username !== undefined ? { username: broker.username } : {}),
    ...(broker.password !== undefined ? { password: broker.password } : {}),
    ...(broker.caFile ? { ca: readFileSync(broker.caFile) } : {}),
    ...(broker.certFile && broker.keyFile
      ? { cert: readFileSync(broker.certFile), key: readFileSync(broker.keyFile) }
      : {}),
    rejectUnauthorized: true,
  };
}

function redacted(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.href;
}
