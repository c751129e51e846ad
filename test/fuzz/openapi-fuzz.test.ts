/**
 * Fuzz every route of the OpenAPI document (issue 7, "keep it fixed"), on SQLite and PostgreSQL, with
 * an admin token: for each path parameter, query parameter and body field, a seeded pick of hostile
 * values (non-finite and huge numbers, numbers as strings, wrong types, NUL, lone surrogates, long and
 * 10 MB strings, deep nesting, extra properties). Every answer must be a 2xx, or a 4xx with the JSON
 * error body `{error, message, field?}` whose field names the mutated field when the unmutated
 * request succeeded; never a 5xx. Afterwards the jobs still run and nothing was quarantined (no
 * poisoned row got in through the API).
 *
 * VIGIL_FUZZ_ITERATIONS (default 300 per backend) scales the run, VIGIL_FUZZ_SEED changes the picks;
 * `npm run fuzz` runs 20 000 per backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { allModules } from '../../src/modules.js';
import type { VigilModule } from '../../src/platform/module.js';
import { fleetSnapshot } from '../support/slo-fixtures.js';
import { sqlCases } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  bodyMutations,
  bodyText,
  dotted,
  getAt,
  jsonType,
  normaliseField,
  paramMutations,
  paths,
  pick,
  prng,
  sample,
  schemaAt,
  typeAllows,
  type Json,
  type Path,
} from './mutations.js';

const ITERATIONS = Math.max(1, Number(process.env.VIGIL_FUZZ_ITERATIONS ?? 300));
const SEED = Number(process.env.VIGIL_FUZZ_SEED ?? 20261203);
/** 10 MB bodies per backend: a few in the default run, more in long ones. */
const BIG_BODIES = Math.max(2, Math.floor(ITERATIONS / 2000));

type Schema = Record<string, unknown>;

interface Operation {
  method: string;
  path: string;
  params: { name: string; schema: Schema }[];
  query: { name: string; schema: Schema; required: boolean }[];
  bodySchema?: Schema;
}

interface Request {
  params: Record<string, string>;
  query: Record<string, string>;
  body?: Json;
}

/** Where a hostile value goes. */
type Target = { in: 'path' | 'query'; name: string } | { in: 'body'; at: Path };

const MIN = 60_000;
const now = Date.now();
const shape = { cluster: 'alpha', services: 3, edges: 3, routes: 3, domains: 1 };
const snapshot = fleetSnapshot(shape, 1, now - 2 * MIN) as unknown as Json;
const domain = (snapshot as { routes: { domain: string }[] }).routes[0].domain;
const service = (snapshot as { services: { namespace: string; name: string }[] }).services[0];
const hex = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((seed * 7 + i * 13) % 16).toString(16)).join('');

/** Requests known to succeed, where a generated one would not (ids that exist, consistent snapshots). */
function examples(seq: () => number): Record<string, () => Partial<Request>> {
  return {
    'POST /api/v2/agent/snapshots': () => ({ body: { ...(structuredClone(snapshot) as Record<string, Json>), seq: seq() } }),
    'PUT /api/v2/slo/targets': () => ({
      query: { cluster_id: 'alpha' },
      body: { targets: [{ scope: 'domain', key: domain, window: '1d', availability_target: 99.5, p95_latency_target: 300, p99_latency_target: null }], remove: [] },
    }),
    'GET /api/v2/slo/domains/{domain}': () => ({ params: { domain }, query: { cluster_id: 'alpha', time_range: '1d' } }),
    'GET /api/v2/slo/mesh/services/{namespace}/{name}': () => ({ params: { namespace: service.namespace, name: service.name }, query: { cluster_id: 'alpha', time_range: '1d' } }),
    'GET /api/v2/slo/status-history': () => ({ query: { cluster_id: 'alpha', limit: '10', since: '0' } }),
    'GET /api/v2/slo/routes/match': () => ({ query: { cluster_id: 'alpha', host: domain, path: '/' } }),
    'POST /v1/anomaly/check': () => ({ body: { service: 'checkout', endpoint: 'POST /checkout', durationMs: 12, timestampMs: now } }),
    'GET /v1/baseline': () => ({ query: { service: 'checkout', endpoint: 'POST /checkout', hour: '*', dayType: '*' } }),
    'POST /api/v1/anomaly/summaries': () => ({
      body: { check: true, summaries: [{ traceId: hex(32, seq()), service: 'checkout', endpoint: 'POST /checkout', startMs: now - MIN, durationMs: 12 }] },
    }),
    'POST /v1/traces': () => {
      const n = seq();
      return {
        body: {
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
              scopeSpans: [
                {
                  spans: [
                    {
                      traceId: hex(32, n + 1),
                      spanId: hex(16, n + 2),
                      name: 'GET /orders/42',
                      kind: 2,
                      startTimeUnixNano: String(BigInt(now - MIN) * 1_000_000n),
                      endTimeUnixNano: String(BigInt(now - MIN + 30) * 1_000_000n),
                    },
                  ],
                },
              ],
            },
          ],
        },
      };
    },
  };
}

