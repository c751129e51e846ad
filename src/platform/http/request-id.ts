import { randomUUID } from 'node:crypto';

/**
 * Fastify's genReqId: ids shaped like a UUID (what clients and log searches expect), made of a
 * random prefix per process and a counter, so minting one per request draws no randomness.
 */
export function requestIds(): () => string {
  const prefix = randomUUID().slice(0, 24);
  let n = 0;
  return () => prefix + (++n).toString(16).padStart(12, '0');
}
