/** The convenience API: a whole exposition as plain objects, built on the streaming visitor. */
import { labelsToObject } from './labels.js';
import { parseExposition } from './parse.js';
import type { ExpositionFormat, MetricType, ParseError, ParseOptions } from './types.js';

export interface Sample {
  /** Sample name as exposed (`a_total`, `x_bucket`, ...). */
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
  exemplar?: { labels: Record<string, string>; value: number; timestampMs?: number };
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  unit: string;
  samples: Sample[];
}

export interface ParsedExposition {
  format: ExpositionFormat;
  families: MetricFamily[];
  errors: ParseError[];
  skippedFamilies: number;
}

/**
 * Convenience API: parse into plain objects. Families that appear more than once (allowed only
 * in lenient Prometheus text) are merged into the first occurrence when their types agree.
 * Throws like {@link parseExposition} in strict mode.
 */
export function parseToFamilies(text: string, opts?: ParseOptions): ParsedExposition {
  const families: MetricFamily[] = [];
  const byName = new Map<string, MetricFamily>();
  let cur: MetricFamily | undefined;
  const summary = parseExposition(
    text,
    {
      onFamily(name, type, help, unit) {
        const existing = byName.get(name);
        if (existing !== undefined && existing.type === type) {
          if (existing.help === '') existing.help = help;
          if (existing.unit === '') existing.unit = unit;
          cur = existing;
          return;
        }
        cur = { name, type, help, unit, samples: [] };
        families.push(cur);
        if (existing === undefined) byName.set(name, cur);
      },
      onSample(name, labels, value, timestampMs, _family, exemplar) {
        // One object shape for every sample (absent fields are undefined) keeps V8 monomorphic.
        const s: Sample = {
          name,
          labels: labelsToObject(labels),
          value,
          timestampMs,
          exemplar: exemplar === undefined ? undefined : { labels: labelsToObject(exemplar.labels), value: exemplar.value, timestampMs: exemplar.timestampMs },
        };
        (cur as MetricFamily).samples.push(s);
      },
    },
    opts,
  );
  return { format: summary.format, families, errors: summary.errors, skippedFamilies: summary.skippedFamilies };
}