const GENERIC_QUERY: Record<string, string> = { cluster_id: 'alpha', time_range: '1d' };

function operations(spec: { paths: Record<string, Record<string, Schema>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    if (path.includes('*') || path.startsWith('/api/docs')) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const parameters = (op.parameters ?? []) as { name: string; in: string; schema?: Schema; required?: boolean }[];
      const content = (op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)?.content;
      ops.push({
        method: method.toUpperCase(),
        path,
        params: parameters.filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        query: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {}, required: !!p.required })),
        bodySchema: content?.['application/json']?.schema,
      });
    }
  }
  return ops;
}

function baseRequest(op: Operation, ex: Record<string, () => Partial<Request>>): Request {
  const given = ex[`${op.method} ${op.path}`]?.() ?? {};
  const params: Record<string, string> = {};
  for (const p of op.params) params[p.name] = given.params?.[p.name] ?? String(sample(p.schema));
  const query: Record<string, string> = { ...given.query };
  for (const q of op.query) if (query[q.name] === undefined && (q.required || GENERIC_QUERY[q.name])) query[q.name] = GENERIC_QUERY[q.name] ?? String(sample(q.schema));
  const body = given.body ?? (op.bodySchema ? sample(op.bodySchema) : op.method === 'GET' || op.method === 'DELETE' ? undefined : {});
  return { params, query, body };
}

/** URL of a request; `raw` holds parameter values already URL-encoded (the mutations). */
function urlOf(op: Operation, r: Request, raw: { name: string; in: 'path' | 'query'; text: string } | null): string {
  let path = op.path;
  for (const p of op.params) {
    const text = raw?.in === 'path' && raw.name === p.name ? raw.text : encodeURIComponent(r.params[p.name]);
    path = path.replace(`{${p.name}}`, text);
  }
  const parts: string[] = [];
  for (const [k, v] of Object.entries(r.query)) if (!(raw?.in === 'query' && raw.name === k)) parts.push(`${k}=${encodeURIComponent(v)}`);
  if (raw?.in === 'query') parts.push(`${raw.name}=${raw.text.replace('__repeat__', raw.name)}`);
  return parts.length ? `${path}?${parts.join('&')}` : path;
}

function targets(op: Operation, r: Request): Target[] {
  const out: Target[] = [];
  for (const p of op.params) out.push({ in: 'path', name: p.name });
  for (const q of op.query) out.push({ in: 'query', name: q.name });
  if (r.body !== undefined) for (const at of paths(r.body)) out.push({ in: 'body', at });
  if (r.body !== undefined) out.push({ in: 'body', at: [] });
  return out;
}

