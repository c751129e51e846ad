import { describe, expect, it } from 'vitest';
import { parseExposition, parseToFamilies, getLabel } from '../../src/prom/textparse/index.js';
import { routeMappingsFromYaml } from '../../src/traefik/index.js';
import { FleetEngine } from '../../src/simulate/engine.js';
import { renderLinkerd, renderTraefik } from '../../src/simulate/render.js';
import { startDemoFleet, fleetManifestsYaml, ROUTES, SERVICES } from '../../src/simulate/index.js';

const START = Date.UTC(2025, 2, 10, 8, 0, 0);

function engine(seed: number, steps: number): FleetEngine {
  const e = new FleetEngine({ seed, startTime: START });
  e.run(steps);
  return e;
}

function expositions(e: FleetEngine): string[] {
  const now = e.now / 1000;
  return [...[...e.podStates.values()].map((p) => renderLinkerd(p, now)), renderTraefik(e.traefik, now)];
}

/** Sum of a counter over an exposition, for samples whose labels pass `keep`. */
function sumOf(text: string, name: string, keep: (labels: readonly string[]) => boolean): number {
  let n = 0;
  parseExposition(text, { onSample: (s, labels, v) => void (s === name && keep(labels) ? (n += v) : 0) }, { lenient: false });
  return n;
}

describe('demo fleet engine', () => {
  it('is deterministic in the seed (and start time)', () => {
    const a = engine(11, 400);
    const b = engine(11, 400);
    expect(b.truth()).toEqual(a.truth());
    expect(expositions(b)).toEqual(expositions(a));
    const c = engine(12, 400);
    expect(c.truth()).not.toEqual(a.truth());
  });

  it('has 11 services, 3 domains and 8 routes', () => {
    const t = engine(1, 120).truth();
    expect(Object.keys(t.services)).toHaveLength(11);
    expect(new Set(Object.values(t.ingress).map((i) => i.domain))).toEqual(new Set(['shop.example.com', 'api.example.com', 'media.example.com']));
    expect(Object.keys(t.ingress)).toHaveLength(8);
    for (const s of Object.values(t.services)) expect(s.requests).toBeGreaterThan(0);
  });

  it('keeps its counters consistent: inbound = meshed edges + unmeshed callers, ingress = Traefik → backend edge', () => {
    const t = engine(3, 900).truth();
    for (const [id, s] of Object.entries(t.services)) {
      const fromEdges = Object.values(t.edges)
        .filter((e) => e.dst === id)
        .reduce((a, e) => a + e.requests, 0);
      expect(s.tlsRequests, id).toBe(fromEdges);
      if (id === 'shop/orders') expect(s.requests).toBeGreaterThan(fromEdges); // the unmeshed batch job
      else expect(s.requests, id).toBe(fromEdges);
      expect(s.latency.count, id).toBe(s.requests);
      expect(Object.values(s.byStatus).reduce((a, n) => a + n, 0), id).toBe(s.requests);
      expect(s.failures, id).toBe((s.byStatus['500'] ?? 0) + (s.byStatus['503'] ?? 0));
    }
    for (const i of Object.values(t.ingress)) {
      const e = t.edges[`traefik/traefik->${i.namespace}/${i.service}`];
      expect(i.requests).toBe(e.requests);
      expect(i.errors).toBe(e.failures);
      expect(i.latency.count).toBe(i.requests);
    }
  });

  it('exposes what the truth says, in valid exposition text with probe and admin-port traffic on the side', () => {
    const e = engine(5, 600);
    const t = e.truth();
    const now = e.now / 1000;
    for (const svc of SERVICES) {
      const pods = [...e.podStates.values()].filter((p) => p.def.namespace === svc.namespace && p.def.deployment === svc.name);
      let app = 0;
      let probes = 0;
      for (const p of pods) {
        const text = renderLinkerd(p, now);
        app += sumOf(text, 'response_total', (l) => getLabel(l, 'direction') === 'inbound' && getLabel(l, 'route_name') === 'default');
        probes += sumOf(text, 'response_total', (l) => getLabel(l, 'route_name') === 'probe');
      }
      expect(app, `${svc.namespace}/${svc.name}`).toBe(t.services[`${svc.namespace}/${svc.name}`].requests);
      expect(probes).toBe(2 * 60 * pods.length);
    }
    const traefik = renderTraefik(e.traefik, now);
    const parsed = parseToFamilies(traefik, { lenient: false });
    expect(parsed.families.map((f) => f.name)).toContain('traefik_service_request_duration_seconds');
    for (const [key, i] of Object.entries(t.ingress)) {
      expect(sumOf(traefik, 'traefik_service_requests_total', (l) => getLabel(l, 'service') === key)).toBe(i.requests);
    }
  });

  it('restart(target) resets that target\'s counters and start time, not the truth', () => {
    const e = engine(9, 300);
    const pod = [...e.podStates.values()].find((p) => p.def.deployment === 'web')!;
    const before = e.truth();
    const oldStart = pod.startTime;
    e.restart(pod.def.pod);
    e.restart('traefik');
    expect(pod.series.size).toBe(0);
    expect(pod.startTime).toBeGreaterThan(oldStart);
    expect(e.truth()).toEqual(before);
    expect(renderLinkerd(pod, e.now / 1000)).toContain(`process_start_time_seconds ${pod.startTime}`);
    e.run(30);
    expect(sumOf(renderTraefik(e.traefik, e.now / 1000), 'traefik_service_requests_total', () => true)).toBeLessThan(
      Object.values(e.truth().ingress).reduce((a, i) => a + i.requests, 0),
    );
    expect(() => e.restart('no-such-pod')).toThrow(/no such target/);
  });

  it('has error bursts and latency shifts over a day', () => {
    const e = new FleetEngine({ seed: 42, startTime: START });
    let bursts = 0;
    let shifts = 0;
    for (const s of SERVICES) {
      for (let t = START / 1000; t < START / 1000 + 86_400; t += 300) {
        const c = e.conditions(s, t);
        if (c.errorRate > 0.04) bursts++;
        if (c.latencyFactor > 1) shifts++;
      }
    }
    expect(bursts).toBeGreaterThan(0);
    expect(shifts).toBeGreaterThan(0);
  });
});

