/**
 * The mesh graph's layout and option (web/src/meshGraph.ts): positions that survive a refresh,
 * edge labels only on hover, the ingress drawn as a source of its outbound traffic.
 */
import { describe, expect, it } from 'vitest';
import type { MeshEdge, MeshNode } from '../../src/slo/server/schemas.js';
import { graphOption, meshLayout, type GraphPalette } from '../../web/src/meshGraph.js';

const node = (id: string, rps: number, extra: Partial<MeshNode> = {}): MeshNode => {
  const [namespace, name] = id.split('/');
  return { id, namespace, name, rps, total_requests: rps * 60, p50_latency: 5, p95_latency: 9, p99_latency: 10, error_rate: 0, mtls_percent: 100, status: 'healthy', latency_distribution: [], status_codes: [], covered_seconds: 60, current_rps: rps, role: 'service', outbound_rps: 0, ...extra };
};
const edge = (source: string, target: string, rps: number): MeshEdge => ({ source, target, rps, total_requests: rps * 60, p95_latency: 9, avg_latency: 5, error_rate: 0 });

const palette = { accent: '#3b6cf6', panel: '#fff', text: '#111', muted: '#777', border: '#ddd', healthy: '#1e9e5a', warning: '#d48806', critical: '#d93a3a', unknown: '#9aa3b2' } satisfies GraphPalette;

const traefik = node('ingress/traefik', 0, { role: 'source', outbound_rps: 12, status: 'unknown' });
const nodes = [traefik, node('shop/web', 10), node('shop/api', 2), node('shop/cart', 1)];
const edges = [edge('ingress/traefik', 'shop/web', 10), edge('ingress/traefik', 'shop/api', 2), edge('shop/api', 'shop/cart', 1)];

type Series = { id: string; layout: string; data: { id: string; x: number; y: number; symbol: string; itemStyle: { color: string } }[]; edgeLabel: { show: boolean }; emphasis: { edgeLabel: { show: boolean } } };

describe('mesh graph', () => {
  it('puts sources first and callees by call depth, the same on every refresh', () => {
    const a = meshLayout(nodes, edges);
    // the next refresh: other rates, same topology, nodes in another order
    const b = meshLayout(
      [...nodes].reverse().map((n) => ({ ...n, rps: n.rps * 1.7 })),
      edges.map((e) => ({ ...e, rps: e.rps + 1 })),
    );
    expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
    expect(a.get('ingress/traefik')!.x).toBe(0);
    expect(a.get('shop/web')!.x).toBe(240);
    expect(a.get('shop/api')!.x).toBe(240);
    expect(a.get('shop/cart')!.x).toBe(480);
    // two nodes in a column never overlap
    expect(a.get('shop/web')!.y).not.toBe(a.get('shop/api')!.y);
  });

  it('draws the ingress as a source, labels edges only on hover, and keeps zoom across refreshes', () => {
    const s = (graphOption(palette, nodes, edges) as { series: Series[] }).series[0];
    // a fixed layout and a series id: a merged refresh keeps positions, zoom and pan
    expect(s.layout).toBe('none');
    expect(s.id).toBe('mesh');
    const t = s.data.find((d) => d.id === 'ingress/traefik')!;
    expect(t.symbol).toBe('roundRect');
    expect(t.itemStyle.color).toBe(palette.accent);
    expect(s.data.find((d) => d.id === 'shop/web')!.itemStyle.color).toBe(palette.healthy);
    expect(s.edgeLabel.show).toBe(false);
    expect(s.emphasis.edgeLabel.show).toBe(true);
  });
});
