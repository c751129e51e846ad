/**
 * Streaming Prometheus text (0.0.4) and OpenMetrics 1.0 text parsers (pure: no I/O), laid out
 * one file per format behind one interface, like Prometheus' `model/textparse`:
 *
 * - `lexer.ts`: the scanning both formats share (label sets, quoted strings, names, HELP text);
 * - `reader.ts`: the line loop, error recovery and family assembly, with a `LineFormat` per format:
 *   `text.ts` (Prometheus text) and `openmetrics.ts` (OpenMetrics syntax);
 * - `openmetrics-rules.ts`: the OpenMetrics semantic rules (see there for the list);
 * - `parse.ts`: the visitor API; `families.ts`: the plain-object API.
 *
 * Two entry points:
 *
 * - {@link parseExposition}: visitor API. Samples are delivered family by family; a family is
 *   handed to the visitor only once it is complete and valid, so in lenient mode a bad family is
 *   dropped as a whole (never half-delivered). Label strings are built only when a family is
 *   delivered, and not at all when `onFamily` returns `false` (cheap "keep the families we need"
 *   filter).
 * - {@link parseToFamilies}: convenience API building plain objects.
 *
 * Labels ({@link Labels}) are a flat array of alternating names and values, in exposition order:
 * `a{x="1",y="2"}` gives `['x', '1', 'y', '2']`. The metric name is not part of it. Arrays are
 * fresh per sample (the visitor may keep them) but must be treated as read-only. A name or value
 * equal to the previous sample's at the same position is the same string instance (fast `===`,
 * fewer allocations).
 *
 * Timestamps are delivered in epoch milliseconds: Prometheus text carries integer ms; OpenMetrics
 * carries seconds (possibly fractional), which are multiplied by 1000 and rounded to an integer.
 *
 * Errors: {@link ParseError} carries a 1-based line and a 1-based column (UTF-16 code units from
 * the start of the line). In strict mode (`lenient: false`) the first error is thrown. In lenient
 * mode (the default, for scraping) the family containing the error is skipped and counted, and
 * parsing resumes at the next line; document-level problems (missing `# EOF`, text after it, blank
 * lines in OpenMetrics) are recorded in `errors` but skip nothing.
 *
 * Validation levels: syntax and metadata structure are always checked; the OpenMetrics semantic
 * rules when `validate` is true, which defaults to strict OpenMetrics parsing.
 */
export { parseToFamilies, type MetricFamily, type ParsedExposition, type Sample } from './families.js';
export { getLabel, labelsToObject } from './labels.js';
export { detectFormat, formatFromContentType, parseExposition } from './parse.js';
export {
  ParseError,
  type Exemplar,
  type ExpositionFormat,
  type ExpositionVisitor,
  type FamilyInfo,
  type Labels,
  type MetricType,
  type ParseOptions,
  type ParseSummary,
} from './types.js';
