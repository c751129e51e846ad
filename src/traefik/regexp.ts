/**
 * Go regular expressions as Traefik compiles them (HostRegexp, PathRegexp, HeaderRegexp,
 * QueryRegexp, gorilla/mux `{name:pattern}` variables): RE2 syntax and semantics through `re2js`, a
 * port of the same engine, so what Go rejects is rejected here with Go's message and what Go matches
 * matches here.
 */
import { RE2JS, RE2JSException } from 're2js';

export type GoRegexp = RE2JS;

/** A pattern Go's `regexp.Compile` would reject; the message is Go's (`error parsing regexp: …`). */
export class GoRegexpSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GoRegexpSyntaxError';
  }
}

export interface GoRegexpOptions {
  /** As if the pattern began with `(?i)`. */
  ignoreCase?: boolean;
}

// Rules are re-read on every routes refresh and mux recompiles each template's variables: keep the
// programs, bounded, so a refresh does not recompile the same few patterns.
const cache = new Map<string, GoRegexp>();
const CACHE_LIMIT = 2000;

/** Compiles like Go's regexp.Compile; `test` is unanchored, like MatchString. Throws GoRegexpSyntaxError. */
export function compileGoRegexp(pattern: string, options: GoRegexpOptions = {}): GoRegexp {
  const key = `${options.ignoreCase ? 'i' : '-'}:${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let re: GoRegexp;
  try {
    re = RE2JS.compile(pattern, options.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (e) {
    if (e instanceof RE2JSException) throw new GoRegexpSyntaxError(e.message);
    throw e;
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, re);
  return re;
}

/** Go's regexp.QuoteMeta: escapes `\.+*?()|[]{}^$` (mux builds its patterns with it). */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, (c) => '\\' + c);
}
