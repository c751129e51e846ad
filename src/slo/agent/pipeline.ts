/**
 * One scrape of one target: parse → keep our families → filter → per-series delta → aggregate (pure).
 *
 * Delta rules (Prometheus `increase` semantics, seed 000):
 *  - the first successful scrape of a target only records values;
 *  - afterwards a series seen for the first time started at zero after the previous scrape, so its
 *    whole value is the delta (the first 5xx of a pod must not be lost);
 *  - a value below the previous one means the counter restarted: the delta is the new value. A
 *    histogram series (its buckets, `_sum` and `_count` together) restarts as a whole: if any of its
 *    samples went down, every one of them counts its new value;
 *  - a changed `process_start_time_seconds` marks the whole target restarted (catches restarts whose
 *    new counts already exceed the old ones) and forgets its remembered values;
 *  - deltas are never negative; NaN and infinite values are ignored;
 *  - series not seen for the TTL are forgotten (see {@link sweepTarget}).
 * Seconds (Traefik, ingress-nginx) become milliseconds: bucket bounds and sums × 1000. Bucket layouts
 * are kept as exposed.
 */
import { parseExposition, type ExpositionVisitor, type Labels } from '../../prom/textparse/index.js';
import type { RouteInfo } from '../snapshot.js';
import { Aggregator, requestKey } from './aggregate.js';
import { DialectClassifier, SampleKind, Source, isIgnoredLabel, type Dialect, type SampleRole } from './dialect.js';
import type { SeriesFilter } from './filter.js';
import { secondsToMs } from './histogram.js';
import { counterDelta, SeriesTable } from './series.js';

/** Pod metadata the agent attaches to a target's series (Linkerd proxies carry no source labels). */
export interface TargetMeta {
  namespace?: string;
  deployment?: string;
  pod?: string;
}

/** Delta state of one target, kept across scrapes. */
export class TargetState {
  readonly series = new SeriesTable();
  /** A successful scrape has been recorded: later new series count from zero. */
  primed = false;
  /** `process_start_time_seconds` of the last scrape, when exposed. */
  startTime: number | undefined;
  /** Epoch ms of the last successful scrape. */
  lastOk = 0;
  dialects = new Set<Dialect>();
}

export interface ProcessOptions {
  classifier: DialectClassifier;
  filter: SeriesFilter;
  /** Epoch ms of the scrape. */
  now: number;
  contentType?: string | null;
}

export interface ProcessResult {
  /** Samples the parser delivered from families we keep. */
  samples: number;
  /** Samples that contributed (after the filter). */
  used: number;
  /** Samples dropped by the filter. */
  filtered: number;
  /** Samples we could not attribute (no service name, no destination). */
  unattributed: number;
  parseErrors: number;
  /** Series seen for the first time in this scrape. */
  newSeries: number;
  /** The target restarted since the previous scrape (process start time changed). */
  restarted: boolean;
  /** Deltas were added to the aggregate (false on the priming scrape). */
  contributed: boolean;
  dialects: Dialect[];
}

/** Deployment name from a pod name (`web-7d9f8c6b5-x2k4q` → `web`, `db-0` → `db`). */
export function deploymentFromPod(pod: string): string {
  const rs = /^(.+)-[a-z0-9]{5,10}-[a-z0-9]{5}$/.exec(pod);
  if (rs) return rs[1];
  const ss = /^(.+)-[0-9]+$/.exec(pod);
  if (ss) return ss[1];
  const ds = /^(.+)-[a-z0-9]{5}$/.exec(pod);
  return ds ? ds[1] : pod;
}

/**
 * Identity of a series: the sample name and its labels in exposition order, minus otel_scope_*
 * (a collector upgrade changes otel_scope_version, not the series). `join` builds one flat string,
 * much cheaper to hash than a concatenated rope.
 */
function seriesKey(name: string, labels: Labels, ignored: boolean): string {
  if (!ignored) return name + '\u0001' + labels.join('\u0002');
  const kept: string[] = [];
  for (let i = 0; i < labels.length; i += 2) if (!isIgnoredLabel(labels[i])) kept.push(labels[i], labels[i + 1]);
  return name + '\u0001' + kept.join('\u0002');
}

