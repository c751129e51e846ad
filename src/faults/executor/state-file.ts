import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What the executor keeps on disk so a restart without a control plane still enforces policies. */
export interface PolicyState {
  version: string;
  /** Epoch ms of the last sync with the control plane. */
  syncedAt: number;
  policies: unknown[];
}

export function loadState(file: string): PolicyState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const s = JSON.parse(text) as Partial<PolicyState>;
  if (typeof s.version !== 'string' || typeof s.syncedAt !== 'number' || !Array.isArray(s.policies)) {
    throw new Error(`${file}: not an executor state file`);
  }
  return { version: s.version, syncedAt: s.syncedAt, policies: s.policies };
}

/** Written to a temporary file then renamed, so a crash mid-write leaves the previous state. */
export function saveState(file: string, state: PolicyState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}
