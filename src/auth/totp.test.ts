import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, otpauthUri, stepAt, totpCode, verifyTotp } from './totp.js';

// RFC 6238 appendix B test vectors (SHA-1, secret "12345678901234567890"), truncated to 6 digits.
const RFC_SECRET = base32Encode(Buffer.from('12345678901234567890'));
const VECTORS: [number, string][] = [
  [59, '287082'],
  [1111111109, '081804'],
  [1111111111, '050471'],
  [1234567890, '005924'],
  [2000000000, '279037'],
];

describe('TOTP', () => {
  it('matches the RFC 6238 test vectors', () => {
    for (const [t, code] of VECTORS) expect(totpCode(RFC_SECRET, stepAt(t * 1000))).toBe(code);
  });

  it('round-trips base32', () => {
    const buf = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255, 17]);
    expect(base32Decode(base32Encode(buf))).toEqual(buf);
  });

  it('accepts one step of drift either way, not two', () => {
    const now = 1_700_000_000_000;
    const step = stepAt(now);
    expect(verifyTotp(RFC_SECRET, totpCode(RFC_SECRET, step - 1), now, null)).toBe(step - 1);
    expect(verifyTotp(RFC_SECRET, totpCode(RFC_SECRET, step + 1), now, null)).toBe(step + 1);
    expect(verifyTotp(RFC_SECRET, totpCode(RFC_SECRET, step + 2), now, null)).toBeUndefined();
    expect(verifyTotp(RFC_SECRET, 'abcdef', now, null)).toBeUndefined();
  });

  it('refuses a code whose step was already used', () => {
    const now = 1_700_000_000_000;
    const step = stepAt(now);
    const code = totpCode(RFC_SECRET, step);
    expect(verifyTotp(RFC_SECRET, code, now, step)).toBeUndefined();
    expect(verifyTotp(RFC_SECRET, code, now, step - 1)).toBe(step);
  });

  it('builds an otpauth URI for QR codes', () => {
    expect(otpauthUri('ABC', 'ops@example.com')).toBe(
      'otpauth://totp/Vigil%3Aops%40example.com?secret=ABC&issuer=Vigil&algorithm=SHA1&digits=6&period=30',
    );
  });
});
