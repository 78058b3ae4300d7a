/** The score a detector gives at exactly its firing level: the ensemble's default threshold. */
export const FIRE = 0.7;

/**
 * Maps a non-negative deviation `x` onto [0, 1) so that `x = fire` gives FIRE: linear below,
 * approaching 1 above. Every detector reports through it, so their scores are comparable.
 */
export function levelScore(x: number, fire: number): number {
  if (!(x > 0)) return 0;
  return x < fire ? (FIRE * x) / fire : 1 - ((1 - FIRE) * fire) / x;
}

/** A spread's square root, floored so a constant signal does not divide by zero. */
export function scaleOf(variance: number, center: number): number {
  const floor = 1e-9 * (1 + Math.abs(center));
  const sd = Math.sqrt(variance > 0 ? variance : 0);
  return sd > floor ? sd : floor;
}
