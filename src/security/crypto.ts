import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/**
 * Key material with a short public identifier. The id lets ciphertexts and tokens say which key
 * made them, so a rotated-out key (`*_PREVIOUS`) can still be found without trying every key.
 */
export interface KeyMaterial {
  readonly id: string;
  readonly bytes: Buffer;
}

export const MIN_KEY_BYTES = 32;

/** A fresh key as `vigil secret generate` prints it: 32 random bytes, base64url. */
export function generateKey(): string {
  return randomBytes(32).toString('base64url');
}

/** Derives the public key id; one-way so the id reveals nothing about the key. */
export function keyId(bytes: Buffer): string {
  return createHmac('sha256', bytes).update('vigil-key-id').digest('base64url').slice(0, 8);
}

export function toKeyMaterial(bytes: Buffer): KeyMaterial {
  return Object.freeze({ id: keyId(bytes), bytes });
}

/** Derives an independent sub-key per purpose so one secret never serves two algorithms directly. */
export function deriveKey(key: KeyMaterial, purpose: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', key.bytes, 'vigil', purpose, length));
}

/** Cryptographically random, URL-safe token (default 256 bits). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * Compares two secrets in time independent of where they differ and of their lengths (both are
 * hashed first, so a length mismatch does not return early).
 */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(sha256(a), sha256(b)) && Buffer.byteLength(a) === Buffer.byteLength(b);
}

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

/**
 * AES-256-GCM for secrets at rest. Output is `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url
 * parts): self-describing, so rows written before a key rotation stay readable while the old key
 * is configured as previous. `aad` binds a ciphertext to its context (e.g. the row id) so it
 * cannot be copied into another row.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly currentId: string;

  constructor(current: KeyMaterial, previous: readonly KeyMaterial[] = []) {
    this.currentId = current.id;
    this.keys = new Map([current, ...previous].map((k) => [k.id, deriveKey(k, 'aes-256-gcm')]));
  }

  encrypt(plaintext: string | Buffer, aad?: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    if (aad !== undefined) cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      FORMAT,
      this.currentId,
      iv.toString('base64url'),
      ct.toString('base64url'),
      tag.toString('base64url'),
    ].join('.');
  }

  decrypt(token: string, aad?: string): Buffer {
    const parts = token.split('.');
    if (parts.length !== 5 || parts[0] !== FORMAT) throw new DecryptionError('not a Vigil ciphertext');
    const [, kid, ivPart, ctPart, tagPart] = parts as [string, string, string, string, string];
    const key = this.keys.get(kid);
    if (!key) throw new DecryptionError(`no configured key has id ${kid}`);
    const iv = Buffer.from(ivPart, 'base64url');
    const tag = Buffer.from(tagPart, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new DecryptionError('malformed ciphertext');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      if (aad !== undefined) decipher.setAAD(Buffer.from(aad));
      return Buffer.concat([decipher.update(Buffer.from(ctPart, 'base64url')), decipher.final()]);
    } catch {
      throw new DecryptionError('ciphertext failed authentication');
    }
  }

  decryptString(token: string, aad?: string): string {
    return this.decrypt(token, aad).toString('utf8');
  }

  /** True when the value was written with a key other than the current one and should be re-encrypted. */
  needsRotation(token: string): boolean {
    return token.split('.')[1] !== this.currentId;
  }
}

/**
 * HMAC-SHA256 signatures (signed links, state parameters, webhook payloads) under SECRET_KEY.
 * Output is `<keyId>.<mac>`; signatures made with a `*_PREVIOUS` key still verify during rotation.
 * `purpose` derives an independent key per use, so a signature for one purpose never verifies for another.
 */
export class Signer {
  private readonly keys: Map<string, Buffer>;
  private readonly currentId: string;

  constructor(current: KeyMaterial, previous: readonly KeyMaterial[] = [], purpose = 'signature') {
    this.currentId = current.id;
    this.keys = new Map([current, ...previous].map((k) => [k.id, deriveKey(k, `hmac-sha256:${purpose}`)]));
  }

  sign(data: string | Buffer): string {
    return `${this.currentId}.${this.mac(this.keys.get(this.currentId)!, data)}`;
  }

  verify(data: string | Buffer, signature: string): boolean {
    const dot = signature.indexOf('.');
    const key = dot > 0 ? this.keys.get(signature.slice(0, dot)) : undefined;
    if (!key) return false;
    return constantTimeEqual(this.mac(key, data), signature.slice(dot + 1));
  }

  private mac(key: Buffer, data: string | Buffer): string {
    return createHmac('sha256', key).update(data).digest('base64url');
  }
}

/**
 * Keyed one-way digests for short secrets that must be looked up (recovery codes): unlike a plain
 * SHA-256, a stolen database alone does not let anyone test guesses offline. Digests carry the key
 * id; `candidates` covers a previous key during rotation.
 */
export class KeyedHash {
  private readonly keys: { id: string; key: Buffer }[];

  constructor(current: KeyMaterial, previous: readonly KeyMaterial[] = [], purpose = 'keyed-hash') {
    this.keys = [current, ...previous].map((k) => ({ id: k.id, key: deriveKey(k, `keyed-hash:${purpose}`) }));
  }

  hash(value: string): string {
    return this.digest(this.keys[0]!, value);
  }

  /** Every digest `value` may be stored under (current key first). */
  candidates(value: string): string[] {
    return this.keys.map((k) => this.digest(k, value));
  }

  private digest(k: { id: string; key: Buffer }, value: string): string {
    return `${k.id}.${createHmac('sha256', k.key).update(value).digest('base64url')}`;
  }
}