/** Identity of a histogram series: its first sample's name and its labels without `le`. */
function groupKey(name: string, labels: Labels): string {
  const n = labels.length;
  let ignored = false;
  let leAt = -1;
  for (let i = 0; i < n; i += 2) {
    const l = labels[i];
    if (l === 'le') leAt = i;
    else if (isIgnoredLabel(l)) ignored = true;
  }
  if (!ignored && leAt < 0) return name + '\u0001' + labels.join('\u0002');
  if (!ignored && leAt === n - 2) return name + '\u0001' + labels.slice(0, n - 2).join('\u0002');
  const kept: string[] = [];
  for (let i = 0; i < n; i += 2) if (labels[i] !== 'le' && !isIgnoredLabel(labels[i])) kept.push(labels[i], labels[i + 1]);
  return name + '\u0001' + kept.join('\u0002');
}

/** Same histogram series: equal labels except `le` and ignored ones (strings are usually shared by the parser). */
function sameSeries(a: Labels, b: Labels): boolean {
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && (a[i] === 'le' || isIgnoredLabel(a[i]))) i += 2;
    while (j < b.length && (b[j] === 'le' || isIgnoredLabel(b[j]))) j += 2;
    if (i >= a.length || j >= b.length) return i >= a.length && j >= b.length;
    if (a[i] !== b[j] || a[i + 1] !== b[j + 1]) return false;
    i += 2;
    j += 2;
  }
}

/** Label values one sample needs, filled by a single pass over its labels. */
class Scan {
  /** Some label is ignored for identity (otel_scope_*). */
  ignored = false;
  le: string | undefined;
  direction: string | undefined;
  targetPort: string | undefined;
  targetAddr: string | undefined;
  routeName: string | undefined;
  tls: string | undefined;
  statusCode: string | undefined;
  classification: string | undefined;
  dstNamespace: string | undefined;
  dstName: string | undefined;
  dstLow: string | undefined;
  namespace: string | undefined;
  deployment: string | undefined;
  pod: string | undefined;
  code: string | undefined;
  method: string | undefined;
  service: string | undefined;
  ingress: string | undefined;
  host: string | undefined;
  path: string | undefined;
  servicePort: string | undefined;

  run(labels: Labels): void {
    this.le = this.direction = this.targetPort = this.targetAddr = this.routeName = this.tls = undefined;
    this.statusCode = this.classification = this.dstNamespace = this.dstName = this.dstLow = undefined;
    this.namespace = this.deployment = this.pod = this.code = this.method = this.service = undefined;
    this.ingress = this.host = this.path = this.servicePort = undefined;
    this.ignored = false;
    for (let i = 0; i < labels.length; i += 2) {
      const n = labels[i];
      const v = labels[i + 1];
      switch (n) {
        case 'le':
          this.le = v;
          break;
        case 'direction':
          this.direction = v;
          break;
        case 'target_port':
          this.targetPort = v;
          break;
        case 'target_addr':
          this.targetAddr = v;
          break;
        case 'route_name':
          this.routeName = v;
          break;
        case 'tls':
          this.tls = v;
          break;
        case 'status_code':
          this.statusCode = v;
          break;
        case 'classification':
          this.classification = v;
          break;
        case 'dst_namespace':
          this.dstNamespace = v;
          break;
        case 'dst_deployment':
          this.dstName = v;
          break;
        case 'dst_statefulset':
        case 'dst_daemonset':
        case 'dst_service':
          if (this.dstLow === undefined || n !== 'dst_service') this.dstLow = v;
          break;
        case 'k8s_namespace_name':
        case 'namespace':
          if (this.namespace === undefined || n === 'k8s_namespace_name') this.namespace = v;
          break;
        case 'k8s_deployment_name':
        case 'deployment':
          if (this.deployment === undefined || n === 'k8s_deployment_name') this.deployment = v;
          break;
        case 'k8s_pod_name':
        case 'pod':
          if (this.pod === undefined || n === 'k8s_pod_name') this.pod = v;
          break;
        case 'code':
        case 'status':
          this.code = v;
          break;
        case 'method':
          this.method = v;
          break;
        case 'service':
          this.service = v;
          break;
        case 'ingress':
          this.ingress = v;
          break;
        case 'host':
          this.host = v;
          break;
        case 'path':
          this.path = v;
          break;
        case 'service_port':
          this.servicePort = v;
          break;
        default:
          if (isIgnoredLabel(n)) this.ignored = true;
      }
    }
  }
}

