import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineOfField, parseFieldPath, yamlSyntaxError } from '../../web/src/components/faults/yamlLine.js';
import { fixturesDir } from '../support/env.js';

const hfi = fixturesDir('hfi');
const fixture = (name: string) => readFileSync(path.join(hfi!, 'current', name), 'utf8');

describe.skipIf(!hfi)('Faults page: server field paths to YAML lines', () => {
  it('splits JSON paths with indexes', () => {
    expect(parseFieldPath('spec.rules[0].fault.percentage')).toEqual(['spec', 'rules', 0, 'fault', 'percentage']);
    expect(parseFieldPath('spec.rules[2].match.headers[1].name')).toEqual(['spec', 'rules', 2, 'match', 'headers', 1, 'name']);
  });

  it('points at the line of the named key in the fixture policies', () => {
    const abort = fixture('abort-policy.yaml');
    // Line numbers read off the fixture file.
    expect(lineOfField(abort, 'metadata.name')).toBe(2);
    expect(lineOfField(abort, 'spec.selector.namespace')).toBe(6);
    expect(lineOfField(abort, 'spec.rules[0].match.path.exact')).toBe(12);
    expect(lineOfField(abort, 'spec.rules[0].fault.percentage')).toBe(14);
    expect(lineOfField(abort, 'spec.rules[0].fault.abort.httpStatus')).toBe(16);
  });

  it('falls back to the deepest key that exists', () => {
    const abort = fixture('abort-policy.yaml');
    expect(lineOfField(abort, 'spec.rules[0].fault.delay.fixed_delay_ms')).toBe(13);
    expect(lineOfField(abort, 'spec.rules[3].fault')).toBe(7);
  });

  it('reports YAML syntax errors with their line', () => {
    const broken = 'metadata:\n  name: x\nspec:\n  rules: [\n';
    expect(yamlSyntaxError(broken)?.line).toBeGreaterThanOrEqual(4);
    expect(yamlSyntaxError(fixture('delay-policy.yaml'))).toBeNull();
  });
});
