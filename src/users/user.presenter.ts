import type { Member, User } from './user.types.js';

/** The public shape of a user in responses (dates as RFC 3339; never hashes or secrets). */
export function presentUser(u: User) {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    isPlatformAdmin: u.isPlatformAdmin,
    totpEnabled: u.totpEnabled,
    createdAt: u.createdAt.toISOString(),
  };
}

export function presentMember(m: Member) {
  const { isPlatformAdmin: _hidden, ...user } = presentUser(m);
  return { ...user, role: m.role, status: m.status, joinedAt: m.joinedAt.toISOString() };
}
