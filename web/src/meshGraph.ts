/**
 * The mesh graph (ECharts option) and its layout, kept apart from the page so they can be tested
 * without a browser (hence no imports of TSX modules: the palette and option types are structural).
 */
import type { MeshEdge, MeshNode } from '../../src/slo/server/schemas.js';
import { fmtMs, fmtPct, fmtRps, statusLabel } from './format.js';

/** The colours of the theme palette (web/src/theme.tsx) the graph uses. */
export interface GraphPalette {
  accent: string;
  panel: string;
  text: string;
  muted: string;
  border: string;
  unknown: string;
  critical: string;
  warning: string;
  healthy: string;
}

function esc(s: string) {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export const isSource = (n: MeshNode) => n.role === 'source';

/**
 * Node positions: columns by call depth from the sources (the ingress, callers nobody calls), rows
 * by name inside a column. Deterministic in the topology, so a 30 s refresh moves nothing (a force
 * layout re-ran from scratch and reshuffled the graph every time).
 */
export function meshLayout(nodes: MeshNode[], edges: MeshEdge[]): Map<string, { x: number; y: number }> {
  const ids = new Set(nodes.map((n) => n.id));
  const callees = new Map<string, string[]>();
  const called = new Set<string>();
  for (const e of edges) {
    if (!ids.has(e.source) || !ids.has(e.target) || e.source === e.target) continue;
    (callees.get(e.source) ?? callees.set(e.source, []).get(e.source)!).push(e.target);
    called.add(e.target);
  }
  const depth = new Map<string, number>();
  let frontier = nodes.filter((n) => isSource(n) || !called.has(n.id)).map((n) => n.id);
  for (const id of frontier) depth.set(id, 0);
  for (let d = 1; frontier.length && d <= nodes.length; d++) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const t of callees.get(id) ?? []) {
        if (depth.has(t)) continue;
        depth.set(t, d);
        next.push(t);
      }
    }
    frontier = next;
  }
  // Callers only reachable through a cycle: one column after the sources.
  for (const n of nodes) if (!depth.has(n.id)) depth.set(n.id, 1);
  const columns = new Map<number, string[]>();
  for (const n of [...nodes].sort((a, b) => a.id.localeCompare(b.id))) {
    const d = depth.get(n.id)!;
    (columns.get(d) ?? columns.set(d, []).get(d)!).push(n.id);
  }
  const out = new Map<string, { x: number; y: number }>();
  for (const [d, col] of columns) col.forEach((id, i) => out.set(id, { x: d * 240, y: (i - (col.length - 1) / 2) * 96 }));
  return out;
}

