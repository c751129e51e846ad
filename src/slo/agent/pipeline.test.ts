import { describe, expect, it } from 'vitest';
import { Aggregator } from './aggregate.js';
import { DialectClassifier } from './dialect.js';
import { SeriesFilter } from './filter.js';
import { deploymentFromPod, processExposition, sweepTarget, TargetState, type TargetMeta } from './pipeline.js';
import type { ServiceMetrics } from '../snapshot.js';

const META: TargetMeta = { namespace: 'shop', deployment: 'web', pod: 'web-7d9f8c6b5-x2k4q' };
const EXCLUDE = ['linkerd', 'linkerd-viz', 'kube-system'];

function runner(opts: { prefix?: string; exclude?: string[]; meta?: TargetMeta } = {}) {
  const state = new TargetState();
  const classifier = new DialectClassifier(opts.prefix ?? 'otel_');
  const filter = new SeriesFilter({ excludeNamespaces: opts.exclude ?? EXCLUDE });
  let now = 1_000_000;
  return {
    state,
    scrape(text: string, at?: number) {
      now = at ?? now + 15_000;
      const agg = new Aggregator();
      const res = processExposition(text, opts.meta ?? META, state, agg, { classifier, filter, now });
      return { res, agg, snap: agg.build() };
    },
    get now() {
      return now;
    },
  };
}

const inbound = (status: string, cls: string, v: number, extra = '') =>
  `response_total{direction="inbound",target_addr="10.42.0.5:8080",target_ip="10.42.0.5",target_port="8080",tls="true",client_id="x.shop.serviceaccount.identity.linkerd.cluster.local"${extra},status_code="${status}",classification="${cls}"} ${v}\n`;

const requestsOf = (s: ServiceMetrics | undefined) => Object.fromEntries((s?.requests ?? []).map((r) => [`${r.status_code}/${r.classification}`, r.count]));

/** A Linkerd latency histogram series with the given per-bucket counts over bounds 1,2,5 (ms). */
function latency(counts: [number, number, number, number], sum: number, extra = ''): string {
  const l = `direction="inbound",target_addr="10.42.0.5:8080",target_port="8080",tls="true"${extra},status_code="200"`;
  let c = 0;
  const lines = ['1', '2', '5', '+Inf'].map((le, i) => {
    c += counts[i];
    return `response_latency_ms_bucket{${l},le="${le}"} ${c}`;
  });
  return ['# TYPE response_latency_ms histogram', ...lines, `response_latency_ms_sum{${l}} ${sum}`, `response_latency_ms_count{${l}} ${c}`].join('\n') + '\n';
}

