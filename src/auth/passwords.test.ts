import { describe, expect, it } from 'vitest';
import { commonPasswordCount, hashPassword, passwordProblem, verifyPassword } from './passwords.js';

describe('password policy', () => {
  it('bundles at least 10,000 common passwords', () => {
    expect(commonPasswordCount()).toBeGreaterThanOrEqual(10_000);
  });

  it('enforces 12–128 characters', () => {
    expect(passwordProblem('Short-pw-1')).toMatch(/at least 12/);
    expect(passwordProblem('x'.repeat(60) + 'Y'.repeat(69))).toMatch(/at most 128/);
    expect(passwordProblem('Correct-Horse-Battery-9')).toBeUndefined();
  });

  it('rejects common passwords whatever their case', () => {
    expect(passwordProblem('PASSWORD1234')).toMatch(/common/);
    expect(passwordProblem('qwertyuiop123')).toMatch(/common/);
  });

  it('rejects short passwords built on the email name and low-variety strings', () => {
    expect(passwordProblem('maintenance-77', { email: 'maintenance@acme.example.com' })).toMatch(/email/);
    expect(
      passwordProblem('a-long-passphrase-with-maintenance-inside', { email: 'maintenance@acme.example.com' }),
    ).toBeUndefined();
    expect(passwordProblem('Strong-Pass-2026!', { email: 'a@b.example.com' })).toBeUndefined();
    expect(passwordProblem('abababababababab')).toMatch(/distinct/);
  });

  it('hashes with argon2id (OWASP parameters) and verifies', async () => {
    const hash = await hashPassword('Correct-Horse-Battery-9');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(hash, 'Correct-Horse-Battery-9')).toBe(true);
    expect(await verifyPassword(hash, 'correct-horse-battery-9')).toBe(false);
    expect(await verifyPassword('not-a-hash', 'x')).toBe(false);
  });
});
