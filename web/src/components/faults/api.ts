/**
 * The faults API as the dashboard calls it. Wire types come from the server's own modules (type-only
 * imports, erased at build time), so the page cannot drift from the contract.
 */
import type { FaultPolicy, FaultRule, StringMatcher } from '../../../../src/faults/policy/types';
import type { ActiveInterval } from '../../../../src/faults/store';
import type { policyStatus, summarize } from '../../../../src/faults/views';
import { ApiError, getToken } from '../../api/client';
import type { ErrorBody as ApiErrorBody } from '../../../../src/platform/schemas';

export type { ActiveInterval, FaultPolicy, FaultRule, StringMatcher };
export type FaultSummary = ReturnType<typeof summarize>;
export type ExecutorView = FaultSummary['executors'][number];
export type PolicyCounts = FaultSummary['policies'][number];
export type PolicyStatusReply = ReturnType<typeof policyStatus>;
export type PolicyStatusLine = PolicyStatusReply['policies'][number];
export interface PoliciesReply {
  policies: FaultPolicy[];
}
export interface ActiveIntervalsReply {
  service: string;
  namespace: string | null;
  since: number;
  now: number;
  intervals: ActiveInterval[];
}

const enc = encodeURIComponent;
export const faultPaths = {
  policies: '/v1/policies',
  status: '/v1/policies/status',
  create: '/v1/policies/create',
  one: (name: string) => `/v1/policies/${enc(name)}`,
  summary: '/api/v1/faults/summary',
  intervals: '/api/v1/faults/active-intervals',
};

/**
 * Send a policy as YAML (the server validates it and names the bad field) or delete one.
 * A raw body, so the server sees the text the user typed: its 400 names fields as they were spelled.
 */
export async function sendPolicy(method: 'POST' | 'PUT' | 'DELETE', path: string, yamlText?: string): Promise<{ warnings: string[] }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (yamlText !== undefined) headers['content-type'] = 'application/yaml';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: yamlText });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the Vigil server. Is it running?', path);
  }
  const text = await res.text();
  let body: (Partial<ApiErrorBody> & { warnings?: string[] }) | undefined;
  try {
    body = text ? (JSON.parse(text) as typeof body) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, body?.error ?? `http_${res.status}`, body?.message ?? `HTTP ${res.status}`, path, body?.field);
  return { warnings: body?.warnings ?? [] };
}