describe('per-series deltas', () => {
  it('records only on the first scrape of a target, then reports increases', () => {
    const r = runner();
    const first = r.scrape('# TYPE response_total counter\n' + inbound('200', 'success', 100) + inbound('503', 'failure', 4));
    expect(first.res.contributed).toBe(false);
    expect(first.snap.services).toEqual([]);
    const second = r.scrape('# TYPE response_total counter\n' + inbound('200', 'success', 130) + inbound('503', 'failure', 6));
    expect(requestsOf(second.snap.services[0])).toEqual({ '200/success': 30, '503/failure': 2 });
    expect(second.snap.services[0]).toMatchObject({ namespace: 'shop', name: 'web', tls_requests: 32 });
  });

  it('treats a counter that went down as restarted: its delta is the new value', () => {
    const r = runner();
    r.scrape(inbound('200', 'success', 100));
    r.scrape(inbound('200', 'success', 150));
    const after = r.scrape(inbound('200', 'success', 7));
    expect(requestsOf(after.snap.services[0])).toEqual({ '200/success': 7 });
    const next = r.scrape(inbound('200', 'success', 10));
    expect(requestsOf(next.snap.services[0])).toEqual({ '200/success': 3 });
  });

  it('counts the whole value of a series that appears after the first scrape (it started at zero)', () => {
    const r = runner();
    r.scrape(inbound('200', 'success', 100));
    const s = r.scrape(inbound('200', 'success', 110) + inbound('500', 'failure', 3));
    expect(requestsOf(s.snap.services[0])).toEqual({ '200/success': 10, '500/failure': 3 });
  });

  it('never reports a negative delta, even for an inconsistent histogram', () => {
    const r = runner();
    r.scrape(latency([5, 5, 5, 5], 100));
    // one bucket went down while others went up: the series restarted as a whole
    const s = r.scrape(latency([1, 9, 5, 6], 180));
    const h = s.snap.services[0].latency;
    expect(h.counts).toEqual([1, 9, 5, 6]);
    expect(h.count).toBe(21);
    expect(h.sum_ms).toBe(180);
    for (const c of h.counts) expect(c).toBeGreaterThanOrEqual(0);
  });

  it('turns cumulative buckets into per-bucket deltas with the layout kept exactly', () => {
    const r = runner();
    r.scrape(latency([1, 2, 3, 4], 50));
    const s = r.scrape(latency([3, 2, 8, 4], 90));
    expect(s.snap.services[0].latency).toEqual({ bounds: [1, 2, 5], counts: [2, 0, 5, 0], sum_ms: 40, count: 7 });
  });

  it('a changed process_start_time_seconds marks a restart even when the new values are higher', () => {
    const r = runner();
    r.scrape('process_start_time_seconds 1000\n' + inbound('200', 'success', 100));
    r.scrape('process_start_time_seconds 1000\n' + inbound('200', 'success', 120));
    const s = r.scrape('process_start_time_seconds 2000\n' + inbound('200', 'success', 150));
    expect(s.res.restarted).toBe(true);
    expect(requestsOf(s.snap.services[0])).toEqual({ '200/success': 150 });
    // wherever the exporter puts it (Linkerd: near the end), and only the unlabelled one counts
    const end = (v: number, st: number) => inbound('200', 'success', v) + `# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds ${st}\n`;
    const labelled = (v: number, st: number) => inbound('200', 'success', v) + `process_start_time_seconds{job="x"} ${st}\n`;
    expect(requestsOf(r.scrape(end(160, 2000)).snap.services[0])).toEqual({ '200/success': 10 });
    expect(requestsOf(r.scrape(end(170, 3000)).snap.services[0])).toEqual({ '200/success': 170 });
    expect(requestsOf(r.scrape(labelled(175, 4000)).snap.services[0])).toEqual({ '200/success': 5 });
  });

  it('after a restart, a series that comes back later counts from zero even above its old value', () => {
    const r = runner();
    r.scrape('process_start_time_seconds 1000\n' + inbound('200', 'success', 100) + inbound('500', 'failure', 5));
    r.scrape('process_start_time_seconds 1000\n' + inbound('200', 'success', 120) + inbound('500', 'failure', 5));
    // restarted: the 500 series is not there yet
    expect(requestsOf(r.scrape('process_start_time_seconds 2000\n' + inbound('200', 'success', 4)).snap.services[0])).toEqual({ '200/success': 4 });
    // it reappears at 6 (> 5 before the restart): all 6 are new
    const s = r.scrape('process_start_time_seconds 2000\n' + inbound('200', 'success', 9) + inbound('500', 'failure', 6));
    expect(requestsOf(s.snap.services[0])).toEqual({ '200/success': 5, '500/failure': 6 });
  });

  it('forgets series not seen for the TTL', () => {
    const r = runner();
    r.scrape(inbound('200', 'success', 100) + inbound('500', 'failure', 10), 0);
    r.scrape(inbound('200', 'success', 110), 15_000);
    expect(r.state.series.size).toBe(2);
    expect(sweepTarget(r.state, 15_000, 20_000)).toBe(0);
    r.scrape(inbound('200', 'success', 120), 30_000);
    // the 500 series was last seen at 0: older than the 20 s TTL at 30 s
    expect(sweepTarget(r.state, 30_000, 20_000)).toBe(1);
    expect(r.state.series.size).toBe(1);
    // it reappears with a higher value: without memory of 10 it counts as new (20), not as +10
    const s = r.scrape(inbound('200', 'success', 120) + inbound('500', 'failure', 20), 45_000);
    expect(requestsOf(s.snap.services[0])).toEqual({ '200/success': 0, '500/failure': 20 });
  });

  it('ignores NaN, infinite and negative samples', () => {
    const r = runner();
    r.scrape(inbound('200', 'success', 10));
    const s = r.scrape(inbound('200', 'success', NaN) + inbound('201', 'success', -5) + inbound('202', 'success', Infinity));
    expect(requestsOf(s.snap.services[0])).toEqual({});
    const t = r.scrape(inbound('200', 'success', 12));
    expect(requestsOf(t.snap.services[0])).toEqual({ '200/success': 2 });
  });
});

