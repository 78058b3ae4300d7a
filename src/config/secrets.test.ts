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

describe('short encoded keys', () => {
  it('measures hex and base64 keys by their decoded length', () => {
    expect(parseKeyMaterial('0f1e2d3c4b5a69788796a5b4c3d2e1f0')).toEqual({
      problem: expect.stringMatching(/16 bytes/),
    });
    expect(parseKeyMaterial(Buffer.alloc(16, 'k9').toString('base64'))).toEqual({
      problem: expect.stringMatching(/too short: 16 bytes|too little variety/),
    });
    const sixteen = Buffer.from(Array.from({ length: 16 }, (_, i) => i * 13 + 1)).toString('base64');
    expect(parseKeyMaterial(sixteen)).toEqual({ problem: expect.stringMatching(/too short: 16 bytes/) });
  });
});
