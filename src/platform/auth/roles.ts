export const ROLES = ['admin', 'agent', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** What a route demands. 'public' routes answer anyone (health, metrics, sign-in page). */
export type RouteAuth = 'public' | 'viewer' | 'agent' | 'admin';

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
  /** Agents are bound to one cluster; other roles have none. */
  clusterId: string | null;
}

/** Whether a principal of `role` may call a route demanding `need`. Admin may do everything. */
export function roleSatisfies(role: Role, need: RouteAuth): boolean {
  if (need === 'public') return true;
  if (role === 'admin') return true;
  if (need === 'viewer') return true; // agents and viewers may read
  return role === need;
}
