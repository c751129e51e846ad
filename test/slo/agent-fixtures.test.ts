/**
 * Dialect detection and aggregation on real expositions (linkerd2 and traefik test fixtures).
 * Expected values were read off the fixture files:
 *  - linkerd/sampleMetrics.txt: every HTTP series is inbound on the admin port 4191
 *    (target_addr="0.0.0.0:4191"), tls="no_identity"; response_total{status_code="200",
 *    classification="success"} 29; response_latency_ms: 29 in le="1" (and every bucket above), _sum 0;
 *    no outbound HTTP series (outbound series are tcp_* only).
 *  - traefik/metrics-sample.txt: traefik_service_requests_total 2 (whoami1@docker), 1 (service-without@file),
 *    1 (service-resp@file), all code 200 GET; two router series (router1/router2@docker → whoami1@docker, 1 each);
 *    entry-point series for webA/webB/webC; no duration histograms.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/slo/agent/aggregate.js';
import { DialectClassifier } from '../../src/slo/agent/dialect.js';
import { SeriesFilter } from '../../src/slo/agent/filter.js';
import { processExposition, TargetState, type TargetMeta } from '../../src/slo/agent/pipeline.js';
import { fixturesDir } from '../support/env.js';

const dir = fixturesDir();
const LINKERD_BOUNDS = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000, 50000];

/**
 * Scrape `text` on a target whose previous scrape was empty (primed, nothing recorded): every
 * series is new, so the snapshot carries the fixture's full values.
 */
function scrapeFresh(text: string, opts: { meta?: TargetMeta; adminPorts?: number[]; prefix?: string } = {}) {
  const state = new TargetState();
  const classifier = new DialectClassifier(opts.prefix ?? 'otel_');
  const filter = new SeriesFilter({ excludeNamespaces: ['linkerd', 'linkerd-viz', 'kube-system'], adminPorts: opts.adminPorts });
  const meta = opts.meta ?? { namespace: 'emojivoto', deployment: 'slow-cooker', pod: 'slow-cooker-opaque-pod-mjqsw' };
  processExposition('', meta, state, new Aggregator(), { classifier, filter, now: 0 });
  const agg = new Aggregator();
  const res = processExposition(text, meta, state, agg, { classifier, filter, now: 15_000 });
  return { res, snap: agg.build(), state };
}

/** The fixture re-exported by an OpenTelemetry Collector: names prefixed, otel_scope_* labels added. */
function viaCollector(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) return line.slice(0, 7) + prefix + line.slice(7);
      if (line === '' || line.startsWith('#')) return line;
      const scope = 'otel_scope_name="github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver",otel_scope_version="0.99.0"';
      const brace = line.indexOf('{');
      const space = line.indexOf(' ');
      if (brace >= 0 && brace < space) return `${prefix}${line.slice(0, brace + 1)}${scope},${line.slice(brace + 1)}`;
      return `${prefix}${line.slice(0, space)}{${scope}}${line.slice(space)}`;
    })
    .join('\n');
}

describe.skipIf(!dir)('Linkerd proxy fixture (linkerd2 testutil/prommatch/testdata/sampleMetrics.txt)', () => {
  const text = dir ? readFileSync(path.join(dir, 'linkerd/sampleMetrics.txt'), 'utf8') : '';

  it('is detected as the Linkerd dialect and all its HTTP traffic is admin-port traffic, dropped by default', () => {
    const { res, snap, state } = scrapeFresh(text);
    expect(res.dialects).toEqual(['linkerd']);
    expect([...state.dialects]).toEqual(['linkerd']);
    // response_total (1) + response_latency_ms: 26 buckets, _count, _sum
    expect(res.samples).toBe(29);
    expect(res.filtered).toBe(29);
    expect(res.used).toBe(0);
    expect(res.parseErrors).toBe(0);
    expect(snap).toEqual({ services: [], edges: [], ingress: [] });
  });

  it('aggregates the inbound series into the pod\'s service when the admin-port filter is off', () => {
    const { snap } = scrapeFresh(text, { adminPorts: [] });
    expect(snap.edges).toEqual([]);
    expect(snap.ingress).toEqual([]);
    expect(snap.services).toEqual([
      {
        namespace: 'emojivoto',
        name: 'slow-cooker',
        requests: [{ status_code: '200', classification: 'success', count: 29 }],
        tls_requests: 0, // tls="no_identity"
        latency: { bounds: LINKERD_BOUNDS, counts: [29, ...new Array(25).fill(0)], sum_ms: 0, count: 29 },
      },
    ]);
  });

  it('reads the same exposition through the OpenTelemetry Collector exporter (prefix, otel_scope_* labels)', () => {
    const direct = scrapeFresh(text, { adminPorts: [] }).snap;
    const collected = scrapeFresh(viaCollector(text, 'otel_'), { adminPorts: [] });
    expect(collected.res.dialects).toEqual(['linkerd']);
    expect(collected.snap).toEqual(direct);
    const custom = scrapeFresh(viaCollector(text, 'mesh_'), { adminPorts: [], prefix: 'mesh_' });
    expect(custom.snap).toEqual(direct);
    // with the wrong prefix configured nothing is recognised
    expect(scrapeFresh(viaCollector(text, 'mesh_'), { adminPorts: [] }).res.samples).toBe(0);
  });
});

describe.skipIf(!dir)('Traefik fixture (traefik integration/simple_test.go metrics lines)', () => {
  const text = dir ? readFileSync(path.join(dir, 'traefik/metrics-sample.txt'), 'utf8') : '';

  it('is detected as Traefik; service-level series become ingress, entry points are dropped', () => {
    const { res, snap } = scrapeFresh(text, { meta: { namespace: 'traefik', deployment: 'traefik' } });
    expect(res.dialects).toEqual(['traefik']);
    // 3 service request lines + 2 router lines; bytes and entry-point families are skipped unread
    expect(res.samples).toBe(5);
    expect(snap.services).toEqual([]);
    expect(snap.edges).toEqual([]);
    const empty = { bounds: [], counts: [0], sum_ms: 0, count: 0 };
    expect(snap.ingress).toEqual([
      { service_key: 'service-resp@file', requests: [{ code: '200', method: 'GET', count: 1 }], latency: empty },
      { service_key: 'service-without@file', requests: [{ code: '200', method: 'GET', count: 1 }], latency: empty },
      // router1 + router2 also count these 2 requests: router families must not double them
      { service_key: 'whoami1@docker', requests: [{ code: '200', method: 'GET', count: 2 }], latency: empty },
    ]);
  });

  it('falls back to router-level series when a scrape has no service-level ones', () => {
    const routerOnly = text
      .split('\n')
      .filter((l) => l.startsWith('traefik_router_'))
      .join('\n');
    const { snap } = scrapeFresh(routerOnly);
    expect(snap.ingress.map((i) => [i.service_key, i.requests])).toEqual([['whoami1@docker', [{ code: '200', method: 'GET', count: 2 }]]]);
  });
});
