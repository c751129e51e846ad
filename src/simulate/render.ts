/**
 * Prometheus text expositions of the demo fleet (pure): a Linkerd proxy's admin /metrics and
 * Traefik's /metrics, with the label sets of the real ones (linkerd2 and traefik test fixtures).
 */
import type { PodState, TraefikState } from './engine.js';
import { LINKERD_BOUNDS, TRAEFIK_BOUNDS_S } from './model.js';

const LE_MS = [...LINKERD_BOUNDS.map(String), '+Inf'];
const LE_S = [...TRAEFIK_BOUNDS_S.map(String), '+Inf'];

const num = (x: number): string => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(15))));

export function renderLinkerd(p: PodState, nowSec: number): string {
  const out: string[] = [];
  const series = [...p.series.values()];
  // request_total: one per label set (all statuses)
  const requests = new Map<string, number>();
  for (const s of series) requests.set(s.labels, (requests.get(s.labels) ?? 0) + s.count);
  out.push('# HELP request_total Total count of HTTP requests.', '# TYPE request_total counter');
  for (const [labels, n] of requests) out.push(`request_total{${labels}} ${n}`);
  out.push(
    '# HELP response_latency_ms Elapsed times between a request\'s headers being received and its response stream completing',
    '# TYPE response_latency_ms histogram',
  );
  for (const s of series) {
    const l = `${s.labels},status_code="${s.status}"`;
    let cum = 0;
    for (let i = 0; i < LE_MS.length; i++) {
      cum += s.buckets[i];
      out.push(`response_latency_ms_bucket{${l},le="${LE_MS[i]}"} ${cum}`);
    }
    out.push(`response_latency_ms_count{${l}} ${s.count}`);
    out.push(`response_latency_ms_sum{${l}} ${num(s.sum)}`);
  }
  out.push('# HELP response_total Total count of HTTP responses.', '# TYPE response_total counter');
  for (const s of series) out.push(`response_total{${s.labels},status_code="${s.status}",classification="${s.classification}"} ${s.count}`);
  out.push(
    '# HELP tcp_open_total Total count of opened connections',
    '# TYPE tcp_open_total counter',
    `tcp_open_total{direction="inbound",peer="src",target_addr="0.0.0.0:4191",target_ip="0.0.0.0",target_port="4191",tls="true",srv_kind="default",srv_name="all-unauthenticated"} ${Math.floor((nowSec - p.startTime) / 10)}`,
    '# HELP process_start_time_seconds Time that the process started (in seconds since the UNIX epoch)',
    '# TYPE process_start_time_seconds gauge',
    `process_start_time_seconds ${p.startTime}`,
    '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
    '# TYPE process_cpu_seconds_total counter',
    `process_cpu_seconds_total ${num(Math.max(0, nowSec - p.startTime) * 0.002)}`,
    '# HELP proxy_build_info Proxy build info',
    '# TYPE proxy_build_info gauge',
    'proxy_build_info{git_branch="HEAD",git_sha="279b301",git_version="stable-2.14.10",profile="release",rust_version="rustc 1.76.0"} 1',
  );
  return out.join('\n') + '\n';
}

export function renderTraefik(t: TraefikState, nowSec: number): string {
  const out: string[] = [];
  const series = [...t.series.values()];
  out.push(
    '# HELP traefik_config_last_reload_success Last config reload success',
    '# TYPE traefik_config_last_reload_success gauge',
    `traefik_config_last_reload_success ${t.startTime + 2}`,
    '# HELP traefik_config_reloads_total Config reloads',
    '# TYPE traefik_config_reloads_total counter',
    'traefik_config_reloads_total 1',
    '# HELP traefik_entrypoint_requests_total How many HTTP requests processed on an entrypoint, partitioned by status code, protocol, and method.',
    '# TYPE traefik_entrypoint_requests_total counter',
  );
  for (const e of t.entrypoints.values()) {
    out.push(`traefik_entrypoint_requests_total{code="${e.code}",entrypoint="${e.entrypoint}",method="${e.method}",protocol="http"} ${e.count}`);
  }
  out.push(
    '# HELP traefik_router_requests_total How many HTTP requests are processed on a router, partitioned by service, status code, protocol, and method.',
    '# TYPE traefik_router_requests_total counter',
  );
  for (const s of series) {
    out.push(`traefik_router_requests_total{code="${s.code}",method="${s.method}",protocol="http",router="${s.router}",service="${s.service}"} ${s.count}`);
  }
  out.push(
    '# HELP traefik_service_request_duration_seconds How long it took to process the request on a service, partitioned by status code, protocol, and method.',
    '# TYPE traefik_service_request_duration_seconds histogram',
  );
  for (const s of series) {
    const l = `code="${s.code}",method="${s.method}",protocol="http",service="${s.service}"`;
    let cum = 0;
    for (let i = 0; i < LE_S.length; i++) {
      cum += s.buckets[i];
      out.push(`traefik_service_request_duration_seconds_bucket{${l},le="${LE_S[i]}"} ${cum}`);
    }
    out.push(`traefik_service_request_duration_seconds_sum{${l}} ${num(s.sum)}`);
    out.push(`traefik_service_request_duration_seconds_count{${l}} ${s.count}`);
  }
  out.push(
    '# HELP traefik_service_requests_total How many HTTP requests processed on a service, partitioned by status code, protocol, and method.',
    '# TYPE traefik_service_requests_total counter',
  );
  for (const s of series) out.push(`traefik_service_requests_total{code="${s.code}",method="${s.method}",protocol="http",service="${s.service}"} ${s.count}`);
  out.push(
    '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.',
    '# TYPE process_start_time_seconds gauge',
    `process_start_time_seconds ${t.startTime}`,
    '# HELP go_goroutines Number of goroutines that currently exist.',
    '# TYPE go_goroutines gauge',
    `go_goroutines ${120 + (Math.floor(nowSec) % 17)}`,
  );
  return out.join('\n') + '\n';
}
