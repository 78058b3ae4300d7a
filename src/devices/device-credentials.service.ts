import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { auditContext, recordAuditIn } from '../audit/audit.service.js';
import { hashToken, newOpaqueToken } from '../auth/tokens.js';
import { AppError } from '../http/errors/catalogue.js';
import type { Services } from '../services.js';
import {
  type DeviceCredential,
  expireOtherDeviceCredentials,
  findDeviceCredential,
  insertDeviceCredential,
  revokeDeviceCredential,
} from './device-credentials.repository.js';

/**
 * Issues a credential for a device. With `rotateGraceS`, the device's older credentials keep
 * working for that long (so a field device can be reconfigured) and then stop. The token is
 * returned once; only its hash is kept.
 */
export async function issueDeviceCredential(
  services: Services,
  request: FastifyRequest,
  tenantId: string,
  input: {
    deviceId: string;
    expiresAt?: number | undefined;
    rotateGraceS?: number | undefined;
    /** A client certificate's SHA-256 fingerprint (hex): the device logs in with that certificate (MQTT over TLS). */
    certificateFingerprint?: string | undefined;
  },
): Promise<{ credential: DeviceCredential; token: string | null }> {
  const fingerprint = input.certificateFingerprint;
  const token = fingerprint ? null : newOpaqueToken('device');
  const now = Date.now();
  const id = randomUUID();
  const credential = await services.database.db.transaction().execute(async (trx) => {
    const created = await insertDeviceCredential(trx, {
      id,
      tenant_id: tenantId,
      device_id: input.deviceId,
      prefix: token ? token.slice(0, 12) : `cert:${fingerprint!.slice(0, 8)}`,
      token_hash: token ? hashToken(token) : certificateHash(fingerprint!),
      created_by: request.principal?.kind === 'user' ? request.principal.userId : null,
      created_at: now,
      expires_at: input.expiresAt ?? null,
    });
    if (input.rotateGraceS !== undefined) {
      await expireOtherDeviceCredentials(trx, tenantId, input.deviceId, id, now + input.rotateGraceS * 1000);
    }
    await recordAuditIn(services, trx, {
      ...auditContext(request),
      action: input.rotateGraceS !== undefined ? 'device_credential.rotate' : 'device_credential.create',
      outcome: 'success',
      targetType: 'device',
      targetId: input.deviceId,
      details: {
        credentialId: id,
        kind: fingerprint ? 'certificate' : 'token',
        ...(input.rotateGraceS !== undefined ? { graceS: input.rotateGraceS } : {}),
      },
    });
    return created;
  });
  return { credential, token };
}

export async function revokeDeviceCredentialById(
  services: Services,
  request: FastifyRequest,
  tenantId: string,
  id: string,
): Promise<void> {
  const { db } = services.database;
  const credential = await findDeviceCredential(db, tenantId, id);
  if (!credential) throw new AppError('NOT_FOUND', 'No such device credential');
  await db.transaction().execute(async (trx) => {
    await revokeDeviceCredential(trx, tenantId, id, Date.now());
    await recordAuditIn(services, trx, {
      ...auditContext(request),
      action: 'device_credential.revoke',
      outcome: 'success',
      targetType: 'device',
      targetId: credential.deviceId,
      details: { credentialId: id },
    });
  });
}

/** How a certificate credential is stored: its fingerprint, marked so it can never equal a token hash. */
export function certificateHash(fingerprintHex: string): string {
  return `cert:${fingerprintHex.toLowerCase()}`;
}