const fieldOf = (t: Target) => (t.in === 'body' ? dotted(t.at) : t.name);

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`OpenAPI fuzz: no route answers hostile input with a 5xx (${c.name})`, () => {
    let t: TestServer;
    let modules: VigilModule[];
    let ops: Operation[];
    let seqNo = 100;
    const ex = examples(() => ++seqNo);

    const send = async (method: string, url: string, body?: string) => {
      const headers: Record<string, string> = { authorization: `Bearer ${t.adminToken}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 15_000);
      try {
        const res = await fetch(t.url + url, { method, headers, body, signal: abort.signal });
        // A stream (server-sent events) never ends: its status and headers are the answer.
        if (String(res.headers.get('content-type')).includes('text/event-stream')) {
          abort.abort();
          return { status: res.status, text: '' };
        }
        return { status: res.status, text: await res.text() };
      } catch (err) {
        return { status: 599, text: `no answer within 15 s (${(err as Error).message})` };
      } finally {
        clearTimeout(timer);
      }
    };

    beforeAll(async () => {
      modules = allModules(loadConfig({ env: {}, flags: { 'anomaly.checkMaxAge': '36500d' } }));
      t = await startTestServer({ pgUrl: c.url, modules, flags: { 'server.jobs': false } });
      // Data for the reads to find: a cluster with routes and services, a target, learned traces.
      for (const key of ['POST /api/v2/agent/snapshots', 'PUT /api/v2/slo/targets', 'POST /api/v1/anomaly/summaries']) {
        const [method, path] = key.split(' ');
        const r = ex[key]();
        const res = await send(method, urlOf({ method, path, params: [], query: [] }, { params: {}, query: r.query ?? {} }, null), JSON.stringify(r.body));
        expect(res.status, `${key}: ${res.text}`).toBeLessThan(300);
      }
      const spec = JSON.parse((await send('GET', '/api/openapi.json')).text) as { paths: Record<string, Record<string, Schema>> };
      ops = operations(spec);
    }, 60_000);
    afterAll(async () => {
      await t?.stop();
    });

    it(
      `${ITERATIONS} hostile requests (seed ${SEED}): each a 2xx or a named 4xx, never a 5xx`,
      async () => {
        expect(ops.length).toBeGreaterThan(10);
        const rand = prng(SEED);
        const baseOk = new Map<Operation, boolean>();
        const problems: string[] = [];
        let big = BIG_BODIES;
        const judge = (op: Operation, what: string, field: string | null, res: { status: number; text: string }) => {
          const where = `${op.method} ${op.path} ${what}`;
          if (res.status >= 500) return problems.push(`${where}: ${res.status} ${res.text.slice(0, 200)}`);
          if (res.status < 400) return;
          let body: { error?: unknown; message?: unknown; field?: unknown };
          try {
            body = JSON.parse(res.text) as typeof body;
          } catch {
            return problems.push(`${where}: ${res.status} without a JSON body: ${res.text.slice(0, 120)}`);
          }
          // GET /v1/baseline keeps seed 004's 404 body, {"error":"not found"}.
          const seed404 = res.status === 404 && op.path === '/v1/baseline';
          if (typeof body.error !== 'string' || (!seed404 && typeof body.message !== 'string') || (body.field !== undefined && typeof body.field !== 'string')) {
            return problems.push(`${where}: ${res.status} body is not {error, message, field?}: ${res.text.slice(0, 200)}`);
          }
          if (field === null || res.status !== 400 || body.error !== 'bad_request' || !baseOk.get(op)) return;
          // Not field errors: a URL that cannot be decoded fails before routing, and OTLP answers in
          // its protocol's shape (the message names the path inside the export request).
          if (/not validly percent-encoded/.test(String(body.message)) || op.path === '/v1/traces') return;
          // The unmutated request succeeded, so this 400 is about the mutated field: it must say so.
          const named = typeof body.field === 'string' ? normaliseField(body.field) : '';
          // Related: the field itself, inside it, an object containing it, or a sibling in the same
          // object (a histogram's counts and count must agree).
          const parent = named.includes('.') ? named.slice(0, named.lastIndexOf('.')) : '';
          const related =
            named === field || named.startsWith(`${field}.`) || field.startsWith(`${named}.`) || (parent !== '' && field.startsWith(`${parent}.`)) || (field === '' && named !== '');
          if (!related) problems.push(`${where}: 400 names ${JSON.stringify(body.field)}, not ${field || '(body)'}: ${String(body.message).slice(0, 160)}`);
        };

        for (const op of ops) {
          const r = baseRequest(op, ex);
          const res = await send(op.method, urlOf(op, r, null), r.body === undefined ? undefined : JSON.stringify(r.body));
          baseOk.set(op, res.status < 300);
          judge(op, 'unmutated', null, res);
        }

        for (let i = 0; i < ITERATIONS; i++) {
          const op = ops[i % ops.length];
          const r = baseRequest(op, ex);
          const ts = targets(op, r);
          if (!ts.length) {
            judge(op, 'unmutated', null, await send(op.method, urlOf(op, r, null), r.body === undefined ? undefined : JSON.stringify(r.body)));
            continue;
          }
          const target = pick(rand, ts);
          if (target.in === 'body') {
            const muts = bodyMutations(getAt(r.body!, target.at), big > 0 && rand() < 0.05);
            const m = pick(rand, muts);
            if (m.kind === '10 MB string') big--;
            const res = await send(op.method, urlOf(op, r, null), bodyText(r.body!, target.at, m));
            judge(op, `body ${dotted(target.at) || '(root)'} ← ${m.kind}`, fieldOf(target), res);
            // A value of a type the documented schema forbids must not be accepted (no coercion).
            // (Partial acceptance that names the item in `errors`, as the summaries route does, is a refusal.)
            const namedInErrors = () => {
              const errors = (JSON.parse(res.text || '{}') as { errors?: { field?: string }[] }).errors ?? [];
              return errors.some((e) => typeof e.field === 'string' && dotted(target.at).startsWith(normaliseField(e.field)));
            };
            if ('value' in m && res.status < 300 && baseOk.get(op) && typeAllows(schemaAt(op.bodySchema, target.at), m.value) === false && !namedInErrors()) {
              problems.push(`${op.method} ${op.path} body ${dotted(target.at)} ← ${m.kind}: ${res.status}, but the schema does not allow a ${jsonType(m.value)}`);
            }
          } else {
            const m = pick(rand, paramMutations);
            if (target.in === 'path' && (m.text === '' || m.kind === 'repeated')) continue; // a different route, not a value
            const res = await send(op.method, urlOf(op, r, { in: target.in, name: target.name, text: m.text }), r.body === undefined ? undefined : JSON.stringify(r.body));
            judge(op, `${target.in} ${target.name} ← ${m.kind}`, fieldOf(target), res);
          }
        }
        expect(problems, problems.slice(0, 30).join('\n')).toEqual([]);
      },
      Math.max(60_000, ITERATIONS * 200),
    );

    it('afterwards the rollup, status, retention and baseline jobs run, and nothing was quarantined', async () => {
      const wanted = ['slo-rollup', 'slo-status', 'slo-retention', 'anomaly.baselines'];
      const jobs = modules.flatMap((m) => m.jobs?.(t.server.ctx) ?? []).filter((j) => wanted.includes(j.name));
      expect(jobs.map((j) => j.name).sort()).toEqual([...wanted].sort());
      for (const j of jobs) await expect(j.run(new AbortController().signal), j.name).resolves.toBeUndefined();
      const count = async (table: string) => Number(((await t.server.ctx.sql.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()) as { n: number }).n);
      expect(await count('slo_quarantine')).toBe(0);
      expect(await count('anomaly_quarantine')).toBe(0);
      expect(await count('slo_snapshots')).toBeGreaterThan(0);
      const ready = await send('GET', '/readyz');
      expect(ready.status).toBe(200);
    }, 120_000);
  });
}
