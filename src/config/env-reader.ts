import { ENV_VARS, type EnvVarName, type EnvVarSpec } from './env.spec.js';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads documented variables and collects every problem instead of stopping at the first, so a
 * misconfigured deployment is fixed in one round trip. Each method returns a usable fallback
 * when the value is bad; the caller must check `problems` before using the result.
 */
export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  /** The raw value, or the documented default; empty strings count as unset. */
  raw(name: EnvVarName): string | undefined {
    const value = this.env[name];
    if (value !== undefined && value.trim() !== '') return value.trim();
    const spec: EnvVarSpec = ENV_VARS[name];
    return spec.default;
  }

  problem(name: EnvVarName, message: string): void {
    this.problems.push(`${name}: ${message}`);
  }

  string(name: EnvVarName): string | undefined {
    return this.raw(name);
  }

  int(name: EnvVarName, bounds: { min: number; max: number }, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) {
      this.problem(name, `must be an integer, got "${value}"`);
      return fallback;
    }
    const n = Number(value);
    if (n < bounds.min || n > bounds.max) {
      this.problem(name, `must be between ${bounds.min} and ${bounds.max}, got ${n}`);
      return fallback;
    }
    return n;
  }

  bool(name: EnvVarName, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const v = value.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    this.problem(name, `must be true or false, got "${value}"`);
    return fallback;
  }

  oneOf<const T extends string>(name: EnvVarName, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
    if (match === undefined) {
      this.problem(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
      return fallback;
    }
    return match;
  }

  list(name: EnvVarName): string[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  /** A URL whose scheme is one of `protocols` (without the colon). Never echoes the value: URLs carry passwords. */
  url(name: EnvVarName, protocols: readonly string[]): URL | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.problem(name, 'is not a valid URL');
      return undefined;
    }
    const scheme = url.protocol.replace(/:$/, '');
    if (!protocols.includes(scheme)) {
      this.problem(name, `must use one of ${protocols.map((p) => `${p}://`).join(', ')}, got ${scheme}://`);
      return undefined;
    }
    return url;
  }
}
