/**
 * The parser against real-world corpora (../shared/fixtures, see each folder's SOURCE.md).
 * Expected numbers were read from the files themselves (grep/awk on the text), not from this parser.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../test/support/env.js';
import { histogramQuantile, histogramsFromFamily, mergeHistograms } from './histogram.js';
import { ParseError, parseExposition, parseToFamilies, type MetricFamily } from './textparse/index.js';

function family(families: MetricFamily[], name: string): MetricFamily {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`family ${name} not found`);
  return f;
}

function sampleValue(f: MetricFamily, name: string, labels: Record<string, string> = {}): number {
  const s = f.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  if (s.length !== 1) throw new Error(`${s.length} samples match ${name} ${JSON.stringify(labels)}`);
  return s[0].value;
}

// ---------------------------------------------------------------------------------------------
// OpenMetrics parser conformance suite

const omDir = fixturesDir('openmetrics-parsers');
interface OmCase {
  name: string;
  shouldParse: boolean;
  text: string;
}
const omCases: OmCase[] = omDir
  ? readdirSync(omDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => {
        const meta = JSON.parse(readFileSync(path.join(omDir, d.name, 'test.json'), 'utf8')) as { type: string; file: string; shouldParse: boolean };
        return { name: d.name, shouldParse: meta.shouldParse, text: readFileSync(path.join(omDir, d.name, meta.file), 'utf8') };
      })
      .sort((a, b) => a.name.localeCompare(b.name))
  : [];

function strictOmVerdict(text: string): { parses: boolean; error?: ParseError } {
  try {
    parseExposition(text, { onSample() {} }, { format: 'openmetrics', lenient: false });
    return { parses: true };
  } catch (e) {
    if (!(e instanceof ParseError)) throw e; // a crash is never an acceptable verdict
    return { parses: false, error: e };
  }
}

describe.skipIf(!omDir)('OpenMetrics conformance suite (openmetrics-parsers)', () => {
  it('has the 211 cases described in SOURCE.md (44 should parse, 167 should not)', () => {
    expect(omCases).toHaveLength(211);
    expect(omCases.filter((c) => c.shouldParse)).toHaveLength(44);
  });

  it.each(omCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const v = strictOmVerdict(c.text);
    expect(v.parses, v.error ? `rejected: ${v.error.message}` : 'accepted').toBe(c.shouldParse);
  });

  it('every verdict matches', () => {
    const wrong = omCases.filter((c) => strictOmVerdict(c.text).parses !== c.shouldParse).map((c) => c.name);
    console.log(`[openmetrics-parsers] ${omCases.length - wrong.length}/${omCases.length} verdicts match`);
    expect(wrong).toEqual([]);
  });

  it('lenient mode never throws on any case and drops only what it reports', () => {
    for (const c of omCases) {
      const r = parseToFamilies(c.text, { format: 'openmetrics', validate: true });
      if (c.shouldParse) expect(r.errors, c.name).toEqual([]);
      else expect(r.errors.length, c.name).toBeGreaterThan(0);
    }
  });

  it('reads the values of accepted cases correctly', () => {
    const byName = new Map(omCases.map((c) => [c.name, c.text]));
    const fam = (n: string) => parseToFamilies(byName.get(n)!, { format: 'openmetrics', lenient: false }).families;
    // timestamps: seconds → ms ("1.5e3" s = 1 500 000 ms; "1.1" s = 1100 ms)
    const ts = family(fam('timestamps'), 'a').samples.map((s) => s.timestampMs);
    expect(ts).toEqual([0, 0, 1100, 1.2345678901234568e22 /* 12345678901234567890.1234567890 s × 1000 as a double */, 1500000]);
    expect(family(fam('timestamps'), 'b').samples[0].timestampMs).toBe(1234567890000);
    // escaping: "b\"a\nr" and "b\\a\z" (unknown escape kept)
    expect(family(fam('escaping'), 'a').samples.map((s) => s.labels.foo)).toEqual(['b"a\nr', 'b\\a\\z', 'b"a\nr # ', 'b\\a\\z # ']);
    expect(family(fam('escaping'), 'a').help).toBe('he\n\\l\\tp');
    // exemplars
    const ex = family(fam('histogram_exemplars'), 'a').samples[2].exemplar;
    expect(ex).toMatchObject({ value: 4, timestampMs: 123000 });
    // uint64 counter and infinities
    expect(family(fam('uint64_counter'), 'a').samples[0].value).toBe(9223372036854775808);
    expect(family(fam('labels_and_infinite'), 'a').samples.map((s) => s.value)).toEqual([Infinity, -Infinity]);
    // unit
    expect(family(fam('unit_gauge'), 'a_seconds')).toMatchObject({ type: 'gauge', unit: 'seconds', help: 'help' });
  });
});

