import type { GatewayCounters } from './readings-handler.js';

/** What the running MQTT side (embedded broker or external-broker gateway) reports about itself. */
export interface MqttStatus {
  readonly mode: 'embedded' | 'external';
  /** Embedded: listening. External: at least one subscriber connection is up. */
  readonly connected: boolean;
  /** External: subscriber connections up, of how many. */
  readonly subscribers?: { readonly connected: number; readonly total: number };
  /** External: why the last connection attempt failed (refused login, TLS…), until one succeeds. */
  readonly lastError?: string;
  /** Embedded: device connections now, per tenant id (the external broker's are not visible). */
  readonly connectionsByTenant?: ReadonlyMap<string, number>;
  readonly counters: Readonly<GatewayCounters>;
}

export interface MqttStatusSource {
  status(): MqttStatus;
}

/**
 * Where the HTTP side (readiness, the MQTT status endpoints) finds the MQTT side, which the server
 * starts after the app is built. Empty when MQTT is off or not started (tests of the app alone).
 */
export class MqttStatusBoard {
  private source: MqttStatusSource | undefined;

  attach(source: MqttStatusSource | undefined): void {
    this.source = source;
  }

  current(): MqttStatus | undefined {
    return this.source?.status();
  }
}
