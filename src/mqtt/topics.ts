/**
 * Vigil's MQTT topics, all under `vigil/<tenant>/<device>/`:
 * - `…/readings` — a batch in any ingest format (device → Vigil);
 * - `…/<sensor key>` — one reading of one sensor, a bare number or `ts,value` (device → Vigil);
 * - `…/errors` — refusals of the device's messages (Vigil → device);
 * - `…/commands` — commands for the device (Vigil → device).
 * `<tenant>` is the tenant slug, `<device>` the device key or id.
 */
export const RESERVED = new Set(['readings', 'errors', 'commands', 'status']);

export type VigilTopic =
  | {
      readonly kind: 'readings' | 'errors' | 'commands' | 'status';
      readonly tenant: string;
      readonly device: string;
    }
  | { readonly kind: 'sensor'; readonly tenant: string; readonly device: string; readonly sensor: string };

export function parseTopic(topic: string): VigilTopic | null {
  const parts = topic.split('/');
  if (parts.length < 4 || parts[0] !== 'vigil') return null;
  const [, tenant, device, ...rest] = parts as [string, string, string, ...string[]];
  if (!tenant || !device || rest.some((p) => p === '')) return null;
  if (rest.length === 1 && RESERVED.has(rest[0]!)) {
    return { kind: rest[0] as 'readings' | 'errors' | 'commands' | 'status', tenant, device };
  }
  return { kind: 'sensor', tenant, device, sensor: rest.join('/') };
}

export function deviceTopic(tenant: string, device: string, leaf: string): string {
  return `vigil/${tenant}/${device}/${leaf}`;
}
