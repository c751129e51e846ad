/**
 * HTTP API of the faults module: HFI's control-plane API exactly (paths, status codes, bodies), plus
 * executor reports and the views the CLI and web UI read.
 *
 *   POST   /v1/policies              create or update; 201 the stored policy               admin
 *   POST   /v1/policies/create       201 {message, policy}; 409 when the name exists        admin
 *   GET    /v1/policies              {policies: [...]}, by name                              viewer, executor
 *   GET    /v1/policies/status       summary and one line per policy                         viewer, executor
 *   GET    /v1/policies/{name}       the policy; 404                                         viewer, executor
 *   PUT    /v1/policies/{name}       200 {message, policy}; URL name = metadata.name; 404    admin
 *   DELETE /v1/policies/{name}       200 {message}; 404                                      admin
 *   GET    /v1/config/stream         SSE: full_config, then update on every change           viewer, executor
 *   GET    /v1/health                {"status":"healthy"}                                    public
 *   POST   /v1/executors/report      an executor's id, version in force and counters         executor
 *   GET    /v1/executors             executors seen, the version each enforces               viewer
 *   GET    /api/v1/faults/summary    injected counts per policy and executor                 viewer
 *   GET    /api/v1/faults/active-intervals   when policies targeting a service were active   viewer
 *
 * Policy bodies are JSON or YAML (application/yaml, text/yaml). They are validated by the policy
 * core, not by the route schema (which documents the shape), so every 400 names the field as the
 * user spelled it; a legacy field that was converted answers with a `Warning` header per note.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ErrorSchema, HttpError, badRequest, notFound } from '../platform/http/errors.js';
import type { Same } from '../platform/schemas.js';
import { PolicyExistsError, PolicyNotFoundError } from './errors.js';
import type { PolicyFeed, PolicySnapshot } from './feed.js';
import { FaultPolicySchema, PolicyValidationError, parsePolicyDocuments, validatePolicy, type FaultPolicy } from './policy/index.js';
import { policyStatus, summarize } from './views.js';
import type { ExecutorReport, FaultStore } from './store.js';

export interface FaultsHttpDeps {
  store: FaultStore;
  feed: PolicyFeed;
  now: () => number;
  /** SSE comment interval (HFI: 30 s). */
  keepaliveMs: number;
  /** An executor not heard from for this long is shown as disconnected. */
  executorStaleMs: number;
  /** Largest policy body accepted (larger: 413). */
  policyBodyLimit: number;
}

const TAGS = ['faults'];
const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
const NAME = /^[A-Za-z0-9_-]{1,63}$/;

/**
 * Policy write bodies only: they may be YAML (a string no JSON schema can check), and the policy core
 * validates both encodings the same way, converting legacy fields and naming the offending one by its
 * JSON path as the user spelled it. Their schema documents the shape; every other route is validated.
 */
const documentOnly = () => () => true;

const Message = Type.Object({ message: Type.String() });
const PolicyEnvelope = Type.Object({ message: Type.String(), policy: FaultPolicySchema, warnings: Type.Optional(Type.Array(Type.String())) });
const NameParams = Type.Object({ name: Type.String() });

const InjectedCounter = Type.Object({
  policy: Type.String({ maxLength: 63 }),
  rule: Type.Integer({ minimum: 0, maximum: 100_000, description: 'Index of the rule in the policy' }),
  type: Type.String({ maxLength: 32 }),
  count: Type.Integer({ minimum: 0, description: 'Cumulative since the executor started' }),
});
/** `POST /v1/executors/report`: who the executor is, the policy version it enforces, its counts. */
export const ExecutorReportBody = Type.Object({
  executor_id: Type.String({ minLength: 1, maxLength: 128 }),
  service: Type.String({ maxLength: 253 }),
  namespace: Type.String({ maxLength: 253 }),
  policy_version: Type.String({ maxLength: 64 }),
  counters: Type.Array(InjectedCounter, { maxItems: 10_000 }),
});
export type ExecutorReportBody = Static<typeof ExecutorReportBody>;
// The wire report is the store's report: a change on one side only fails to compile.
const sameReport: Same<ExecutorReportBody, ExecutorReport> = true;
void sameReport;

const ActiveIntervalsQuery = Type.Object({
  service: Type.String({ minLength: 1, maxLength: 253 }),
  namespace: Type.Optional(Type.String({ maxLength: 253 })),
  since: Type.Optional(Type.String({ description: 'epoch ms or ISO time; default 24 h ago' })),
});

