/** The public types of the exposition parsers (see `index.ts` for the contract they share). */

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  /** OpenMetrics `unknown`; Prometheus `untyped` and families without `# TYPE` map here too. */
  | 'unknown';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** Alternating label names and values in exposition order: `['x', '1', 'y', '2']`. Read-only. */
export type Labels = readonly string[];

export interface FamilyInfo {
  /** Family name as declared (OpenMetrics: `a` for samples `a_total`; Prometheus: usually the sample name). */
  readonly name: string;
  readonly type: MetricType;
  /** HELP text with escapes resolved; '' when absent. */
  readonly help: string;
  /** UNIT (OpenMetrics only); '' when absent. */
  readonly unit: string;
}

export interface Exemplar {
  readonly labels: Labels;
  readonly value: number;
  /** Epoch milliseconds (OpenMetrics seconds × 1000, rounded), when present. */
  readonly timestampMs?: number;
}

export interface ExpositionVisitor {
  /**
   * Called once per delivered family, before its samples (also for families without samples).
   * Return `false` to skip the family: its samples are then not materialised at all (cheap filter).
   */
  onFamily?(name: string, type: MetricType, help: string, unit: string, family: FamilyInfo): boolean | void;
  /** Called for every sample of a delivered family, in exposition order. */
  onSample(
    name: string,
    labels: Labels,
    value: number,
    timestampMs: number | undefined,
    family: FamilyInfo,
    exemplar: Exemplar | undefined,
  ): void;
}

export interface ParseOptions {
  /** 'auto' (default): from `contentType` when it names a format, else OpenMetrics iff the text ends with `# EOF`. */
  format?: 'prometheus' | 'openmetrics' | 'auto';
  /** The `Content-Type` response header, used when `format` is 'auto'. */
  contentType?: string | null;
  /** Default true: skip and count bad families. false: throw the first {@link ParseError}. */
  lenient?: boolean;
  /** Apply the OpenMetrics 1.0 semantic rules (see `openmetrics-rules.ts`). Default: `!lenient`. Ignored for Prometheus text. */
  validate?: boolean;
}

export interface ParseSummary {
  format: ExpositionFormat;
  /** Families delivered to the visitor (including those it declined with `onFamily` → false). */
  families: number;
  /** Samples delivered to the visitor. */
  samples: number;
  /** Lenient mode: one error per skipped family plus document-level errors. Strict mode: always empty. */
  errors: ParseError[];
  /** Families dropped because of an error (lenient mode). */
  skippedFamilies: number;
}

export class ParseError extends Error {
  /** The problem without the position suffix. */
  readonly reason: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column in UTF-16 code units. */
  readonly column: number;
  /** Name of the family the error was attributed to, when known. */
  family: string | undefined;
  constructor(reason: string, line: number, column: number, family?: string) {
    super(`${reason} at line ${line}, column ${column}`);
    this.name = 'ParseError';
    this.reason = reason;
    this.line = line;
    this.column = column;
    this.family = family;
  }
}
