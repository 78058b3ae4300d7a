import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  constantTimeEqual,
  DecryptionError,
  generateKey,
  randomToken,
  SecretBox,
  Signer,
  toKeyMaterial,
} from './crypto.js';

const key = () => toKeyMaterial(randomBytes(32));

describe('SecretBox (AES-256-GCM)', () => {
  it('round-trips and never repeats a ciphertext', () => {
    const box = new SecretBox(key());
    const a = box.encrypt('smtp-password');
    const b = box.encrypt('smtp-password');
    expect(a).not.toBe(b);
    expect(a).not.toContain('smtp-password');
    expect(box.decryptString(a)).toBe('smtp-password');
  });

  it('names the key that encrypted each value', () => {
    const k = key();
    expect(new SecretBox(k).encrypt('x').split('.')[1]).toBe(k.id);
  });

  it('rejects tampered ciphertexts', () => {
    const box = new SecretBox(key());
    const parts = box.encrypt('webhook-secret').split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 1;
    parts[3] = ct.toString('base64url');
    expect(() => box.decrypt(parts.join('.'))).toThrow(DecryptionError);
    expect(() => box.decrypt('not.a.ciphertext')).toThrow(DecryptionError);
  });

  it('binds a value to its context with associated data', () => {
    const box = new SecretBox(key());
    const token = box.encrypt('secret', 'webhook:1');
    expect(box.decryptString(token, 'webhook:1')).toBe('secret');
    expect(() => box.decrypt(token, 'webhook:2')).toThrow(DecryptionError);
  });

  it('keeps values written with a rotated-out key readable', () => {
    const oldKey = key();
    const newKey = key();
    const written = new SecretBox(oldKey).encrypt('legacy');
    const rotated = new SecretBox(newKey, [oldKey]);
    expect(rotated.decryptString(written)).toBe('legacy');
    expect(rotated.needsRotation(written)).toBe(true);
    expect(rotated.needsRotation(rotated.encrypt('fresh'))).toBe(false);
    expect(() => new SecretBox(newKey).decrypt(written)).toThrow(/no configured key/);
  });
});

describe('helpers', () => {
  it('compares secrets without depending on where they differ', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual(Buffer.from('k'), 'k')).toBe(true);
  });

  it('makes URL-safe random tokens and keys', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => randomToken()));
    expect(tokens.size).toBe(100);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(generateKey(), 'base64url')).toHaveLength(32);
  });
});

describe('Signer (HMAC-SHA256)', () => {
  it('verifies its own signatures and rejects altered data or signatures', () => {
    const signer = new Signer(key());
    const sig = signer.sign('tenant=1&exp=123');
    expect(signer.verify('tenant=1&exp=123', sig)).toBe(true);
    expect(signer.verify('tenant=2&exp=123', sig)).toBe(false);
    expect(signer.verify('tenant=1&exp=123', `${sig.slice(0, -2)}AA`)).toBe(false);
    expect(signer.verify('tenant=1&exp=123', 'garbage')).toBe(false);
  });

  it('accepts signatures of the previous key during rotation, never signs with it', () => {
    const oldKey = key();
    const newKey = key();
    const oldSig = new Signer(oldKey).sign('x');
    const rotated = new Signer(newKey, [oldKey]);
    expect(rotated.verify('x', oldSig)).toBe(true);
    expect(rotated.sign('x').startsWith(`${newKey.id}.`)).toBe(true);
    expect(new Signer(newKey).verify('x', oldSig)).toBe(false);
  });

  it('keeps purposes apart', () => {
    const k = key();
    expect(new Signer(k, [], 'webhook').verify('x', new Signer(k, [], 'link').sign('x'))).toBe(false);
  });
});
