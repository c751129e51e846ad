/**
 * The HFI policy wire shape (`faultinjectionpolicy.hfi.dev`), as HFI's control plane accepts and
 * returns it, plus Vigil's additions (marked "Vigil"). Every field name is HFI's spelling, so
 * existing policy files and scripts work unchanged. The TypeBox schema documents the shape for
 * OpenAPI; `validate.ts` enforces it (so every error names the field as the user spelled it).
 */
import { Type, type Static } from '@sinclair/typebox';

const StringMatch = Type.Object(
  {
    exact: Type.Optional(Type.String()),
    prefix: Type.Optional(Type.String()),
    regex: Type.Optional(Type.String({ description: 'RE2 syntax, unanchored (anchor with ^ and $)' })),
  },
  { additionalProperties: false, description: 'exactly one of exact, prefix, regex' },
);

const HeaderMatch = Type.Object(
  {
    name: Type.String(),
    exact: Type.Optional(Type.String()),
    prefix: Type.Optional(Type.String()),
    regex: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const Abort = Type.Object(
  {
    httpStatus: Type.Integer({ minimum: 200, maximum: 599 }),
    body: Type.Optional(Type.String({ description: 'Vigil: response body (default HFI\'s "Fault injection: Service unavailable")' })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Vigil: extra response headers' })),
  },
  { additionalProperties: false },
);

const Delay = Type.Object(
  {
    fixed_delay_ms: Type.Integer({ exclusiveMinimum: 0, maximum: 3_600_000 }),
    jitter_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'Vigil: uniform extra delay in [0, jitter_ms)' })),
  },
  { additionalProperties: false },
);

const Fault = Type.Object(
  {
    percentage: Type.Number({ minimum: 0, maximum: 100 }),
    abort: Type.Optional(Abort),
    delay: Type.Optional(Delay),
    reset: Type.Optional(Type.Boolean({ description: 'Vigil: close the connection without a response' })),
    response_rate_limit_kbps: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Vigil: throttle the response body' })),
    header_controlled: Type.Optional(
      Type.Boolean({ description: 'Vigil: the request picks its fault with x-envoy-fault-abort-request / x-envoy-fault-delay-request (and -percentage)' }),
    ),
    start_delay_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
    duration_seconds: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

const Rule = Type.Object(
  {
    match: Type.Object(
      {
        method: Type.Optional(StringMatch),
        path: Type.Optional(StringMatch),
        headers: Type.Optional(Type.Array(HeaderMatch)),
      },
      { additionalProperties: false },
    ),
    fault: Fault,
  },
  { additionalProperties: false },
);

export const FaultPolicySchema = Type.Object(
  {
    metadata: Type.Object(
      {
        name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,63}$' }),
        version: Type.Optional(Type.String({ description: 'set by the server: the store version of the last change' })),
        applied_at: Type.Optional(Type.Integer({ description: 'Vigil, set by the server: epoch ms of the last apply (duration_seconds counts from it)' })),
      },
      { additionalProperties: false },
    ),
    spec: Type.Object(
      {
        selector: Type.Optional(
          Type.Object({ service: Type.Optional(Type.String()), namespace: Type.Optional(Type.String()) }, { additionalProperties: false }),
        ),
        rules: Type.Array(Rule, { minItems: 1 }),
        max_active_faults: Type.Optional(Type.Integer({ minimum: 1, description: 'Vigil: faults of this policy in progress at once; more pass untouched' })),
        start_delay_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'default of every rule' })),
        duration_seconds: Type.Optional(Type.Integer({ minimum: 0, description: 'the policy expires this long after it was applied; 0 never' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type FaultPolicy = Static<typeof FaultPolicySchema>;
export type FaultRule = FaultPolicy['spec']['rules'][number];
export type FaultSpec = FaultRule['fault'];
export type StringMatcher = Static<typeof StringMatch>;
export type HeaderMatcher = Static<typeof HeaderMatch>;