describe('Traefik seconds → milliseconds', () => {
  const traefik = (c: [number, number, number], sum: number) => {
    const l = 'code="200",method="GET",protocol="http",service="shop-web-abc@kubernetescrd"';
    let n = 0;
    const b = ['0.1', '0.3', '+Inf'].map((le, i) => {
      n += c[i];
      return `traefik_service_request_duration_seconds_bucket{${l},le="${le}"} ${n}`;
    });
    return [
      '# TYPE traefik_service_request_duration_seconds histogram',
      ...b,
      `traefik_service_request_duration_seconds_sum{${l}} ${sum}`,
      `traefik_service_request_duration_seconds_count{${l}} ${n}`,
      '# TYPE traefik_service_requests_total counter',
      `traefik_service_requests_total{${l}} ${n}`,
    ].join('\n');
  };

  it('multiplies bucket bounds and sums by 1000', () => {
    const r = runner();
    r.scrape(traefik([1, 1, 1], 0.6));
    const s = r.scrape(traefik([4, 2, 1], 1.35));
    expect(s.snap.ingress).toEqual([
      {
        service_key: 'shop-web-abc@kubernetescrd',
        requests: [{ code: '200', method: 'GET', count: 4 }],
        latency: { bounds: [100, 300], counts: [3, 1, 0], sum_ms: 750, count: 4 },
      },
    ]);
  });
});

describe('filter', () => {
  it('drops probe routes, the proxy admin port and excluded namespaces', () => {
    const r = runner();
    const text = (v: number) =>
      inbound('200', 'success', v) +
      inbound('200', 'success', v * 2, ',route_name="probe"')+
      `response_total{direction="inbound",target_addr="0.0.0.0:4191",target_port="4191",tls="true",status_code="200",classification="success"} ${v * 3}\n` +
      `response_total{direction="inbound",target_addr="0.0.0.0:4191",tls="true",status_code="200",classification="success"} ${v * 5}\n` +
      `response_total{direction="outbound",target_addr="10.0.0.9:8086",dst_namespace="linkerd",dst_deployment="linkerd-destination",status_code="200",classification="success"} ${v * 7}\n`;
    r.scrape(text(1));
    const s = r.scrape(text(2));
    expect(requestsOf(s.snap.services[0])).toEqual({ '200/success': 1 });
    expect(s.snap.edges).toEqual([]);
    expect(s.res.filtered).toBe(4);
  });

  it('drops everything from a target in an excluded namespace, with a configurable list', () => {
    const viz = runner({ meta: { namespace: 'linkerd-viz', deployment: 'prometheus' } });
    viz.scrape(inbound('200', 'success', 1));
    expect(viz.scrape(inbound('200', 'success', 5)).snap.services).toEqual([]);
    const custom = runner({ meta: { namespace: 'linkerd-viz', deployment: 'prometheus' }, exclude: ['kube-system'] });
    custom.scrape(inbound('200', 'success', 1));
    expect(requestsOf(custom.scrape(inbound('200', 'success', 5)).snap.services[0])).toEqual({ '200/success': 4 });
  });
});

describe('edges and classification', () => {
  const out = (dst: string, status: string, cls: string, v: number) =>
    `response_total{direction="outbound",authority="${dst}.shop.svc.cluster.local:8080",target_addr="10.42.0.9:8080",tls="true",dst_deployment="${dst}",dst_namespace="shop",dst_pod="${dst}-1",status_code="${status}",classification="${cls}"} ${v}\n`;
  it('counts outbound requests per destination, failures = classification failure (5xx, not 4xx)', () => {
    const r = runner();
    r.scrape(out('orders', '200', 'success', 10) + out('orders', '404', 'success', 1) + out('orders', '503', 'failure', 0) + out('cart', '200', 'success', 5));
    const s = r.scrape(out('orders', '200', 'success', 30) + out('orders', '404', 'success', 4) + out('orders', '503', 'failure', 2) + out('cart', '200', 'success', 6));
    expect(s.snap.edges.map((e) => [e.src_name, e.dst_name, e.requests, e.failures])).toEqual([
      ['web', 'cart', 1, 0],
      ['web', 'orders', 25, 2],
    ]);
  });
});

