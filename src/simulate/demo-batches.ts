/**
 * `vigil up` uploads the demo vehicles' batches through the public API (as a vehicle would), once
 * per data directory, so the Batches page opens on completed reports.
 */
import type { Logger } from 'pino';
import { demoVehicles } from './vehicle-logs.js';

export async function seedDemoBatches(opts: { serverUrl: string; token: string; seed: number; now: number; log: Logger }): Promise<number> {
  const auth = { authorization: `Bearer ${opts.token}` };
  const call = async (method: string, p: string, body?: BodyInit, type = 'application/json') => {
    const res = await fetch(`${opts.serverUrl}${p}`, { method, headers: { ...auth, ...(body ? { 'content-type': type } : {}) }, body });
    if (res.status >= 300) throw new Error(`${method} ${p} answered ${res.status}: ${await res.text()}`);
    return (await res.json().catch(() => ({}))) as Record<string, unknown>;
  };
  const existing = await call('GET', '/api/v1/batches?limit=1');
  if ((existing.batches as unknown[]).length > 0) return 0;
  // The stories happened over the last day.
  const vehicles = demoVehicles(opts.seed, opts.now - 24 * 3_600_000);
  for (const v of vehicles) {
    const b = await call('POST', '/api/v1/batches', JSON.stringify({ vehicle_id: v.vehicle_id, vin: v.vin, labels: { campaign: 'C-2026-11', demo: 'true' } }));
    const id = b.batch_id as string;
    for (const f of v.files) await call('POST', `/api/v1/batches/${id}/files?name=${encodeURIComponent(f.name)}`, new Uint8Array(f.data), 'application/octet-stream');
    await call('POST', `/api/v1/batches/${id}/complete`);
  }
  opts.log.info({ batches: vehicles.length }, 'demo vehicle batches uploaded');
  return vehicles.length;
}
