/**
 * `config.anomaly` (src/config/schema.ts) → the settings the anomaly module runs with.
 * Every problem is a ConfigError naming the full key (`anomaly.timeZone`, `anomaly.tempo.url`, …).
 */
import { ConfigError, parseDuration } from '../config/load.js';
import type { VigilConfig } from '../config/schema.js';
import { ValidationError } from './errors.js';
import { createNormalizer, type Normalizer } from './normalize.js';
import { resolveRuleConfig, type RuleConfig, type RuleConfigInput } from './rule.js';
import type { TempoAuth } from './tempo.js';
import type { TempoClientOptions } from './tempo-client.js';

type AnomalyConfig = VigilConfig['anomaly'];

/** Keys this module reads that older schemas may not have yet; each has a default here. */
interface AnomalyExtras {
  /** How long detected anomalies are kept in the feed (default 30d). */
  retention?: string;
}

export interface TempoSettings {
  /** Everything TempoClient needs except the injectable fetch/sleep/random. */
  client: Pick<TempoClientOptions, 'baseUrl' | 'tenant' | 'auth' | 'limit' | 'q' | 'tags'>;
  pollIntervalMs: number;
  lookbackMs: number;
  /** How far back a catch-up after an outage reaches: seenTtl − lookback, so catch-up never learns a trace twice. */
  maxCatchUpMs: number;
}

export interface WebhookSettings {
  url: string;
  minIntervalMs: number;
  retries: number;
}

export interface AnomalySettings {
  rule: RuleConfig;
  windowSize: number;
  seenTtlMs: number;
  /** Anomalous traces count towards baselines only after this long. */
  learnHeldAfterMs: number;
  normalize: Normalizer;
  baselineIntervalMs: number;
  baselineBatch: number;
  serverSpans: boolean;
  /** '' when no link is configured. Placeholders: see traceUrl(). */
  traceUrlTemplate: string;
  /** Anomalies older than this are deleted from the feed. */
  retentionMs: number;
  /** Traces that arrive older than this are learned from but not checked. */
  checkMaxAgeMs: number;
  /** null when no Tempo URL is configured (polling disabled). */
  tempo: TempoSettings | null;
  /** null when no webhook URL is configured. */
  webhook: WebhookSettings | null;
}

/** The rule section of config.anomaly in the shape resolveRuleConfig takes. */
export function ruleInputOf(a: AnomalyConfig): RuleConfigInput {
  return {
    timeZone: a.timeZone,
    factor: a.factor,
    k: a.k,
    minSamples: a.minSamples,
    madFloorMs: a.madFloorMs,
    madFloorRatio: a.madFloorRatio,
    weekendDays: a.weekendDays,
    fallback: { ...a.fallback },
    overrides: a.overrides as RuleConfigInput['overrides'],
  };
}

/** A core ValidationError field (`perService.cart.k`, `normalizeRules[0].pattern`) → the config key. */
function configKey(field: string): string {
  return `anomaly.${field.replace(/^perService\./, 'overrides.')}`;
}

function rethrow(err: unknown): never {
  if (err instanceof ValidationError) {
    const key = configKey(err.field);
    throw new ConfigError(`invalid value for "${key}": ${err.message.replace(err.field, key)}`, key);
  }
  throw err;
}

function duration(text: string | undefined, key: string, fallback: string): number {
  const v = text ?? fallback;
  try {
    const ms = parseDuration(v);
    if (ms <= 0) throw new ConfigError(`invalid value for "${key}": must be longer than 0`, key);
    return ms;
  } catch (err) {
    if (err instanceof ConfigError && err.key === key) throw err;
    throw new ConfigError(`invalid value for "${key}": "${v}" is not a duration such as 15s, 5m, 30d`, key);
  }
}

function httpUrl(v: string, key: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(`invalid value for "${key}": "${v}" is not a URL`, key);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`invalid value for "${key}": must be an http(s) URL`, key);
  return v;
}

/** Tempo authentication from config: a bearer token wins over username/password. */
export function tempoAuthOf(t: AnomalyConfig['tempo']): TempoAuth | undefined {
  if (t.bearerToken) return { type: 'bearer', token: t.bearerToken };
  if (t.username || t.password) return { type: 'basic', username: t.username, password: t.password };
  return undefined;
}

