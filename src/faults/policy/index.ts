/** Fault policies: HFI wire shape, validation, parsing and the per-request matcher. Pure: no I/O. */
export type { FaultPolicy, FaultRule, FaultSpec, StringMatcher, HeaderMatcher } from './types.js';
export { FaultPolicySchema } from './types.js';
export { PolicyValidationError, POLICY_LIMITS } from './errors.js';
export { parsePolicyDocuments } from './parse.js';
export { validatePolicy } from './validate.js';
export { compilePolicies, DEFAULT_ABORT_BODY, FAULT_HEADERS, HEADER_FAULTS_POLICY } from './matcher.js';
export type { RequestFacts, FaultDecision, CompiledPolicies, FaultTarget } from './matcher.js';
export { parseGoDuration } from './duration.js';
