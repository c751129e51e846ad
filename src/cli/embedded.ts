import type { VigilServer } from '../platform/runtime.js';

export interface Embedded {
  banner: string[];
  stop(): Promise<void>;
}

/** The demo fleet and an embedded agent that `vigil up` runs beside the server. */
export async function startEmbedded(_server: VigilServer, _url: string): Promise<Embedded | undefined> {
  return undefined;
}
