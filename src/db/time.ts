/** Nullable epoch-ms column to Date. */
export function dateOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}
