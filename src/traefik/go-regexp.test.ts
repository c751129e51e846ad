import { describe, expect, it } from 'vitest';
import { checkGoRegexp, compileGoRegexp, GoRegexpSyntaxError, quoteMeta } from './go-regexp.js';

const matches = (pattern: string, s: string) => compileGoRegexp(pattern).test(s);

describe('Go regexp syntax', () => {
  it('rejects what RE2 rejects', () => {
    for (const bad of ['(a', 'a)', '[a', '*a', 'a**', 'a{2}{3}', '(?=a)', '(?!a)', '(?<=a)b', '\\1', 'a\\', '\\q', 'x{1001}', '[z-a]', '(?P<n>a)(?P<n>b)', '[[:nope:]]', '(?)']) {
      expect(() => checkGoRegexp(bad), bad).toThrow(GoRegexpSyntaxError);
    }
  });

  it('accepts Go-only syntax', () => {
    for (const good of ['{name:x}', 'a{,3}', '(?i)abc', '(?i:a)b', '(?P<v0>a)', '(?<v>a)', '\\Qa.b\\E', '[[:alpha:]]+', '\\pL', '\\p{Greek}', '\\x{41}', '\\_', '[]a]', '^*', 'a(?i)*']) {
      expect(() => checkGoRegexp(good), good).not.toThrow();
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
    expect(matches('(?U)^a+', 'aaa') && compileGoRegexp('(?U)a+').exec('aaa')?.[0] === 'a').toBe(true);
    expect(matches('^\\pL+$', 'é')).toBe(true);
    expect(matches('^\\101$', 'A')).toBe(true);
  });

  it('quotes like regexp.QuoteMeta', () => {
    expect(quoteMeta('a.b*c{d}[e]')).toBe('a\\.b\\*c\\{d\\}\\[e\\]');
  });
});
