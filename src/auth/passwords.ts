import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';

/** OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane. */
// Algorithm is a const enum (not importable under verbatimModuleSyntax); 2 is Argon2id.
const ARGON2 = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

let common: Set<string> | undefined;
/** ~49,000 most common passwords (zxcvbn's list, MIT), loaded on first use. */
function commonPasswords(): Set<string> {
  common ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
  return common;
}

export function commonPasswordCount(): number {
  return commonPasswords().size;
}

/** Why a password is not acceptable, or undefined if it is. */
export function passwordProblem(password: string, context: { email?: string } = {}): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) return 'is one of the most common passwords; choose another';
  const local = context.email?.toLowerCase().split('@')[0] ?? '';
  // A short password built around the account name is guessable; a long passphrase containing it is fine.
  if (local.length >= 4 && lower.includes(local) && lower.length < 20)
    return 'must not be based on your email address';
  if (new Set(password).size < 4) return 'has too few distinct characters';
  return undefined;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password.normalize('NFKC'), ARGON2);
}

export async function verifyPassword(hashed: string, password: string): Promise<boolean> {
  try {
    return await verify(hashed, password.normalize('NFKC'));
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;
/**
 * Spends the same argon2 time as a real check, so "unknown user" and "wrong password" cannot be
 * told apart by timing.
 */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= hashPassword('vigil-dummy-password-for-timing');
  await verifyPassword(await dummy, password);
}
