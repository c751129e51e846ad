/** config.anomaly → module settings: defaults, Tempo auth, and errors that name the config key. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { resolveAnomalySettings, traceUrl, anomalyModule } from '../../src/anomaly/index.js';

const settings = (flags: Record<string, unknown> = {}) => resolveAnomalySettings(loadConfig({ env: {}, flags }));

describe('anomaly settings', () => {
  it('defaults follow the seed: factor 2, k 10, 50 samples, Asia/Taipei, 30 s baselines, no Tempo, no webhook', () => {
    const s = settings();
    expect(s.rule).toMatchObject({ factor: 2, k: 10, minSamples: 50, timeZone: 'Asia/Taipei', weekendDays: [0, 6] });
    expect(s).toMatchObject({ windowSize: 1000, seenTtlMs: 25 * 3600_000, learnHeldAfterMs: 3600_000, baselineIntervalMs: 30_000, baselineBatch: 500, tempo: null, webhook: null, retentionMs: 30 * 86_400_000 });
    expect(s.normalize('GET /users/123')).toBe('GET /users/{id}');
  });

  it('maps Tempo and webhook settings; a bearer token wins over basic auth', () => {
    const s = settings({
      'anomaly.tempo.url': 'http://tempo:3200',
      'anomaly.tempo.tenant': 'team-a',
      'anomaly.tempo.username': 'u',
      'anomaly.tempo.password': 'p',
      'anomaly.tempo.query': '{ status = error }',
      'anomaly.tempo.pollInterval': '30s',
      'anomaly.webhook.url': 'https://hooks.example/x',
      'anomaly.webhook.minInterval': '10m',
    });
    expect(s.tempo).toEqual({
      client: { baseUrl: 'http://tempo:3200', tenant: 'team-a', auth: { type: 'basic', username: 'u', password: 'p' }, limit: 1000, q: '{ status = error }', tags: undefined },
      pollIntervalMs: 30_000,
      lookbackMs: 120_000,
      maxCatchUpMs: 25 * 3600_000 - 120_000,
    });
    expect(s.webhook).toEqual({ url: 'https://hooks.example/x', minIntervalMs: 600_000, retries: 3 });
    expect(settings({ 'anomaly.tempo.url': 'http://t', 'anomaly.tempo.username': 'u', 'anomaly.tempo.bearerToken': 'tok' }).tempo?.client.auth).toEqual({ type: 'bearer', token: 'tok' });
  });

  it('ties the Tempo catch-up to the replay horizon (seenTtl), so a catch-up never learns a trace twice', () => {
    const s = settings({ 'anomaly.tempo.url': 'http://tempo:3200', 'anomaly.seenTtl': '48h', 'anomaly.tempo.lookback': '5m' });
    expect(s.seenTtlMs).toBe(48 * 3600_000);
    expect(s.tempo?.maxCatchUpMs).toBe(48 * 3600_000 - 300_000);
    // every trace a catch-up can reach back to is still remembered
    expect(s.tempo!.maxCatchUpMs + s.tempo!.lookbackMs).toBeLessThanOrEqual(s.seenTtlMs);
    expect(() => settings({ 'anomaly.tempo.url': 'http://tempo:3200', 'anomaly.seenTtl': '1m' })).toThrow(/anomaly\.seenTtl.*anomaly\.tempo\.lookback/);
  });

  it.each([
    [{ 'anomaly.timeZone': 'Mars/Base' }, 'anomaly.timeZone'],
    [{ 'anomaly.overrides': JSON.stringify({ cart: { factor: -1 } }) }, 'anomaly.overrides'],
    [{ 'anomaly.normalizeRules': JSON.stringify([{ pattern: '(', replacement: 'x' }]) }, 'anomaly.normalizeRules[0].pattern'],
    [{ 'anomaly.tempo.url': 'tempo:3200' }, 'anomaly.tempo.url'],
    [{ 'anomaly.webhook.url': 'ftp://x' }, 'anomaly.webhook.url'],
  ])('a bad value is a ConfigError naming the key: %j', (flags, key) => {
    let err: unknown;
    try {
      anomalyModule(loadConfig({ env: {}, flags }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toMatch(new RegExp(`^${key.replace(/[.[\]]/g, '\\$&')}`));
    expect((err as Error).message).toContain(key);
  });

  it('fills trace URL templates with encoded values', () => {
    const t = { traceId: 'abc', service: 'check out', endpoint: 'POST /x?y', startMs: 1_700_000_000_500, durationMs: 1000 };
    expect(traceUrl('', t)).toBeUndefined();
    expect(traceUrl('https://g/explore?traceId={traceId}&svc={service}&ep={endpoint}&from={startMs}&to={endMs}&s={startSec}&e={endSec}', t)).toBe(
      'https://g/explore?traceId=abc&svc=check%20out&ep=POST%20%2Fx%3Fy&from=1700000000500&to=1700000001500&s=1699999940&e=1700000062',
    );
  });
});
