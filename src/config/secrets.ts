import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { generateKey, type KeyMaterial, MIN_KEY_BYTES, toKeyMaterial } from '../security/crypto.js';
import type { EnvVarName } from './env.spec.js';
import type { EnvReader } from './env-reader.js';

/** File in DATA_DIR holding generated development secrets. */
export const SECRETS_FILE = 'secrets.json';

const HOW_TO = 'generate one with `vigil secret generate` (or `openssl rand -base64 32`)';

// Values people paste from examples; matched case-insensitively as substrings.
const PLACEHOLDERS = [
  'changeme',
  'change-me',
  'change_me',
  'your-secret',
  'your_secret',
  'yoursecret',
  'your-key',
  'secret-key',
  'secretkey',
  'placeholder',
  'example',
  'replace-me',
  'replaceme',
  'default',
  'password',
  'xxxxxxxx',
];

/**
 * Interprets a key as hex (only hex digits), base64/base64url (what `secret generate` prints; 16+
 * characters of that alphabet), or else its UTF-8 bytes. Returns the problem in words when the value is not acceptable key material.
 */
export function parseKeyMaterial(value: string): { bytes: Buffer } | { problem: string } {
  const lower = value.toLowerCase();
  if (PLACEHOLDERS.some((p) => lower.includes(p))) {
    return { problem: `looks like a placeholder, not a key; ${HOW_TO}` };
  }
  let bytes: Buffer;
  // Encoded keys are measured decoded at any length, so `openssl rand -hex 16` counts as the 16 bytes it is.
  if (/^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0) {
    bytes = Buffer.from(value, 'hex');
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value) && value.length >= 16) {
    bytes = Buffer.from(value, value.includes('+') || value.includes('/') ? 'base64' : 'base64url');
  } else {
    bytes = Buffer.from(value, 'utf8');
  }
  if (bytes.length < MIN_KEY_BYTES) {
    return {
      problem: `is too short: ${bytes.length} bytes of key material, need at least ${MIN_KEY_BYTES}; ${HOW_TO}`,
    };
  }
  // A long run of one repeated character (or two) is not random, whatever its length.
  if (new Set(bytes).size < 8) {
    return { problem: `has too little variety to be a random key; ${HOW_TO}` };
  }
  return { bytes };
}

export interface SecretsConfig {
  readonly secretKey: KeyMaterial;
  readonly secretKeyPrevious: readonly KeyMaterial[];
  readonly encryptionKey: KeyMaterial;
  readonly encryptionKeyPrevious: readonly KeyMaterial[];
}

interface GeneratedSecrets {
  SECRET_KEY: string;
  ENCRYPTION_KEY: string;
}

/**
 * Development convenience: keys generated once with a CSPRNG, stored 0600 in DATA_DIR and reused,
 * so tokens and encrypted rows survive restarts. Never used in production.
 */
function loadOrCreateGenerated(dataDir: string, notices: string[]): GeneratedSecrets {
  const file = path.join(dataDir, SECRETS_FILE);
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if (mode !== 0o600) {
      chmodSync(file, 0o600);
      notices.push(`tightened permissions of ${file} from ${mode.toString(8)} to 600`);
    }
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<GeneratedSecrets>;
    if (typeof parsed.SECRET_KEY === 'string' && typeof parsed.ENCRYPTION_KEY === 'string') {
      return { SECRET_KEY: parsed.SECRET_KEY, ENCRYPTION_KEY: parsed.ENCRYPTION_KEY };
    }
    throw new Error(`${file} is damaged: expected SECRET_KEY and ENCRYPTION_KEY; move it away to regenerate`);
  }
  mkdirSync(dataDir, { recursive: true });
  const generated: GeneratedSecrets = { SECRET_KEY: generateKey(), ENCRYPTION_KEY: generateKey() };
  // Written whole to a private temp file, then linked into place: link() fails if another process
  // got there first (then we read theirs), and nobody ever sees a half-written file.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateGenerated(dataDir, notices);
    throw err;
  } finally {
    unlinkSync(temp);
  }
  notices.push(`generated SECRET_KEY and ENCRYPTION_KEY for development into ${file} (mode 0600)`);
  return generated;
}

/** Resolves the four key variables, reporting problems through the reader. */
export function readSecrets(
  reader: EnvReader,
  opts: { production: boolean; dataDir: string; notices: string[] },
): SecretsConfig {
  let generated: GeneratedSecrets | undefined;
  const fallback = toKeyMaterial(Buffer.alloc(MIN_KEY_BYTES));

  const required = (name: 'SECRET_KEY' | 'ENCRYPTION_KEY'): KeyMaterial => {
    let value = reader.raw(name);
    if (value === undefined) {
      if (opts.production) {
        reader.problem(name, `is required in production; ${HOW_TO}`);
        return fallback;
      }
      try {
        generated ??= loadOrCreateGenerated(opts.dataDir, opts.notices);
      } catch (err) {
        reader.problem(name, `could not be generated: ${(err as Error).message}`);
        return fallback;
      }
      value = generated[name];
    }
    return parseOrReport(reader, name, value) ?? fallback;
  };
  const optional = (name: EnvVarName): KeyMaterial[] => {
    const value = reader.raw(name);
    if (value === undefined) return [];
    const key = parseOrReport(reader, name, value);
    return key ? [key] : [];
  };

  return Object.freeze({
    secretKey: required('SECRET_KEY'),
    secretKeyPrevious: Object.freeze(optional('SECRET_KEY_PREVIOUS')),
    encryptionKey: required('ENCRYPTION_KEY'),
    encryptionKeyPrevious: Object.freeze(optional('ENCRYPTION_KEY_PREVIOUS')),
  });
}

function parseOrReport(reader: EnvReader, name: EnvVarName, value: string): KeyMaterial | undefined {
  const parsed = parseKeyMaterial(value);
  if ('problem' in parsed) {
    reader.problem(name, parsed.problem);
    return undefined;
  }
  return toKeyMaterial(parsed.bytes);
}
