import { readFileSync } from 'node:fs';
import { type CountryResponse, Reader } from 'maxmind';

/**
 * Risk by the client IP's country, from a MaxMind-format database (GeoLite2/GeoIP2 Country or
 * City) and the operator's per-country settings (`GUARD_COUNTRY_RISK`, e.g. `XX=0.6`). Countries
 * not listed, and addresses the database does not know, carry no risk.
 */
export class CountryRisk {
  private readonly reader: Reader<CountryResponse>;
  private readonly cache = new Map<string, number>();

  constructor(
    file: string,
    private readonly risks: ReadonlyMap<string, number>,
  ) {
    this.reader = new Reader(readFileSync(file));
  }

  country(ip: string): string | null {
    try {
      return this.reader.get(ip)?.country?.iso_code ?? null;
    } catch {
      return null; // not an address the database can look up
    }
  }

  risk(ip: string): number {
    const hit = this.cache.get(ip);
    if (hit !== undefined) return hit;
    const code = this.country(ip);
    const risk = code ? (this.risks.get(code) ?? 0) : 0;
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(ip, risk);
    return risk;
  }
}
