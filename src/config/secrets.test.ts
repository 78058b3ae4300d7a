import { describe, expect, it } from 'vitest';
import { parseKeyMaterial } from './secrets.js';

describe('parseKeyMaterial', () => {
  it('reads base64url as printed by `vigil secret generate`', () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));
    const parsed = parseKeyMaterial(bytes.toString('base64url'));
    expect('bytes' in parsed && parsed.bytes.equals(bytes)).toBe(true);
  });

  it('reads standard base64 (openssl rand -base64 32)', () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => 255 - i * 3));
    const parsed = parseKeyMaterial(bytes.toString('base64'));
    expect('bytes' in parsed && parsed.bytes.equals(bytes)).toBe(true);
  });

  it('reads 64 hex digits as 32 bytes', () => {
    const hex = '00112233445566778899aabbccddeeff0123456789abcdef0f1e2d3c4b5a6978';
    const parsed = parseKeyMaterial(hex);
    expect('bytes' in parsed && parsed.bytes.length).toBe(32);
  });

  it('takes other text as UTF-8 bytes, if long and varied enough', () => {
    expect('bytes' in parseKeyMaterial('correct horse battery staple, twice as long!')).toBe(true);
    expect(parseKeyMaterial('a short passphrase')).toEqual({
      problem: expect.stringMatching(/too short: 18 bytes/),
    });
  });
});