describe('demo fleet manifests', () => {
  it('name Traefik services exactly as Traefik labels the fleet\'s metrics', () => {
    const mappings = routeMappingsFromYaml(fleetManifestsYaml());
    expect(mappings).toHaveLength(8);
    const e = engine(2, 120);
    const labels = new Set([...e.traefik.series.values()].map((s) => s.service));
    expect(new Set(mappings.map((m) => m.traefikService))).toEqual(labels);
    for (const r of ROUTES) {
      const m = mappings.find((x) => x.domain === r.domain && x.pathPrefix === r.path);
      expect(m, `${r.domain}${r.path}`).toBeDefined();
      expect(m!.backendServices[0].name).toBe(r.service);
      expect(m!.tls).toBe(r.tls);
    }
  });
});

describe('demo fleet over HTTP', () => {
  it('serves targets, expositions, manifests and the truth', async () => {
    const fleet = await startDemoFleet({ port: 0, seed: 4, speed: 1, clock: 'manual', startTime: START });
    try {
      fleet.advance(60_000);
      expect(fleet.targets.length).toBe(SERVICES.reduce((a, s) => a + s.replicas, 0) + 3); // + traefik proxy, prometheus, traefik
      const targets = (await (await fetch(`${fleet.url}/targets`)).json()) as { url: string }[];
      expect(targets).toEqual(fleet.targets);
      for (const t of fleet.targets) {
        const res = await fetch(t.url);
        expect(res.status, t.url).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        const text = await res.text();
        expect(() => parseExposition(text, { onSample() {} }, { lenient: false })).not.toThrow();
      }
      expect(await (await fetch(`${fleet.url}/manifests.yaml`)).text()).toBe(fleet.manifestsYaml);
      const truth = (await (await fetch(`${fleet.url}/truth`)).json()) as { steps: number };
      expect(truth.steps).toBe(60);
      expect((await fetch(`${fleet.url}/linkerd/shop/web/nope/metrics`)).status).toBe(404);
      expect((await fetch(`${fleet.url}/restart?target=traefik`, { method: 'POST' })).status).toBe(204);
      expect((await fetch(`${fleet.url}/restart?target=nope`, { method: 'POST' })).status).toBe(404);
    } finally {
      await fleet.stop();
    }
  });

  it('runs simulated time faster than wall time with speed', async () => {
    const fleet = await startDemoFleet({ port: 0, seed: 4, speed: 600 });
    try {
      await expect.poll(() => fleet.truth().steps, { timeout: 10_000 }).toBeGreaterThan(60);
    } finally {
      await fleet.stop();
    }
  });
});