/** Where a sample's deltas go. */
interface Sink {
  source: Source;
  /** service/edge/ingress identity fields */
  a: string;
  b: string;
  c: string;
  d: string;
  inbound: boolean;
}

const SUM_ID = '\u0001sum';
const COUNT_ID = '\u0001count';

/** Sort buckets by bound (exporters write them in order; this is the exception path). */
function sortBuckets(bounds: number[], cum: number[]): void {
  const idx = bounds.map((_, i) => i).sort((a, b) => bounds[a] - bounds[b]);
  const b2 = idx.map((i) => bounds[i]);
  const c2 = idx.map((i) => cum[i]);
  bounds.length = 0;
  cum.length = 0;
  for (let i = 0; i < b2.length; i++) {
    if (bounds.length > 0 && bounds[bounds.length - 1] === b2[i]) continue; // duplicate le: keep the first
    bounds.push(b2[i]);
    cum.push(c2[i]);
  }
}

/**
 * Parse one exposition of one target, update its delta state and add its deltas to `agg`.
 * The target becomes primed. Never throws on bad input (lenient parsing; bad families are counted).
 *
 * A restart shows in `process_start_time_seconds`, which exporters put anywhere (Linkerd near the end):
 * the exposition is processed into a target-local aggregate; if the start time turns out to have
 * changed, that aggregate is discarded, the remembered values are forgotten (they belong to the old
 * process: a series absent now that reappears later must count from zero) and the exposition is
 * processed again with every value counted in full. Restarts are rare; the common case parses once.
 */
export function processExposition(
  text: string,
  meta: TargetMeta,
  state: TargetState,
  agg: Aggregator,
  opts: ProcessOptions,
): ProcessResult {
  let local = new Aggregator();
  let res = processPass(text, meta, state, local, opts, false);
  const start = res.startTime;
  if (state.primed && start !== undefined && state.startTime !== undefined && Math.abs(start - state.startTime) > 1e-3) {
    state.series.clear();
    local = new Aggregator();
    res = processPass(text, meta, state, local, opts, true);
  }
  agg.merge(local);
  state.primed = true;
  state.lastOk = opts.now;
  if (start !== undefined) state.startTime = start;
  for (const d of res.dialects) state.dialects.add(d);
  return res;
}

const PROCESS_START = 'process_start_time_seconds';

