/** GET /api/v2/slo/mesh/topology and /mesh/services/{namespace}/{name}: services, edges, one service. */
import { histDistribution, histTotal, histogramQuantile } from '../../math/histogram.js';
import { addCounts, emptyGolden, evaluateStatus, sloMetrics, type Golden } from '../../math/slo.js';
import { serviceKey, type ResolvedTargets } from '../../math/targets.js';
import { historySeries, type TimeRange } from '../../math/time.js';
import type { Entity } from '../entities.js';
import { UnknownService } from '../errors.js';
import type { ReadContext } from './context.js';
import { cmp, metricsOut, round, stepSeconds } from './shared.js';

function nodeOut(cx: ReadContext, namespace: string, name: string, g: Golden, seconds: number, t: ResolvedTargets, currentRps: number | null = null, outbound?: Golden) {
  const m = sloMetrics(g, seconds);
  const codes = Object.entries(g.codes ?? {})
    .map(([code, count]) => ({ code, count }))
    .sort((a, b) => cmp(a.code, b.code));
  return {
    id: serviceKey(namespace, name),
    namespace,
    name,
    rps: metricsOut(m).rps,
    total_requests: round(g.requests, 6) ?? 0,
    p50_latency: round(m.p50_latency, 3),
    p95_latency: round(m.p95_latency, 3),
    p99_latency: round(m.p99_latency, 3),
    error_rate: round(m.error_rate, 5),
    mtls_percent: round(g.requests > 0 ? (100 * g.tls) / g.requests : null, 3),
    status: evaluateStatus(m, t.primary, cx.minStatus),
    latency_distribution: histDistribution(g.hist),
    status_codes: codes,
    covered_seconds: round(seconds, 3) ?? 0,
    current_rps: round(currentRps, 4),
    // A caller the mesh sees no inbound traffic for (the ingress, a job): drawn as a source of its calls.
    role: g.requests === 0 && outbound && outbound.requests > 0 ? ('source' as const) : ('service' as const),
    outbound_rps: round(outbound && seconds > 0 ? outbound.requests / seconds : 0, 4) ?? 0,
  };
}

function edgeOut(e: Entity, seconds: number) {
  const g = e.g;
  // Every layout counts: a mean over the first layout's count alone doubles when two layouts mix.
  const histCount = histTotal(g.hist);
  return {
    source: serviceKey(e.parts.src_namespace, e.parts.src_name),
    target: serviceKey(e.parts.dst_namespace, e.parts.dst_name),
    rps: round(seconds > 0 ? g.requests / seconds : 0, 4) ?? 0,
    total_requests: round(g.requests, 6) ?? 0,
    p95_latency: round(histogramQuantile(0.95, g.hist), 3),
    avg_latency: round(histCount > 0 ? g.sumMs / histCount : null, 3),
    error_rate: round(g.requests > 0 ? (100 * g.failures) / g.requests : null, 5),
  };
}

/** GET /api/v2/slo/mesh/topology */
export async function topology(cx: ReadContext, cluster: string, range: TimeRange) {
  return cx.readRange(cluster, range, async (db, { now, w, u, dataFrom, seconds }) => {
    const rateNow = await cx.currentRates(db, 'service', cluster, {}, now, dataFrom);
    const services = await cx.repo.windowEntities(db, 'service', cluster, w, u, {}, { hist: true, codes: true });
    const edges = await cx.repo.windowEntities(db, 'edge', cluster, w, u, {}, { hist: true });
    const targets = await cx.targetIndex(db, cluster);
    const nodes = new Map<string, { namespace: string; name: string; g: Golden; key: string | null; out: Golden }>();
    for (const e of services.values()) nodes.set(serviceKey(e.parts.namespace, e.parts.name), { namespace: e.parts.namespace, name: e.parts.name, g: e.g, key: e.key, out: emptyGolden() });
    for (const e of edges.values()) {
      for (const [ns, n] of [
        [e.parts.src_namespace, e.parts.src_name],
        [e.parts.dst_namespace, e.parts.dst_name],
      ]) {
        const id = serviceKey(ns, n);
        if (!nodes.has(id)) nodes.set(id, { namespace: ns, name: n, g: emptyGolden(), key: null, out: emptyGolden() });
      }
      const src = nodes.get(serviceKey(e.parts.src_namespace, e.parts.src_name))!;
      addCounts(src.out, e.g);
    }
    return {
      ...cx.judgedHead(cluster, range, { now, w, dataFrom, seconds }),
      nodes: [...nodes.entries()]
        .sort(([a], [b]) => cmp(a, b))
        .map(([, n]) => nodeOut(cx, n.namespace, n.name, n.g, seconds, targets.service(n.namespace, n.name), n.key === null ? null : rateNow(n.key), n.out)),
      edges: [...edges.values()].map((e) => edgeOut(e, seconds)).sort((a, b) => cmp(a.source, b.source) || cmp(a.target, b.target)),
    };
  });
}