// ---------------------------------------------------------------------------------------------
// prometheus/prometheus model/textparse testdata

const tpDir = fixturesDir('prometheus-textparse');
const tp = (f: string): string => readFileSync(path.join(tpDir!, f), 'utf8');

describe.skipIf(!tpDir)('prometheus-textparse corpus', () => {
  it('alltypes.237mfs.prom.txt: 237 families of 4 types, 1857 samples, strict Prometheus text', () => {
    const r = parseToFamilies(tp('alltypes.237mfs.prom.txt'), { format: 'prometheus', lenient: false });
    expect(r.families).toHaveLength(237);
    const types: Record<string, number> = {};
    for (const f of r.families) types[f.type] = (types[f.type] ?? 0) + 1;
    expect(types).toEqual({ counter: 112, gauge: 97, histogram: 15, summary: 13 });
    expect(r.families.reduce((n, f) => n + f.samples.length, 0)).toBe(1857);

    const gc = family(r.families, 'go_gc_duration_seconds');
    expect(gc.type).toBe('summary');
    expect(gc.help).toBe('A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.');
    expect(gc.samples).toHaveLength(7);
    expect(sampleValue(gc, 'go_gc_duration_seconds', { quantile: '0.5' })).toBe(0.000135819);
    expect(sampleValue(gc, 'go_gc_duration_seconds_sum')).toBe(44.985611511);
    expect(sampleValue(gc, 'go_gc_duration_seconds_count')).toBe(190932);
    expect(sampleValue(family(r.families, 'go_goroutines'), 'go_goroutines')).toBe(151);
    expect(sampleValue(family(r.families, 'go_gc_gomemlimit_bytes'), 'go_gc_gomemlimit_bytes')).toBe(903676723);
    expect(sampleValue(family(r.families, 'prometheus_http_requests_total'), 'prometheus_http_requests_total', { code: '200', handler: '/-/healthy' })).toBe(29524);
    // label values with spaces and semicolons
    expect(
      sampleValue(family(r.families, 'prometheus_rule_evaluations_total'), 'prometheus_rule_evaluations_total', {
        rule_group: '/etc/prometheus/rules/ansible_managed.rules;ansible managed alert rules',
      }),
    ).toBe(118092);
    // histogram: handler="/" has all 688 requests in the first bucket (le="0.1")
    const h = histogramsFromFamily(family(r.families, 'prometheus_http_request_duration_seconds')).find((x) => x.labels.handler === '/')!;
    expect(h.buckets.bounds).toEqual([0.1, 0.2, 0.4, 1, 3, 8, 20, 60, 120]);
    expect(h.buckets.counts[0]).toBe(688);
    expect(h.buckets.counts[9]).toBe(688);
    // p50: rank 344 in (0, 0.1] holding 688 → 0.1 × 344/688 = 0.05
    expect(histogramQuantile(0.5, h.buckets)).toBeCloseTo(0.05, 12);
  });

  it('alltypes.237mfs.nometa.prom.txt: same 1857 samples, no metadata', () => {
    const text = tp('alltypes.237mfs.nometa.prom.txt');
    let samples = 0;
    const s = parseExposition(text, { onSample: () => void samples++ }, { format: 'prometheus', lenient: false });
    expect(samples).toBe(1857);
    // Without metadata every run of one sample name is a family: 594 runs (uniq), 291 distinct names.
    expect(s.families).toBe(594);
    const r = parseToFamilies(text, { format: 'prometheus', lenient: false });
    expect(r.families).toHaveLength(291);
    expect(r.families.every((f) => f.type === 'unknown' && f.help === '')).toBe(true);
    expect(sampleValue(family(r.families, 'go_gc_duration_seconds_count'), 'go_gc_duration_seconds_count')).toBe(190932);
  });

  it('1histogram.om.txt: one valid OpenMetrics histogram with three series', () => {
    const r = parseToFamilies(tp('1histogram.om.txt'), { format: 'openmetrics', lenient: false });
    expect(r.families).toHaveLength(1);
    const f = r.families[0];
    expect(f).toMatchObject({ name: 'golang_manual_histogram_seconds', type: 'histogram', help: 'This is a histogram with manually selected parameters' });
    expect(f.samples).toHaveLength(42);
    const series = histogramsFromFamily(f);
    expect(series.map((x) => x.labels.port)).toEqual(['5001', '5002', '5003']);
    for (const x of series) {
      expect(x.buckets.bounds).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
      expect(x.buckets.counts.slice(-2)).toEqual([1, 1]);
      expect(x.buckets.sum).toBe(10);
      expect(x.count).toBe(1);
      // the one observation is in (5, 10]: p50 = 5 + 5 × 0.5 = 7.5
      expect(histogramQuantile(0.5, x.buckets)).toBe(7.5);
    }
  });

  it('alltypes.5mfs.om.txt: five families with exemplars and _created samples', () => {
    const text = tp('alltypes.5mfs.om.txt');
    const r = parseToFamilies(text, { format: 'openmetrics' });
    expect(r.errors).toEqual([]);
    expect(r.families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['go_build_info', 'gauge', 1],
      ['promhttp_metric_handler_errors', 'counter', 4],
      ['rpc_durations_histogram_seconds', 'histogram', 24],
      ['rpc_durations_seconds', 'summary', 18],
      ['rpc_requests', 'counter', 6],
    ]);
    const h = family(r.families, 'rpc_durations_histogram_seconds');
    const withEx = h.samples.filter((s) => s.exemplar);
    expect(withEx).toHaveLength(6);
    // line 19: ... 3 # {dummyID="17783"} -0.0003825067330956884 1.7268398142239082e+09
    expect(withEx[0]).toMatchObject({
      labels: { le: '-0.0002899999999999998' },
      value: 3,
      exemplar: { labels: { dummyID: '17783' }, value: -0.0003825067330956884, timestampMs: 1726839814224 },
    });
    expect(sampleValue(h, 'rpc_durations_histogram_seconds_created')).toBe(1726839813.016302);
    expect(sampleValue(family(r.families, 'rpc_requests'), 'rpc_requests_total', { service: 'normal' })).toBe(15);
    // Same result in strict mode without the semantic rules (the syntax is valid)...
    expect(parseToFamilies(text, { format: 'openmetrics', lenient: false, validate: false }).families).toHaveLength(5);
    // ...but this Go-client output breaks OpenMetrics 1.0 semantics: a negative _sum (line 33) on a
    // histogram with negative buckets; the conformance suite rejects the same shape (bad_counter_values_8).
    let err: ParseError | undefined;
    try {
      parseToFamilies(text, { format: 'openmetrics', lenient: false });
    } catch (e) {
      err = e as ParseError;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect(err).toMatchObject({ line: 33, family: 'rpc_durations_histogram_seconds' });
  });
});