describe('OpenTelemetry Collector dialect', () => {
  it('strips the configured prefix, ignores otel_scope_* labels and reads pod metadata from labels', () => {
    const r = runner({ prefix: 'otelcol_', meta: {} });
    const line = (v: number, version: string) =>
      `otelcol_response_total{direction="inbound",k8s_namespace_name="media",k8s_deployment_name="images",k8s_pod_name="images-6f7d8-abcde",otel_scope_name="otelcol/prometheusreceiver",otel_scope_version="${version}",target_port="8080",tls="true",status_code="200",classification="success"} ${v}\n`;
    r.scrape(line(100, '0.98.0'));
    // a collector upgrade changes otel_scope_version: still the same series, not a new one
    const s = r.scrape(line(104, '0.99.0'));
    expect(s.res.dialects).toEqual(['linkerd']);
    expect(s.snap.services.map((x) => [x.namespace, x.name, requestsOf(x)])).toEqual([['media', 'images', { '200/success': 4 }]]);
  });
});

describe('ingress-nginx', () => {
  it('reads requests and the seconds histogram and learns the route from host/path labels', () => {
    const r = runner({ meta: {} });
    const l = 'controller_class="k8s.io/ingress-nginx",host="shop.example.com",ingress="storefront",method="GET",namespace="shop",path="/cart",service="cart",status="200"';
    const text = (n: number, fast: number, sum: number) =>
      [
        '# TYPE nginx_ingress_controller_requests counter',
        `nginx_ingress_controller_requests{${l}} ${n}`,
        '# TYPE nginx_ingress_controller_request_duration_seconds histogram',
        `nginx_ingress_controller_request_duration_seconds_bucket{${l},le="0.005"} ${fast}`,
        `nginx_ingress_controller_request_duration_seconds_bucket{${l},le="+Inf"} ${n}`,
        `nginx_ingress_controller_request_duration_seconds_sum{${l}} ${sum}`,
        `nginx_ingress_controller_request_duration_seconds_count{${l}} ${n}`,
      ].join('\n') + '\n';
    r.scrape(text(10, 5, 1));
    const s = r.scrape(text(20, 12, 1.5));
    expect(s.snap.ingress).toHaveLength(1);
    expect(s.snap.ingress[0].requests).toEqual([{ code: '200', method: 'GET', count: 10 }]);
    expect(s.snap.ingress[0].latency).toEqual({ bounds: [5], counts: [7, 3], sum_ms: 500, count: 10 });
    expect([...s.agg.metricRoutes.values()]).toEqual([
      expect.objectContaining({ domain: 'shop.example.com', path_prefix: '/cart', service_key: s.snap.ingress[0].service_key, service_name: 'cart' }),
    ]);
  });
});

describe('helpers', () => {
  it('derives deployments from pod names', () => {
    expect(deploymentFromPod('web-7d9f8c6b5-x2k4q')).toBe('web');
    expect(deploymentFromPod('api-gateway-5c4b8d9f7b-qwert')).toBe('api-gateway');
    expect(deploymentFromPod('postgres-0')).toBe('postgres');
  });
});

describe('wire limits', () => {
  it('clips label values the snapshot schema would refuse and folds buckets beyond 200 bounds into +Inf', async () => {
    const { HistogramAccumulator } = await import('./histogram.js');
    const acc = new HistogramAccumulator();
    const bounds = Array.from({ length: 250 }, (_, i) => i + 1);
    acc.add(bounds, bounds.map((b) => b), 260, 1000);
    const h = acc.toLatency();
    expect(h.bounds).toHaveLength(200);
    expect(h.counts).toHaveLength(201);
    expect(h.counts[200]).toBe(60);
    expect(h.count).toBe(260);
    const r = runner();
    r.scrape(inbound('200', 'success', 1) + inbound('2000000000', 'success-but-very-long-classification-name', 1));
    const s = r.scrape(inbound('200', 'success', 2) + inbound('2000000000', 'success-but-very-long-classification-name', 3));
    for (const q of s.snap.services[0].requests) {
      expect(q.status_code.length).toBeLessThanOrEqual(8);
      expect(q.classification.length).toBeLessThanOrEqual(32);
    }
  });
});

describe('several bucket layouts in one aggregate', () => {
  it('merges them without splitting a bucket', async () => {
    const { HistogramAccumulator } = await import('./histogram.js');
    const acc = new HistogramAccumulator();
    acc.add([10, 100], [2, 5], 6, 300); // 2 ≤ 10, 3 in (10,100], 1 above
    acc.add([10, 50, 100], [1, 1, 4], 4, 200); // 1 ≤ 10, 0 in (10,50], 3 in (50,100]
    const h = acc.toLatency();
    // 50 is not exact for the first layout (it has 3 in (10,100]): left out, never guessed
    expect(h).toEqual({ bounds: [10, 100], counts: [3, 6, 1], sum_ms: 500, count: 10 });
  });
});