function processPass(
  text: string,
  meta: TargetMeta,
  state: TargetState,
  agg: Aggregator,
  opts: ProcessOptions,
  restarted: boolean,
): ProcessResult & { startTime?: number } {
  const { classifier, filter, now } = opts;
  const table = state.series;
  const contribute = state.primed;
  let startTime: number | undefined;
  let inStartFamily = false;
  const res: ProcessResult = {
    samples: 0,
    used: 0,
    filtered: 0,
    unattributed: 0,
    parseErrors: 0,
    newSeries: 0,
    restarted,
    contributed: contribute,
    dialects: [],
  };
  const dialects = new Set<Dialect>();
  const scan = new Scan();
  const metaNs = meta.namespace;
  const metaDeploy = meta.deployment ?? (meta.pod !== undefined ? deploymentFromPod(meta.pod) : undefined);

  // Current histogram group: its members in parallel arrays (reused).
  let gLabels: Labels = [];
  let gName = '';
  let gRole: SampleRole | undefined;
  let gSink: Sink | undefined;
  const mIds: string[] = [];
  const mKinds: SampleKind[] = [];
  const mLes: number[] = [];
  const mValues: number[] = [];
  let mN = 0;
  let prevs = new Float64Array(64);

  const sinkOf = (role: SampleRole): Sink | undefined => {
    const s = scan;
    switch (role.source) {
      case Source.LinkerdResponses:
      case Source.LinkerdLatency: {
        if (filter.routeDropped(s.routeName) || filter.adminPort(s.targetPort, s.targetAddr)) return filtered();
        const inbound = s.direction === 'inbound';
        if (!inbound && s.direction !== 'outbound') return filtered();
        const ns = s.namespace ?? metaNs ?? 'default';
        if (filter.namespaceExcluded(ns)) return filtered();
        const name = s.deployment ?? (s.pod !== undefined ? deploymentFromPod(s.pod) : metaDeploy);
        if (name === undefined || name === '') return unattributed();
        if (inbound) return { source: role.source, a: ns, b: name, c: '', d: '', inbound };
        const dst = s.dstName ?? s.dstLow;
        if (dst === undefined || dst === '') return unattributed();
        const dstNs = s.dstNamespace ?? ns;
        if (filter.namespaceExcluded(dstNs)) return filtered();
        return { source: role.source, a: ns, b: name, c: dstNs, d: dst, inbound };
      }
      case Source.TraefikServiceRequests:
      case Source.TraefikServiceDuration:
      case Source.TraefikRouterRequests:
      case Source.TraefikRouterDuration: {
        // Entry-point families never get here; internal services (api@internal, …) are not routes.
        const svc = s.service;
        if (svc === undefined || svc === '' || svc.endsWith('@internal')) return filtered();
        if (filter.routeDropped(s.routeName)) return filtered();
        return { source: role.source, a: svc, b: '', c: '', d: '', inbound: true };
      }
      case Source.NginxRequests:
      case Source.NginxDuration: {
        const ns = s.namespace ?? '';
        if (filter.namespaceExcluded(ns)) return filtered();
        const ing = s.ingress ?? '';
        const host = s.host ?? '';
        const path = s.path || '/';
        const svc = s.service ?? '';
        if (ing === '' && svc === '') return unattributed();
        const key = `nginx:${ns}/${ing}/${svc}:${host}${path}`.slice(0, 512);
        if (contribute && host !== '' && host !== '_' && !agg.metricRoutes.has(key)) {
          const route: RouteInfo = {
            name: ing,
            namespace: ns || 'default',
            domain: host.toLowerCase(),
            path_prefix: path,
            service_key: key,
            service_name: svc,
            service_port: Number(s.servicePort) || 0,
            tls: false,
          };
          agg.metricRoutes.set(key, route);
        }
        return { source: role.source, a: key, b: '', c: '', d: '', inbound: true };
      }
    }
    return undefined;
  };
  const filtered = (): undefined => {
    res.filtered++;
    return undefined;
  };
  const unattributed = (): undefined => {
    res.unattributed++;
    return undefined;
  };

  const flushGroup = (): void => {
    if (gRole === undefined) return;
    const role = gRole;
    const sink = gSink;
    const n = mN;
    gRole = undefined;
    gSink = undefined;
    mN = 0;
    if (sink === undefined) return;
    if (prevs.length < n) prevs = new Float64Array(n * 2);
    table.updateGroup(groupKey(gName, gLabels), mIds, mValues, n, now, prevs);
    for (let i = 0; i < n; i++) if (prevs[i] !== prevs[i]) res.newSeries++;
    if (!contribute) return;
    let reset = restarted;
    for (let i = 0; i < n && !reset; i++) if (mValues[i] < prevs[i]) reset = true;
    const bounds: number[] = [];
    const cum: number[] = [];
    let inf = NaN;
    let sum = 0;
    let count = NaN;
    let sorted = true;
    for (let i = 0; i < n; i++) {
      const d = counterDelta(prevs[i], mValues[i], true, reset);
      const kind = mKinds[i];
      if (kind === SampleKind.Bucket) {
        const le = mLes[i];
        if (le === Infinity) inf = d;
        else {
          const b = role.seconds ? secondsToMs(le) : le;
          if (bounds.length > 0 && b <= bounds[bounds.length - 1]) sorted = false;
          bounds.push(b);
          cum.push(d);
        }
      } else if (kind === SampleKind.Sum) {
        sum = role.seconds ? secondsToMs(d) : d;
      } else {
        count = d;
      }
    }
    if (!sorted) sortBuckets(bounds, cum);
    if (inf !== inf) inf = count === count ? count : cum.length > 0 ? cum[cum.length - 1] : NaN;
    const acc =
      sink.source === Source.LinkerdLatency
        ? sink.inbound
          ? agg.service(sink.a, sink.b).latency
          : agg.edge(sink.a, sink.b, sink.c, sink.d).latency
        : agg.ingressOf(sink.a, sink.source === Source.TraefikRouterDuration).latency;
    if (inf !== inf) acc.addSum(sum);
    else acc.add(bounds, cum, inf, sum);
  };

  const visitor: ExpositionVisitor = {
    onFamily(name) {
      flushGroup();
      inStartFamily = name === PROCESS_START;
      return inStartFamily || classifier.keepFamily(name);
    },
    onSample(name, labels, value) {
      if (inStartFamily) {
        if (name === PROCESS_START && labels.length === 0 && Number.isFinite(value)) startTime = value;
        return;
      }
      const role = classifier.role(name);
      if (role === null) return;
      res.samples++;
      if (value !== value || value === Infinity || value === -Infinity || value < 0) return;
      dialects.add(role.dialect);
      scan.run(labels);
      if (role.kind === SampleKind.Counter) {
        const sink = sinkOf(role);
        if (sink === undefined) return;
        res.used++;
        const prev = table.update(seriesKey(name, labels, scan.ignored), value, now);
        if (prev !== prev) res.newSeries++;
        if (!contribute) return;
        const d = counterDelta(prev, value, true, restarted);
        addCounter(agg, sink, scan, d);
        return;
      }
      // Histogram sample: gather the series' buckets, _sum and _count.
      let le = NaN;
      let id: string;
      if (role.kind === SampleKind.Bucket) {
        const les = scan.le;
        if (les === undefined) return;
        le = les === '+Inf' || les === 'Inf' || les === '+inf' ? Infinity : Number(les);
        if (le !== le) return;
        id = les;
      } else {
        id = role.kind === SampleKind.Sum ? SUM_ID : COUNT_ID;
      }
      if (gRole === undefined || gRole.base !== role.base || !sameSeries(gLabels, labels)) {
        flushGroup();
        gRole = role;
        gName = name;
        gLabels = labels;
        gSink = sinkOf(role);
      } else if (gSink === undefined) {
        res.filtered++;
      }
      if (gSink === undefined) return;
      res.used++;
      mIds[mN] = id;
      mKinds[mN] = role.kind;
      mLes[mN] = le;
      mValues[mN] = value;
      mN++;
    },
  };

  const summary = parseExposition(text, visitor, { contentType: opts.contentType ?? undefined, lenient: true });
  flushGroup();
  res.parseErrors = summary.errors.length;
  res.dialects = [...dialects];
  return startTime === undefined ? res : { ...res, startTime };
}

function addCounter(agg: Aggregator, sink: Sink, s: Scan, d: number): void {
  switch (sink.source) {
    case Source.LinkerdResponses: {
      if (sink.inbound) {
        const svc = agg.service(sink.a, sink.b);
        const k = requestKey(s.statusCode ?? '', s.classification ?? '');
        svc.requests.set(k, (svc.requests.get(k) ?? 0) + d);
        if (s.tls === 'true') svc.tls += d;
      } else {
        const e = agg.edge(sink.a, sink.b, sink.c, sink.d);
        e.requests += d;
        if (s.classification === 'failure') e.failures += d;
      }
      return;
    }
    case Source.TraefikServiceRequests:
    case Source.TraefikRouterRequests:
    case Source.NginxRequests: {
      const ing = agg.ingressOf(sink.a, sink.source === Source.TraefikRouterRequests);
      const k = requestKey(s.code ?? '', s.method ?? '');
      ing.requests.set(k, (ing.requests.get(k) ?? 0) + d);
      return;
    }
  }
}

/** Forget series of a target not seen for `ttlMs`; returns how many were forgotten. */
export function sweepTarget(state: TargetState, now: number, ttlMs: number): number {
  return state.series.sweep(now - ttlMs);
}