// ---------------------------------------------------------------------------------------------
// Linkerd proxy and Traefik expositions

const linkerdDir = fixturesDir('linkerd');
describe.skipIf(!linkerdDir || !existsSync(path.join(linkerdDir, 'sampleMetrics.txt')))('linkerd sampleMetrics.txt', () => {
  const load = () => parseToFamilies(readFileSync(path.join(linkerdDir!, 'sampleMetrics.txt'), 'utf8'), { format: 'prometheus', lenient: false });

  it('has 28 families and 199 samples', () => {
    const r = load();
    expect(r.families).toHaveLength(28);
    expect(r.families.reduce((n, f) => n + f.samples.length, 0)).toBe(199);
    expect(r.families[0]).toMatchObject({
      name: 'inbound_http_authz_allow_total',
      type: 'counter',
      help: 'The total number of inbound HTTP requests that were authorized',
    });
  });

  it('reads specific series', () => {
    const r = load();
    expect(sampleValue(family(r.families, 'request_total'), 'request_total', { direction: 'inbound', target_addr: '0.0.0.0:4191' })).toBe(30);
    expect(sampleValue(family(r.families, 'response_total'), 'response_total', { status_code: '200', classification: 'success' })).toBe(29);
    expect(sampleValue(family(r.families, 'identity_cert_expiration_timestamp_seconds'), 'identity_cert_expiration_timestamp_seconds')).toBe(1651053543);
    expect(sampleValue(family(r.families, 'tcp_write_bytes_total'), 'tcp_write_bytes_total', { direction: 'inbound' })).toBe(63256);
    expect(sampleValue(family(r.families, 'tcp_read_bytes_total'), 'tcp_read_bytes_total', { direction: 'outbound', peer: 'src' })).toBe(3763);
    expect(sampleValue(family(r.families, 'tcp_close_total'), 'tcp_close_total', { errno: '' })).toBe(29);
    expect(sampleValue(family(r.families, 'process_cpu_seconds_total'), 'process_cpu_seconds_total')).toBe(0.07);
    expect(sampleValue(family(r.families, 'process_max_fds'), 'process_max_fds')).toBe(1048576);
    expect(sampleValue(family(r.families, 'stack_poll_total_ms'), 'stack_poll_total_ms', { protocol: 'tcp', name: 'server' })).toBe(4);
    expect(family(r.families, 'proxy_build_info').samples[0].labels.rust_version).toBe('rustc 1.59.0 (9d1b2106e 2022-02-23)');
    const outboundDst = family(r.families, 'tcp_open_total').samples.find((s) => s.labels.peer === 'dst')!;
    expect(outboundDst.labels.direction).toBe('outbound');
    expect(Object.keys(outboundDst.labels).filter((k) => k.startsWith('dst_'))).toHaveLength(6);
  });

  it('computes latency quantiles from the histograms', () => {
    const r = load();
    const inbound = histogramsFromFamily(family(r.families, 'response_latency_ms'));
    expect(inbound).toHaveLength(1);
    expect(inbound[0].buckets.bounds).toHaveLength(25); // 1..50000, +Inf implicit
    expect(inbound[0].count).toBe(29);
    // all 29 requests in (0, 1]: p50 = 1 × 14.5/29 = 0.5
    expect(histogramQuantile(0.5, inbound[0].buckets)).toBe(0.5);

    const control = histogramsFromFamily(family(r.families, 'control_response_latency_ms'));
    expect(control.map((c) => c.labels.addr.split('.')[0])).toEqual(['linkerd-dst-headless', 'linkerd-policy', 'linkerd-identity-headless']);
    // dst: 1 obs in (1,2] → 1.5; policy: 2 in (2,3] → rank 1 → 2.5; identity: 1 in (10,20] → 15
    expect(control.map((c) => histogramQuantile(0.5, c.buckets))).toEqual([1.5, 2.5, 15]);
    const merged = mergeHistograms(control.map((c) => c.buckets));
    expect(merged.droppedBounds).toEqual([]);
    expect(merged.sum).toBe(20); // 2 + 6 + 12
    // merged: le=2 → 1, le=3 → 3, le=20 → 4 (total 4).
    // p50: rank 2 in (2,3] (before 1, count 2) → 2 + 1 × 1/2 = 2.5
    // p90: rank 3.6 in (10,20] (before 3, count 1) → 10 + 10 × 0.6 = 16
    expect(histogramQuantile(0.5, merged)).toBe(2.5);
    expect(histogramQuantile(0.9, merged)).toBeCloseTo(16, 12);
  });
});

