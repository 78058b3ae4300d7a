/** Nullable Date to RFC 3339 for responses. */
export function isoOrNull(d: Date | null): string | null {
  return d?.toISOString() ?? null;
}
