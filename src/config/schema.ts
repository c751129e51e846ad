import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * The one configuration schema. YAML file, VIGIL_* environment variables and command-line flags
 * are all validated against it; docs/configuration.md is generated from it (npm run docs:config).
 * `secret: true` marks values that `vigil config print` masks.
 */
const obj = <T extends Record<string, TSchema>>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, description });

const duration = (def: string, description: string) =>
  Type.String({ pattern: '^[0-9]+(ms|s|m|h|d)$', default: def, description: `${description} (e.g. 500ms, 15s, 5m, 2h, 7d)` });

export const ServerSection = obj(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Interface the HTTP server binds to' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'HTTP port (0 picks a free one)' }),
    publicUrl: Type.Optional(Type.String({ description: 'URL users reach the server at (links in notifications)' })),
    bodyLimitBytes: Type.Integer({ minimum: 1024, default: 10 * 1024 * 1024, description: 'Largest accepted request body; larger bodies get 413' }),
    shutdownTimeout: duration('15s', 'How long SIGTERM waits for in-flight requests and jobs'),
    serveWeb: Type.Boolean({ default: true, description: 'Serve the web dashboard at /' }),
    jobs: Type.Boolean({ default: true, description: 'Run background jobs (rollup, retention, baselines) on this replica, under a lease' }),
  },
  'HTTP server',
);

export const AuthSection = obj(
  {
    anonymousRead: Type.Optional(
      Type.Boolean({ description: 'Allow GET requests without a token. Default: on only when server.host is a loopback address' }),
    ),
    adminToken: Type.Optional(
      Type.String({ minLength: 16, secret: true, description: 'Admin token to create on first start instead of a random one (env VIGIL_ADMIN_TOKEN)' }),
    ),
  },
  'Bearer-token authentication',
);

export const DatabaseSection = obj(
  {
    url: Type.String({
      default: '',
      secret: true,
      description: 'SQL store: empty for SQLite at <dataDir>/vigil.db, sqlite:/path/file.db, or postgres://user:pass@host/db',
    }),
    poolSize: Type.Integer({ minimum: 1, maximum: 200, default: 10, description: 'PostgreSQL connection pool size' }),
  },
  'SQL store',
);

export const RedisSection = obj(
  {
    url: Type.String({ default: '', secret: true, description: 'KV store: empty for a durable SQLite file at <dataDir>/vigil-kv.db, sqlite:/path/kv.db, memory: (in-process, lost on exit: tests only), or redis://host:6379/0' }),
    prefix: Type.String({ default: 'vigil:', description: 'Key prefix, so several installations can share one Redis' }),
  },
  'KV store',
);

export const NatsSection = obj(
  {
    url: Type.String({ default: '', secret: true, description: 'Event bus: empty for in-process, or nats://host:4222 (NATS with JetStream enabled)' }),
    prefix: Type.String({ default: 'vigil', pattern: '^[A-Za-z0-9-]{1,40}$', description: 'Prefix of JetStream stream and subject names, so several installations can share one NATS' }),
  },
  'Event bus',
);

export const BlobSection = obj(
  {
    url: Type.String({
      default: '',
      secret: true,
      description:
        'Blob store for uploaded files: empty for <dataDir>/blobs, file:///path, or s3://[KEY:SECRET@]bucket/prefix?endpoint=http://host:9000&region=us-east-1&forcePathStyle=true (credentials percent-encoded; without them the AWS_* environment variables apply)',
    }),
  },
  'Blob store',
);

export const WorkerSection = obj(
  {
    concurrency: Type.Integer({ minimum: 1, maximum: 1024, default: 8, description: 'Queue messages handled at once per consumer in this process (vigil worker --concurrency)' }),
    host: Type.String({ default: '127.0.0.1', description: 'Interface the worker\'s /healthz, /readyz and /metrics bind to (vigil worker only)' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8081, description: 'Port of the worker\'s /healthz, /readyz and /metrics (vigil worker only; 0 picks a free one)' }),
    inProcess: Type.Boolean({ default: true, description: 'vigil server and vigil up also run every queue consumer in process (--no-workers turns it off)' }),
  },
  'Queue workers',
);