const traefikDir = fixturesDir('traefik');
describe.skipIf(!traefikDir || !existsSync(path.join(traefikDir, 'metrics-sample.txt')))('traefik metrics-sample.txt', () => {
  const text = () => readFileSync(path.join(traefikDir!, 'metrics-sample.txt'), 'utf8');

  it('reads all 18 lines; families are runs of one name (17), merged by name (7)', () => {
    let n = 0;
    const s = parseExposition(text(), { onSample: () => void n++ }, { format: 'prometheus', lenient: false });
    expect(n).toBe(18);
    expect(s.families).toBe(17);
    const r = parseToFamilies(text(), { format: 'prometheus', lenient: false });
    expect(r.families.map((f) => [f.name, f.samples.length])).toEqual([
      ['traefik_router_requests_total', 2],
      ['traefik_service_requests_total', 3],
      ['traefik_entrypoint_requests_total', 3],
      ['traefik_entrypoint_requests_bytes_total', 3],
      ['traefik_entrypoint_responses_bytes_total', 3],
      ['traefik_service_requests_bytes_total', 2],
      ['traefik_service_responses_bytes_total', 2],
    ]);
  });

  it('reads specific series', () => {
    const r = parseToFamilies(text(), { format: 'prometheus', lenient: false });
    expect(sampleValue(family(r.families, 'traefik_router_requests_total'), 'traefik_router_requests_total', { router: 'router2@docker' })).toBe(1);
    expect(sampleValue(family(r.families, 'traefik_service_requests_total'), 'traefik_service_requests_total', { service: 'whoami1@docker' })).toBe(2);
    expect(sampleValue(family(r.families, 'traefik_entrypoint_responses_bytes_total'), 'traefik_entrypoint_responses_bytes_total', { code: '500', entrypoint: 'webC' })).toBe(21);
    expect(sampleValue(family(r.families, 'traefik_entrypoint_requests_total'), 'traefik_entrypoint_requests_total', { code: '413' })).toBe(1);
    expect(sampleValue(family(r.families, 'traefik_service_responses_bytes_total'), 'traefik_service_responses_bytes_total', { service: 'service-resp@file' })).toBe(31);
  });
});
