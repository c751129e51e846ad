/** The module's jobs: registered as leader jobs, so two replicas on one Redis run each once. */
import { afterAll, describe, expect, it } from 'vitest';
import { uniqueId } from '../support/backends.js';
import { engineUrl } from '../support/env.js';
import { postJson, startAnomalyServer, summaries, type AnomalyTestServer } from './helpers.js';

const redis = engineUrl('REDIS');

describe('anomaly jobs', () => {
  const servers: AnomalyTestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('registers the baseline, retention and (with a Tempo URL) poll jobs, all leader-only', async () => {
    const t = await startAnomalyServer({ 'server.jobs': true, 'anomaly.tempo.url': 'http://127.0.0.1:9' });
    servers.push(t);
    const jobs = t.server.ctx.scheduler.status();
    expect(jobs.map((j) => j.name).sort()).toEqual(['anomaly.baselines', 'anomaly.retention', 'anomaly.tempo-poll']);
    expect(jobs.every((j) => j.leader)).toBe(true);
  });

  it.skipIf(!redis)('two replicas on one Redis: only the lease holder recomputes baselines, and the other sees them', async () => {
    const shared = { 'server.jobs': true, 'redis.url': redis, 'redis.prefix': `${uniqueId('replicas')}:` };
    const a = await startAnomalyServer(shared);
    servers.push(a);
    const b = await startAnomalyServer(shared);
    servers.push(b);
    await b.call('/api/v1/anomaly/summaries', postJson({ summaries: summaries(60, (i) => 100 + i) }));
    expect(await b.server.ctx.scheduler.runNow('anomaly.baselines')).toBe(false);
    expect(await a.server.ctx.scheduler.runNow('anomaly.baselines')).toBe(true);
    const r = await b.call('/v1/baseline?service=checkout&endpoint=POST%20/checkout&hour=14&dayType=weekday');
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ sampleCount: 60, p50: 129.5 });
  });
});