export function graphOption(p: GraphPalette, nodes: MeshNode[], edges: MeshEdge[]): Record<string, unknown> {
  const maxRps = Math.max(1e-9, ...nodes.map((n) => (isSource(n) ? (n.outbound_rps ?? 0) : n.rps)));
  const pos = meshLayout(nodes, edges);
  const maxEdge = Math.max(1e-9, ...edges.map((e) => e.rps));
  const color = (s: string) => (p as unknown as Record<string, string>)[s] ?? p.unknown;
  const ids = new Set(nodes.map((n) => n.id));
  // Edges in both directions get opposite curvature so both labels stay readable.
  const pairs = new Set(edges.map((e) => `${e.source}→${e.target}`));
  return {
    backgroundColor: 'transparent',
    animationDurationUpdate: 300,
    tooltip: {
      // As charts.ts baseTooltip.
      backgroundColor: p.panel,
      borderColor: p.border,
      textStyle: { color: p.text, fontSize: 12 },
      extraCssText: 'box-shadow: 0 4px 14px rgba(0,0,0,.18); border-radius: 6px;',
      formatter: (params: { dataType: string; data: { node?: MeshNode; edge?: MeshEdge } }) => {
        if (params.dataType === 'node' && params.data.node) {
          const n = params.data.node;
          if (isSource(n)) return [`<b>${esc(n.id)}</b> · source (ingress)`, `sends ${fmtRps(n.outbound_rps)} into the mesh`].join('<br/>');
          return [
            `<b>${esc(n.id)}</b> · ${statusLabel[n.status] ?? n.status}`,
            `${fmtRps(n.rps)} · error ${fmtPct(n.error_rate)}`,
            `p50 ${fmtMs(n.p50_latency)} · p95 ${fmtMs(n.p95_latency)} · p99 ${fmtMs(n.p99_latency)}`,
            `mTLS ${fmtPct(n.mtls_percent, 0)}`,
          ].join('<br/>');
        }
        if (params.dataType === 'edge' && params.data.edge) {
          const e = params.data.edge;
          return [
            `<b>${esc(e.source)} → ${esc(e.target)}</b>`,
            `${fmtRps(e.rps)} · error ${fmtPct(e.error_rate)}`,
            `p95 ${fmtMs(e.p95_latency)} · avg ${fmtMs(e.avg_latency)}`,
          ].join('<br/>');
        }
        return '';
      },
    },
    series: [
      {
        // The id keeps this series' zoom and pan across merged refreshes.
        id: 'mesh',
        type: 'graph',
        layout: 'none',
        roam: true,
        draggable: false,
        scaleLimit: { min: 0.3, max: 4 },
        label: {
          show: true,
          position: 'bottom',
          formatter: (x: { data: { node: MeshNode } }) =>
            isSource(x.data.node) ? `{n|${x.data.node.name}}\n{ns|→ ${fmtRps(x.data.node.outbound_rps)}}` : `{n|${x.data.node.name}}\n{ns|${x.data.node.namespace}}`,
          rich: { n: { color: p.text, fontSize: 11, fontWeight: 600, lineHeight: 14 }, ns: { color: p.muted, fontSize: 10, lineHeight: 12 } },
        },
        edgeSymbol: ['none', 'arrow'],
        edgeSymbolSize: [0, 7],
        // Labels on hover (of the edge, or of a node for its edges): all at once piled up on each other.
        edgeLabel: {
          show: false,
          fontSize: 10,
          color: p.text,
          backgroundColor: p.panel,
          padding: [2, 4],
          borderRadius: 3,
          formatter: (x: { data: { edge: MeshEdge } }) => `${fmtRps(x.data.edge.rps)} · ${fmtMs(x.data.edge.p95_latency)}`,
        },
        emphasis: { focus: 'adjacency', lineStyle: { width: 3 }, edgeLabel: { show: true } },
        blur: { itemStyle: { opacity: 0.25 }, lineStyle: { opacity: 0.1 }, label: { opacity: 0.3 }, edgeLabel: { opacity: 0.2 } },
        data: nodes.map((n) => ({
          id: n.id,
          name: n.id,
          node: n,
          ...pos.get(n.id),
          symbol: isSource(n) ? 'roundRect' : 'circle',
          symbolSize: 16 + 34 * Math.sqrt((isSource(n) ? (n.outbound_rps ?? 0) : n.rps) / maxRps),
          itemStyle: { color: isSource(n) ? p.accent : color(n.status), borderColor: p.panel, borderWidth: 2, shadowBlur: 6, shadowColor: 'rgba(0,0,0,.18)' },
        })),
        links: edges
          .filter((e) => ids.has(e.source) && ids.has(e.target))
          .map((e) => {
            const bad = (e.error_rate ?? 0) >= 5 ? p.critical : (e.error_rate ?? 0) >= 1 ? p.warning : p.muted;
            const back = pairs.has(`${e.target}→${e.source}`);
            return {
              source: e.source,
              target: e.target,
              edge: e,
              lineStyle: { color: bad, opacity: 0.7, width: 1 + 3 * Math.sqrt(e.rps / maxEdge), curveness: back ? 0.2 : 0.05 },
            };
          }),
      },
    ],
  };
}