export const LogSection = obj(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info', description: 'Log level' },
    ),
    pretty: Type.Boolean({ default: false, description: 'Human-readable logs instead of JSON lines' }),
  },
  'Logging',
);

export const ScrapeTarget = Type.Object(
  {
    url: Type.String({ description: 'http(s) URL of a /metrics endpoint' }),
    namespace: Type.Optional(Type.String()),
    deployment: Type.Optional(Type.String()),
    pod: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const AgentSection = obj(
  {
    clusterId: Type.String({ default: 'local', pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Cluster this agent reports for' }),
    agentId: Type.String({ default: '', description: 'Agent id (default: hostname)' }),
    serverUrl: Type.String({ default: '', description: 'Vigil server to ship snapshots to (default: the local server)' }),
    token: Type.String({ default: '', secret: true, description: 'Agent bearer token bound to clusterId' }),
    interval: duration('15s', 'Scrape interval'),
    scrapeTimeout: duration('10s', 'Timeout of one scrape'),
    targets: Type.Array(ScrapeTarget, { default: [], description: 'Static scrape targets' }),
    kubernetes: Type.Boolean({ default: false, description: 'Discover pods and IngressRoutes through the Kubernetes API' }),
    routesFile: Type.String({ default: '', description: 'YAML file of IngressRoute / Ingress manifests' }),
    otelPrefix: Type.String({ default: 'otel_', description: 'Name prefix of the OpenTelemetry Collector prometheus exporter' }),
    excludeNamespaces: Type.Array(Type.String(), { default: ['linkerd', 'linkerd-viz', 'kube-system'], description: 'Namespaces dropped' }),
    adminPorts: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { default: [4191], description: 'Series whose target port is one of these (the Linkerd proxy admin port) are dropped' }),
    dropRouteNames: Type.Array(Type.String(), { default: ['probe'], description: 'Series with route_name equal to one of these are dropped' }),
    seriesTtl: duration('10m', 'Series not seen for this long are forgotten'),
    spoolDir: Type.String({ default: '', description: 'Where unsent snapshots wait (default <dataDir>/spool)' }),
    spoolMaxBytes: Type.Integer({ minimum: 1024, default: 256 * 1024 * 1024, description: 'Spool size bound; when full the oldest is dropped and counted' }),
    metricsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9464, description: 'Port of the agent\'s own /metrics (vigil agent only)' }),
  },
  'SLO agent',
);

export const SloSection = obj(
  {
    rawRetention: duration('48h', 'Keep per-minute raw rows this long'),
    hourlyRetention: duration('90d', 'Keep hourly rollups this long'),
    statusRetention: duration('180d', 'Keep status history this long'),
    rollupInterval: duration('1m', 'How often the rollup job runs'),
    minBurnRequests: Type.Integer({ minimum: 0, default: 100, description: 'Burn-rate alerts need at least this many requests in the long window' }),
    minStatusRequests: Type.Integer({ minimum: 0, default: 100, description: 'A status needs at least this many requests in its window; below it the status is insufficient_data' }),
    minCoveredTime: duration('10m', 'A status and a burn alert need at least this much time with data in their window; below it the status is insufficient_data'),
  },
  'SLO server',
);

export const AnomalySection = obj(
  {
    timeZone: Type.String({ default: 'Asia/Taipei', description: 'IANA time zone for hour-of-day and weekday/weekend buckets' }),
    factor: Type.Number({ exclusiveMinimum: 0, default: 2.0, description: 'Anomaly if duration > factor × p95 ...' }),
    k: Type.Number({ exclusiveMinimum: 0, default: 10, description: '... and > p50 + k × MAD' }),
    windowSize: Type.Integer({ minimum: 10, default: 1000, description: 'Durations kept per baseline bucket' }),
    minSamples: Type.Integer({ minimum: 1, default: 50, description: 'Samples needed before a bucket has a baseline' }),
    madFloorMs: Type.Number({ minimum: 0, default: 1, description: 'MAD used when the measured MAD is below this (MAD = 0 would make p50 + k × MAD meaningless)' }),
    madFloorRatio: Type.Number({ minimum: 0, default: 0, description: 'Alternative MAD floor as a fraction of p50 (the larger floor wins)' }),
    weekendDays: Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { default: [0, 6], description: 'Days (0 = Sunday) that count as weekend' }),
    fallback: obj(
      {
        neighbourHours: Type.Integer({ minimum: 0, maximum: 11, default: 2, description: 'Hours either side pooled when the exact bucket is thin' }),
        neighbourMinSamples: Type.Integer({ minimum: 1, default: 20, description: 'Samples the neighbouring hours need together' }),
        dayTypeMinSamples: Type.Integer({ minimum: 1, default: 50, description: 'Samples the same-day-type baseline needs' }),
        allMinSamples: Type.Integer({ minimum: 1, default: 30, description: 'Samples the all-hours baseline needs' }),
      },
      'Fallback chain when the exact bucket is thin',
    ),
    seenTtl: duration(
      '25h',
      'Replay horizon: how long a trace id is remembered for de-duplication. A trace delivered again within it (Tempo catch-up after an outage, a re-run backfill) is never learned twice; the Tempo catch-up reaches back at most this minus tempo.lookback. Costs about 100 bytes of KV per trace',
    ),
    learnAnomaliesAfter: duration('1h', 'Traces judged anomalous at ingest count towards baselines only after this long, so an incident does not raise the threshold that detects it (a lasting change is adopted after it)'),
    baselineInterval: duration('30s', 'How often dirty baselines are recomputed'),
    baselineBatch: Type.Integer({ minimum: 1, default: 500, description: 'Dirty keys recomputed per batch' }),
    serverSpans: Type.Boolean({ default: false, description: 'Also learn per-SERVER-span baselines from OTLP' }),
    overrides: Type.Record(
      Type.String(),
      Type.Object(
        {
          factor: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          k: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          minSamples: Type.Optional(Type.Integer({ minimum: 1 })),
          madFloorMs: Type.Optional(Type.Number({ minimum: 0 })),
          madFloorRatio: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
      { default: {}, description: 'Per-service overrides of factor, k, minSamples and the MAD floor' },
    ),
    normalizeRules: Type.Array(
      Type.Object({ pattern: Type.String(), replacement: Type.String() }, { additionalProperties: false }),
      { default: [], description: 'Extra endpoint normalisation rules (regex → replacement), applied before the built-in ones' },
    ),
    retention: duration('30d', 'How long detected anomalies are kept in the feed'),
    checkMaxAge: duration('6h', 'Traces older than this when they arrive are learned from but not checked (history replays, long catch-ups)'),
    traceUrlTemplate: Type.String({ default: '', description: 'Link to a trace, e.g. https://grafana/explore?traceId={traceId}' }),
    tempo: obj(
      {
        url: Type.String({ default: '', description: 'Tempo base URL; empty disables polling' }),
        tenant: Type.String({ default: '', description: 'X-Scope-OrgID header' }),
        username: Type.String({ default: '' }),
        password: Type.String({ default: '', secret: true }),
        bearerToken: Type.String({ default: '', secret: true }),
        query: Type.String({ default: '', description: 'TraceQL filter (q=)' }),
        tags: Type.String({ default: '', description: 'logfmt tags filter (tags=)' }),
        limit: Type.Integer({ minimum: 1, default: 1000 }),
        pollInterval: duration('15s', 'Poll period'),
        lookback: duration('120s', 'Window polled each time'),
      },
      'Tempo poller',
    ),
    webhook: obj(
      {
        url: Type.String({ default: '', secret: true, description: 'POSTed a JSON body for each anomaly; empty disables' }),
        minInterval: duration('5m', 'At most one notification per service|endpoint in this interval'),
        retries: Type.Integer({ minimum: 0, default: 3 }),
      },
      'Anomaly webhook',
    ),
  },
  'Latency anomaly detection',
);

export const BatchesSection = obj(
  {
    maxFileBytes: Type.Integer({ minimum: 1024, default: 2 * 1024 * 1024 * 1024, description: 'Largest uploaded file; larger uploads get 413 and nothing is kept' }),
    maxFilesPerBatch: Type.Integer({ minimum: 1, maximum: 100000, default: 10000, description: 'Files per batch, archive members included' }),
    maxDecompressedBytes: Type.Integer({ minimum: 1024, default: 8 * 1024 * 1024 * 1024, description: 'Bytes a .gz file or an archive may expand to; beyond it the file fails (zip bombs)' }),
    maxArchiveMembers: Type.Integer({ minimum: 1, default: 5000, description: 'Files one archive may hold' }),
    parseAttempts: Type.Integer({ minimum: 1, maximum: 20, default: 4, description: 'Deliveries of a parse job before its file is marked failed with the last error' }),
    parseAckWait: duration('2m', 'A parse job not acknowledged for this long (its worker died) is handed to another worker'),
    stallAfter: duration('2m', 'A batch whose state has not moved for this long is nudged again (lost messages, crashed workers)'),
    reportCacheTtl: duration('10m', 'How long a report stays in the KV cache'),
    retention: duration('30d', 'Batches, their files and reports are deleted this long after creation (0d keeps them)'),
    demo: Type.Optional(Type.Boolean({ description: 'Create demo vehicle batches at start (default: on in `vigil up`)' })),
  },
  'Log batches',
);

export const DiagnosisSection = obj(
  {
    rulesFile: Type.String({ default: '', description: 'YAML rules file that adds to (or overrides by id) the shipped OTA rules' }),
    llm: obj(
      {
        url: Type.String({ default: '', description: 'OpenAI-compatible base URL (…/v1); empty disables the LLM summary' }),
        model: Type.String({ default: '', description: 'Model name sent with each request' }),
        apiKey: Type.String({ default: '', secret: true, description: 'Bearer key for the endpoint' }),
        timeout: duration('60s', 'Give up on the LLM after this long and keep the rule report'),
        maxTokens: Type.Integer({ minimum: 16, maximum: 32768, default: 800, description: 'Longest summary requested' }),
      },
      'Optional LLM summary',
    ),
  },
  'Batch diagnosis',
);

export const SimulateSection = obj(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'Run the demo fleet (default: on in `vigil up`)' })),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 0, description: 'Port of the simulated /metrics endpoints (0 = free port)' }),
    seed: Type.Integer({ default: 42, description: 'Random seed of the demo fleet' }),
    speed: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Simulated time runs this many times faster than wall time' }),
    faultDemo: Type.Boolean({
      default: true,
      description: 'In `vigil up`: real requests through a fault executor in front of the demo service demo/frontend (route demo.example.com/), so fault policies show on the SLO pages',
    }),
  },
  'Demo fleet',
);

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({ default: './.vigil', description: 'Directory for the SQLite file, spool and local state' }),
    server: ServerSection,
    auth: AuthSection,
    database: DatabaseSection,
    redis: RedisSection,
    nats: NatsSection,
    blob: BlobSection,
    worker: WorkerSection,
    log: LogSection,
    agent: AgentSection,
    slo: SloSection,
    anomaly: AnomalySection,
    batches: BatchesSection,
    diagnosis: DiagnosisSection,
    simulate: SimulateSection,
  },
  { additionalProperties: false },
);

export type VigilConfig = Static<typeof ConfigSchema>;
