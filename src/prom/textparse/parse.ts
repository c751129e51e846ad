/**
 * The streaming entry point: pick the format, run the reader with that format's line syntax and,
 * when they apply, the OpenMetrics semantic rules.
 */
import { CR, NL, SP, TAB } from './chars.js';
import { openMetricsFormat } from './openmetrics.js';
import { OpenMetricsRules } from './openmetrics-rules.js';
import { ExpositionReader } from './reader.js';
import { textFormat } from './text.js';
import type { ExpositionFormat, ExpositionVisitor, ParseOptions, ParseSummary } from './types.js';

/** Exposition format named by a `Content-Type` header, or undefined when it names neither. */
export function formatFromContentType(contentType: string | null | undefined): ExpositionFormat | undefined {
  if (!contentType) return undefined;
  const ct = contentType.toLowerCase();
  const semi = ct.indexOf(';');
  const media = (semi < 0 ? ct : ct.slice(0, semi)).trim();
  if (media === 'application/openmetrics-text') return 'openmetrics';
  if (media === 'text/plain') return 'prometheus';
  return undefined;
}

/** Resolve 'auto': content type first, else OpenMetrics iff the last non-blank line is `# EOF`. */
export function detectFormat(text: string, contentType?: string | null): ExpositionFormat {
  const byHeader = formatFromContentType(contentType);
  if (byHeader) return byHeader;
  let e = text.length;
  while (e > 0) {
    const c = text.charCodeAt(e - 1);
    if (c === NL || c === CR || c === SP || c === TAB) e--;
    else break;
  }
  if (e >= 5 && text.startsWith('# EOF', e - 5) && (e === 5 || text.charCodeAt(e - 6) === NL)) return 'openmetrics';
  return 'prometheus';
}

function resolveOptions(text: string, opts: ParseOptions | undefined): { om: boolean; lenient: boolean; validate: boolean; format: ExpositionFormat } {
  const fmt = opts?.format ?? 'auto';
  const format: ExpositionFormat = fmt === 'auto' ? detectFormat(text, opts?.contentType) : fmt;
  const lenient = opts?.lenient ?? true;
  const validate = opts?.validate ?? !lenient;
  return { om: format === 'openmetrics', lenient, validate, format };
}

/**
 * Parse an exposition and stream it into `visitor`, family by family.
 * Strict mode (`lenient: false`) throws the first {@link ParseError}; lenient mode never throws a
 * ParseError and reports skipped families in the summary.
 */
export function parseExposition(text: string, visitor: ExpositionVisitor, opts?: ParseOptions): ParseSummary {
  const o = resolveOptions(text, opts);
  const r = new ExpositionReader(text, visitor, o.om ? openMetricsFormat : textFormat, o.om, o.lenient);
  if (o.om && o.validate) r.rules = new OpenMetricsRules(r);
  r.run();
  return { format: o.format, families: r.famCount, samples: r.sampleCount, errors: r.errors, skippedFamilies: r.skipped };
}