function domain<T>(fn: () => Promise<T>): Promise<T> {
  return fn().catch((err: unknown) => {
    // '(document)' is the whole body (syntax, not an object): no field to name.
    if (err instanceof PolicyValidationError) throw badRequest(err.message, err.field === '(document)' ? undefined : err.field);
    if (err instanceof PolicyNotFoundError) throw notFound(err.message);
    if (err instanceof PolicyExistsError) throw new HttpError(409, 'conflict', err.message, 'metadata.name');
    throw err;
  });
}

/** One policy from a JSON object or a YAML/JSON text body. */
function policyFromBody(body: unknown): { policy: FaultPolicy; warnings: string[] } {
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const r = parsePolicyDocuments(String(body));
    if (r.policies.length !== 1) throw new PolicyValidationError('(document)', `one policy per request, got ${r.policies.length} (vigil fault apply sends a file of several one by one)`);
    return { policy: r.policies[0], warnings: r.warnings };
  }
  if (body === undefined || body === null) throw new PolicyValidationError('(document)', 'a policy body is required (JSON or YAML)');
  return validatePolicy(body);
}

function warn(reply: FastifyReply, warnings: string[]): void {
  // RFC 9111 Warning, code 299 ("miscellaneous persistent warning"); quotes and newlines kept out.
  if (warnings.length) reply.header('warning', warnings.map((w) => `299 vigil "${w.replace(/["\\\r\n]/g, "'")}"`));
}

function nameParam(req: { params: { name: string } }): string {
  const name = req.params.name;
  if (!NAME.test(name)) throw notFound(`policy "${name.slice(0, 80)}" not found`);
  return name;
}