/** Validate config.anomaly and fill in what the module needs. */
export function resolveAnomalySettings(config: VigilConfig): AnomalySettings {
  const a = config.anomaly;
  const extras = a as AnomalyConfig & AnomalyExtras;
  let rule: RuleConfig;
  let normalize: Normalizer;
  try {
    rule = resolveRuleConfig(ruleInputOf(a));
    normalize = createNormalizer({ rules: a.normalizeRules });
  } catch (err) {
    rethrow(err);
  }
  const seenTtlMs = duration(a.seenTtl, 'anomaly.seenTtl', '25h');
  const lookbackMs = a.tempo.url ? duration(a.tempo.lookback, 'anomaly.tempo.lookback', '120s') : 0;
  if (a.tempo.url && seenTtlMs <= lookbackMs) {
    throw new ConfigError(
      `invalid value for "anomaly.seenTtl": must be longer than anomaly.tempo.lookback (${a.tempo.lookback}), or every poll re-learns the traces of the last one`,
      'anomaly.seenTtl',
    );
  }
  const tempo: TempoSettings | null = a.tempo.url
    ? {
        client: {
          baseUrl: httpUrl(a.tempo.url, 'anomaly.tempo.url'),
          tenant: a.tempo.tenant || undefined,
          auth: tempoAuthOf(a.tempo),
          limit: a.tempo.limit,
          q: a.tempo.query || undefined,
          tags: a.tempo.tags || undefined,
        },
        pollIntervalMs: duration(a.tempo.pollInterval, 'anomaly.tempo.pollInterval', '15s'),
        lookbackMs,
        maxCatchUpMs: seenTtlMs - lookbackMs,
      }
    : null;
  const webhook: WebhookSettings | null = a.webhook.url
    ? {
        url: httpUrl(a.webhook.url, 'anomaly.webhook.url'),
        minIntervalMs: duration(a.webhook.minInterval, 'anomaly.webhook.minInterval', '5m'),
        retries: a.webhook.retries,
      }
    : null;
  return {
    rule,
    windowSize: a.windowSize,
    seenTtlMs,
    learnHeldAfterMs: a.learnAnomaliesAfter === undefined ? 3600_000 : duration(a.learnAnomaliesAfter, 'anomaly.learnAnomaliesAfter', '1h'),
    normalize,
    baselineIntervalMs: duration(a.baselineInterval, 'anomaly.baselineInterval', '30s'),
    baselineBatch: a.baselineBatch,
    serverSpans: a.serverSpans,
    traceUrlTemplate: a.traceUrlTemplate,
    checkMaxAgeMs: duration(a.checkMaxAge, 'anomaly.checkMaxAge', '6h'),
    retentionMs: duration(extras.retention, 'anomaly.retention', '30d'),
    tempo,
    webhook,
  };
}

export interface TraceLinkFields {
  traceId: string;
  service: string;
  endpoint: string;
  startMs: number;
  durationMs: number;
}

/**
 * Fill a trace URL template. Placeholders (values URL-encoded): {traceId}, {service}, {endpoint},
 * {startMs}, {endMs}, {startSec}, {endSec} (the trace's start and end, padded by a minute for the
 * *Sec forms so Grafana's time range contains the whole trace). '' template → undefined.
 */
export function traceUrl(template: string, t: TraceLinkFields): string | undefined {
  if (!template) return undefined;
  const endMs = Math.ceil(t.startMs + t.durationMs);
  const values: Record<string, string> = {
    traceId: t.traceId,
    service: t.service,
    endpoint: t.endpoint,
    startMs: String(Math.floor(t.startMs)),
    endMs: String(endMs),
    startSec: String(Math.floor(t.startMs / 1000) - 60),
    endSec: String(Math.ceil(endMs / 1000) + 60),
  };
  return template.replace(/\{(traceId|service|endpoint|startMs|endMs|startSec|endSec)\}/g, (_, k: string) => encodeURIComponent(values[k]));
}
