/**
 * The platform's wire contract (TypeBox): the error body every module answers with, whoami and the
 * token routes, and the two schema builders every module's contract uses. Route validation, the
 * OpenAPI document and the server's types come from these; the web app imports the types. Routes
 * read them through `@fastify/type-provider-typebox` 5 (the line that infers with @sinclair/typebox
 * 0.34, which these schemas are written in; 6 moved to the `typebox` 1 package). Validation itself is
 * Fastify's compiled Ajv (src/platform/http/validation.ts).
 */
import { Type, type SchemaOptions, type Static, type TSchema } from '@sinclair/typebox';
import { ROLES } from './auth/roles.js';

/** true when A and B are the same type: `const same: Same<WireT, DomainT> = true` fails to compile on a drift. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** `schema` with the static type T (plain JSON schema, for shapes TypeBox cannot write as fast). */
export const typed = <T>(schema: Record<string, unknown>) => Type.Unsafe<T>(schema);

type Plain = Record<string, unknown>;
/** The schema's JSON without TypeBox's symbols (so an Unsafe wrapper is not mistaken for the original kind). */
const plain = (t: TSchema): Plain => JSON.parse(JSON.stringify(t)) as Plain;

/**
 * A value of `t` or null, written `type: [t, 'null']`: fast-json-stringify serialises that inline,
 * where an `anyOf` would cost a validation per value in every large answer.
 */
export function Nullable<T extends TSchema & { type: string }>(t: T, options: SchemaOptions = {}) {
  return typed<Static<T> | null>({ ...plain(t), type: [t.type, 'null'], ...options });
}

/** One of fixed strings as a JSON-schema `enum` (not an `anyOf` of consts, for the same reason). */
export function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}) {
  return typed<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** The one error body every 4xx/5xx answers with (src/platform/http/errors.ts builds it). */
export const ErrorBody = Type.Object({
  error: Type.String({ description: 'Machine-readable code: bad_request, unauthorized, forbidden, not_found, internal, …' }),
  message: Type.String({ description: 'A sentence a person can act on' }),
  field: Type.Optional(Type.String({ description: 'For a 400: the offending field, e.g. "time_range" or "targets.0.availability_target"' })),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const Role = StringEnum(ROLES);
export type Role = Static<typeof Role>;

/** `GET /api/v1/whoami` (public). */
export const WhoAmI = Type.Object({
  authenticated: Type.Boolean(),
  role: typed<Role | null>({ type: ['string', 'null'], enum: [...ROLES, null] }),
  name: Nullable(Type.String()),
  clusterId: Nullable(Type.String({ description: 'Set for agent tokens (bound to one cluster)' })),
  anonymousRead: Type.Boolean({ description: 'True when GET routes answer without a token' }),
});
export type WhoAmI = Static<typeof WhoAmI>;

const CLUSTER_ID_PATTERN = '^[A-Za-z0-9._-]{1,64}$';

export const TokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Role,
  clusterId: Nullable(Type.String()),
  createdAt: Type.Number({ description: 'epoch ms' }),
  revokedAt: Nullable(Type.Number({ description: 'epoch ms' })),
});
export type TokenInfo = Static<typeof TokenInfo>;

export const TokenList = Type.Object({ tokens: Type.Array(TokenInfo) });

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    // Executor tokens are not created over HTTP (the embedded executor's is made in process).
    role: StringEnum(['admin', 'agent', 'viewer']),
    clusterId: Type.Optional(Type.String({ pattern: CLUSTER_ID_PATTERN, description: 'The cluster an agent token may write (agent tokens only)' })),
  },
  { additionalProperties: false },
);
export type CreateTokenBody = Static<typeof CreateTokenBody>;

export const TokenParams = Type.Object({ id: Type.String({ maxLength: 32 }) });