/** GET /api/v2/slo/mesh/services/{namespace}/{name} */
export async function serviceDetail(cx: ReadContext, cluster: string, namespace: string, name: string, range: TimeRange) {
  return cx.readRange(cluster, range, async (db, { now, w, u, dataFrom, seconds }) => {
    const s = historySeries(range, now);
    const filters = { namespace, name };
    const rateNow = await cx.currentRates(db, 'service', cluster, filters, now, dataFrom);
    const svc = await cx.repo.windowEntities(db, 'service', cluster, w, u, filters, { hist: true, codes: true });
    const inbound = await cx.repo.windowEntities(db, 'edge', cluster, w, u, { dst_namespace: namespace, dst_name: name }, { hist: true });
    const outbound = await cx.repo.windowEntities(db, 'edge', cluster, w, u, { src_namespace: namespace, src_name: name }, { hist: true });
    const series = await cx.repo.series(db, 'service', cluster, s.from, s.step, s.points, u, filters, { hist: true });
    if (
      !svc.map.size &&
      !inbound.map.size &&
      !outbound.map.size &&
      !series.map.size &&
      !(await cx.repo.exists(db, 'service', cluster, filters)) &&
      !(await cx.repo.exists(db, 'edge', cluster, { dst_namespace: namespace, dst_name: name })) &&
      !(await cx.repo.exists(db, 'edge', cluster, { src_namespace: namespace, src_name: name }))
    ) {
      throw new UnknownService(cluster, namespace, name);
    }
    const targets = await cx.targetIndex(db, cluster);
    const mappings = (await cx.repo.mappings(db, cluster, { service_name: name })).filter((m) => !m.namespace || m.namespace === namespace);
    const g = [...svc.values()][0]?.g ?? emptyGolden();
    const out = emptyGolden();
    for (const e of outbound.values()) addCounts(out, e.g);
    const points = [...series.map.values()][0]?.points ?? [];
    const history = Array.from({ length: s.points }, (_, i) => {
      const p = points[i];
      const m = sloMetrics(p ?? emptyGolden(), stepSeconds(s, i, now, dataFrom));
      return {
        timestamp: s.from + i * s.step,
        rps: round(m.rps, 4) ?? 0,
        p50_latency: round(m.p50_latency, 3),
        p95_latency: round(m.p95_latency, 3),
        p99_latency: round(m.p99_latency, 3),
        error_rate: round(m.error_rate, 5),
        mtls_percent: round(p && p.requests > 0 ? (100 * p.tls) / p.requests : null, 3),
      };
    });
    return {
      ...cx.judgedHead(cluster, range, { now, w, dataFrom, seconds }),
      step_seconds: s.step / 1000,
      node: nodeOut(cx, namespace, name, g, seconds, targets.service(namespace, name), rateNow(null), out),
      targets: targets.service(namespace, name).byWindow,
      history,
      inbound: [...inbound.values()].map((e) => edgeOut(e, seconds)).sort((a, b) => cmp(a.source, b.source)),
      outbound: [...outbound.values()].map((e) => edgeOut(e, seconds)).sort((a, b) => cmp(a.target, b.target)),
      routes: mappings.map((m) => ({ domain: m.domain, path_prefix: m.path_prefix })).sort((a, b) => cmp(a.domain, b.domain) || cmp(a.path_prefix, b.path_prefix)),
    };
  });
}
