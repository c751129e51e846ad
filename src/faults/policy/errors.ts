/** A policy that cannot be accepted. `field` is the JSON path of the bad value (`spec.rules[0].fault.percentage`). */
export class PolicyValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
    /** 1-based document index in a multi-document file, when there is more than one. */
    readonly document?: number,
    /** 1-based line of a syntax error, when known. */
    readonly line?: number,
  ) {
    super(message);
    this.name = 'PolicyValidationError';
  }
}

/** Bounds that keep one policy from costing the proxy (or the store) more than a policy should. */
export const POLICY_LIMITS = {
  maxRules: 1000,
  maxHeaderMatchers: 32,
  maxPatternLength: 4096,
  maxAbortBodyBytes: 65_536,
  maxAbortHeaders: 32,
  maxDelayMs: 3_600_000,
  maxDurationSeconds: 366 * 86_400,
  maxRateLimitKbps: 10_000_000,
  maxSelectorLength: 253,
  maxDocuments: 1000,
} as const;
