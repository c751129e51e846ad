export const ROLES = ['admin', 'agent', 'viewer', 'executor'] as const;
export type Role = (typeof ROLES)[number];

/** What a route demands. 'public' routes answer anyone (health, metrics, sign-in page). */
export type RouteAuth = 'public' | 'viewer' | 'agent' | 'admin' | 'executor' | 'policy-read';
// 'executor': fault executors (and admins) only. 'policy-read': anyone who may read ('viewer'), and executors.

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
  // An executor token sits in every sidecar: it reads fault policies and reports, nothing else.
  if (role === 'executor') return need === 'executor' || need === 'policy-read';
  if (need === 'policy-read') return true;
  if (need === 'viewer') return true; // agents and viewers may read
  return role === need;
}
