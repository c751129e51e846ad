import { describe, expect, it } from 'vitest';
import { compileGoRegexp, GoRegexpSyntaxError, quoteMeta } from './regexp.js';

const matches = (pattern: string, s: string, ignoreCase = false) => compileGoRegexp(pattern, { ignoreCase }).test(s);

describe('Go regexp syntax (RE2 through re2js)', () => {
  it('rejects what Go rejects, with Go’s message', () => {
    for (const bad of ['(a', 'a)', '[a', '*a', 'a**', 'a{2}{3}', '(?=a)', '(?!a)', '(?<=a)b', '\\1', 'a\\', '\\q', 'x{1001}', '[z-a]', '(?P<n>a)(?P<n>b)', '[[:nope:]]']) {
      expect(() => compileGoRegexp(bad), bad).toThrow(GoRegexpSyntaxError);
    }
    expect(() => compileGoRegexp('(a')).toThrow('error parsing regexp: missing closing ): `(a`');
  });

  it('accepts Go-only syntax', () => {
    // `(?)` is an empty flag group Go's parsePerlFlags accepts (the old hand-written translator refused it).
    for (const good of ['(?)', '{name:x}', 'a{,3}', '(?i)abc', '(?i:a)b', '(?P<v0>a)', '(?<v>a)', '\\Qa.b\\E', '[[:alpha:]]+', '\\pL', '\\p{Greek}', '\\x{41}', '\\_', '[]a]', '^*', 'a(?i)*']) {
      expect(() => compileGoRegexp(good), good).not.toThrow();
    }
  });

  it('matches with Go semantics', () => {
    expect(matches('http{secure:s?}', 'https')).toBe(false);
    expect(matches('http{secure:s?}', 'http{secure:}')).toBe(true);
    expect(matches('a(?i)b', 'aB')).toBe(true);
    expect(matches('a(?i)b', 'AB')).toBe(false);
    expect(matches('(?i:a)b', 'Ab')).toBe(true);
    expect(matches('(?i:a)b', 'AB')).toBe(false);
    expect(matches('^\\Qa.b\\E$', 'a.b')).toBe(true);
    expect(matches('^\\Qa.b\\E$', 'axb')).toBe(false);
    expect(matches('^[[:digit:]]{3}$', '123')).toBe(true);
    expect(matches('^\\s$', '\v')).toBe(false); // Go's \s is [\t\n\f\r ]
    expect(matches('^.$', '\r')).toBe(true); // Go's . matches \r
    expect(matches('^[]a]+$', ']a]')).toBe(true);
    expect(matches('(?s)^a.b$', 'a\nb')).toBe(true);
    expect(matches('^a.b$', 'a\nb')).toBe(false);
    expect(matches('(?m)^b$', 'a\nb\nc')).toBe(true);
    expect(compileGoRegexp('(?U)a+').exec('aaa')?.[0]).toBe('a');
    expect(matches('^\\pL+$', 'é')).toBe(true);
    expect(matches('^\\101$', 'A')).toBe(true);
  });

  it('folds case with Go’s orbits when asked to', () => {
    expect(matches('^example\\.com$', 'EXAMPLE.com', true)).toBe(true);
    expect(matches('^example\\.com$', 'EXAMPLE.com')).toBe(false);
    expect(matches('^k$', '\u212a', true)).toBe(true); // KELVIN SIGN is in k's fold orbit
  });

  it('quotes like regexp.QuoteMeta', () => {
    expect(quoteMeta('a.b*c{d}[e]')).toBe('a\\.b\\*c\\{d\\}\\[e\\]');
  });
});