export function registerFaultRoutes(scope: FastifyInstance, deps: FaultsHttpDeps): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { store, feed } = deps;

  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit: deps.policyBodyLimit }, (_req, body, done) => done(null, body));

  const writeRoute = <Extra extends object>(summary: string, extra: Extra) => ({
    bodyLimit: deps.policyBodyLimit,
    validatorCompiler: documentOnly,
    schema: {
      tags: TAGS,
      summary,
      body: FaultPolicySchema,
      ...extra,
    },
  });

  app.post(
    '/v1/policies',
    writeRoute('Create or update a policy (HFI)', { response: { 201: FaultPolicySchema, 400: ErrorSchema, 413: ErrorSchema } }),
    async (req, reply) =>
      domain(async () => {
        const { policy, warnings } = policyFromBody(req.body);
        const r = await store.put(policy, 'upsert');
        feed.poke();
        warn(reply, warnings);
        return reply.code(201).send(r.policy);
      }),
  );

  app.post(
    '/v1/policies/create',
    writeRoute('Create a policy; 409 when the name exists (HFI)', { response: { 201: PolicyEnvelope, 400: ErrorSchema, 409: ErrorSchema } }),
    async (req, reply) =>
      domain(async () => {
        const { policy, warnings } = policyFromBody(req.body);
        const r = await store.put(policy, 'create');
        feed.poke();
        warn(reply, warnings);
        return reply.code(201).send({ message: 'policy created successfully', policy: r.policy, ...(warnings.length ? { warnings } : {}) });
      }),
  );

  app.get(
    '/v1/policies',
    { config: { auth: 'policy-read' }, schema: { tags: TAGS, summary: 'Every policy, by name (HFI)', response: { 200: Type.Object({ policies: Type.Array(FaultPolicySchema) }) } } },
    async () => ({ policies: await store.list() }),
  );

  app.get(
    '/v1/policies/status',
    { config: { auth: 'policy-read' }, schema: { tags: TAGS, summary: 'Policy counts and one line per policy (HFI)' } },
    async () => policyStatus(await store.list(), deps.now()),
  );

  app.get(
    '/v1/policies/:name',
    { config: { auth: 'policy-read' }, schema: { tags: TAGS, summary: 'One policy (HFI)', params: NameParams, response: { 200: FaultPolicySchema, 404: ErrorSchema } } },
    async (req) => {
      const p = await store.get(nameParam(req));
      if (!p) throw notFound(`policy "${req.params.name}" not found`);
      return p;
    },
  );

  app.put(
    '/v1/policies/:name',
    writeRoute('Update a policy; the URL name must equal metadata.name (HFI)', { params: NameParams, response: { 200: PolicyEnvelope, 400: ErrorSchema, 404: ErrorSchema } }),
    async (req, reply) =>
      domain(async () => {
        const name = nameParam(req);
        const { policy, warnings } = policyFromBody(req.body);
        if (policy.metadata.name !== name) throw new PolicyValidationError('metadata.name', `metadata.name "${policy.metadata.name}" differs from the name in the URL "${name}"`);
        const r = await store.put(policy, 'update');
        feed.poke();
        warn(reply, warnings);
        return reply.code(200).send({ message: 'policy updated successfully', policy: r.policy, ...(warnings.length ? { warnings } : {}) });
      }),
  );

  app.delete(
    '/v1/policies/:name',
    { schema: { tags: TAGS, summary: 'Delete a policy (HFI)', params: NameParams, response: { 200: Message, 404: ErrorSchema } } },
    async (req) =>
      domain(async () => {
        await store.delete(nameParam(req));
        feed.poke();
        return { message: 'policy deleted successfully' };
      }),
  );

  app.get('/v1/health', { config: { auth: 'public' }, schema: { tags: TAGS, summary: 'Control plane health (HFI)', response: { 200: Type.Object({ status: Type.String() }) } } }, async () => ({
    status: 'healthy',
  }));

  registerStream(app, deps);

  app.post(
    '/v1/executors/report',
    { config: { auth: 'executor' }, schema: { tags: TAGS, summary: 'An executor reports who it is, the policy version it enforces and its injected counts', body: ExecutorReportBody } },
    async (req) => {
      await store.report(req.body);
      return { ok: true, version: String(await store.version()) };
    },
  );

  app.get('/v1/executors', { schema: { tags: TAGS, summary: 'Executors heard from, with the policy version each enforces' } }, async () => {
    const s = summarize(await store.snapshot(), await store.executors(), deps.now(), deps.executorStaleMs);
    return { version: s.version, executors: s.executors };
  });

  app.get('/api/v1/faults/summary', { schema: { tags: TAGS, summary: 'Injected faults per policy and per executor' } }, async () =>
    summarize(await store.snapshot(), await store.executors(), deps.now(), deps.executorStaleMs),
  );

  app.get(
    '/api/v1/faults/active-intervals',
    {
      schema: {
        tags: TAGS,
        summary: 'When policies targeting a service were in force (for the SLO pages)',
        querystring: ActiveIntervalsQuery,
      },
    },
    async (req) => {
      const q = req.query;
      const now = deps.now();
      const since = q.since === undefined || q.since === '' ? now - 86_400_000 : parseInstant(q.since);
      const namespace = q.namespace === '' ? undefined : q.namespace;
      return { service: q.service, namespace: namespace ?? null, since, now, intervals: await store.activeIntervals({ service: q.service, namespace, since }) };
    },
  );
}

function parseInstant(v: string): number {
  const n = /^\d{1,16}$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw badRequest(`since must be epoch milliseconds or an ISO time, got "${v.slice(0, 64)}"`, 'since');
  return n;
}

/** GET /v1/config/stream: HFI's SSE feed (`event: full_config`, then `event: update`; `id:` the version). */
function registerStream(app: FastifyInstance, deps: FaultsHttpDeps): void {
  const open = new Set<() => void>();
  // Open streams never finish by themselves: end them, or closing the server would wait for ever.
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get(
    '/v1/config/stream',
    { config: { auth: 'policy-read' }, schema: { tags: TAGS, summary: 'Server-sent events: full_config, then update on every change; data is a JSON array of policies (HFI)' } },
    async (req, reply) => {
      const raw = reply.raw;
      const frame = (event: string, s: PolicySnapshot) => `id: ${s.version}\nevent: ${event}\ndata: ${JSON.stringify(s.policies)}\n\n`;
      const sub = await deps.feed.subscribe({ send: (s) => void raw.write(frame('update', s)) });
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // The stream is the connection's last response: when it ends (shutdown), the socket closes
        // with it instead of idling until the keep-alive timeout holds up server close.
        connection: 'close',
        'x-accel-buffering': 'no',
        'x-request-id': String(req.id),
      });
      raw.write(frame('full_config', sub.first));
      const keepalive = setInterval(() => raw.write(': keepalive\n\n'), deps.keepaliveMs);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(keepalive);
        sub.unsubscribe();
        open.delete(end);
        raw.end();
      };
      open.add(end);
      req.raw.on('close', end);
      raw.on('close', end);
      raw.on('error', end);
    },
  );
}
