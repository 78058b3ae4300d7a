import { createHmac } from 'node:crypto';
import { deriveKey, type KeyMaterial } from '../security/crypto.js';

export const GENESIS_HASH = '0'.repeat(64);

/** The fields a row's hash covers, in a fixed order. */
export interface ChainedFields {
  seq: number;
  ts: number;
  tenant_id: string | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  severity: string;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: string;
}

/**
 * Each row's hash is an HMAC (under a key derived from SECRET_KEY) over the previous row's hash
 * and this row's fields. Editing, deleting or inserting a row breaks the chain, and unlike a plain
 * hash chain it cannot be recomputed by someone with write access to the database alone.
 */
export class AuditChain {
  private readonly keys: Map<string, Buffer>;
  readonly currentKeyId: string;

  constructor(secrets: { secretKey: KeyMaterial; secretKeyPrevious: readonly KeyMaterial[] }) {
    this.currentKeyId = secrets.secretKey.id;
    this.keys = new Map(
      [secrets.secretKey, ...secrets.secretKeyPrevious].map((k) => [k.id, deriveKey(k, 'audit-chain')]),
    );
  }

  hash(prevHash: string, row: ChainedFields, keyId = this.currentKeyId): string | undefined {
    const key = this.keys.get(keyId);
    if (!key) return undefined;
    const canonical = JSON.stringify([
      row.seq,
      row.ts,
      row.tenant_id,
      row.actor_type,
      row.actor_id,
      row.action,
      row.target_type,
      row.target_id,
      row.outcome,
      row.severity,
      row.ip,
      row.user_agent,
      row.request_id,
      row.details,
    ]);
    return createHmac('sha256', key).update(prevHash).update('\n').update(canonical).digest('hex');
  }
}
