import { describe, expect, it } from 'vitest';
import { boundNumbers, hostileValue, stringProblem } from './validation.js';

describe('request values no route can store', () => {
  it('names NUL characters and lone surrogates, and passes surrogate pairs', () => {
    expect(stringProblem('a\u0000b')).toMatch(/NUL/);
    expect(stringProblem('a\ud800b')).toMatch(/surrogate/);
    expect(stringProblem('\udc00')).toMatch(/surrogate/);
    expect(stringProblem('x\ud800')).toMatch(/surrogate/);
    expect(stringProblem('emoji \ud83d\ude00 ok')).toBeNull();
  });

  it('finds the first hostile value with its dotted path', () => {
    expect(hostileValue({ services: [{ name: 'ok' }, { name: 'b\u0000' }] })).toMatchObject({ field: 'services.1.name' });
    expect(hostileValue({ a: { b: [1, Infinity] } })).toMatchObject({ field: 'a.b.1', message: 'must be a finite number' });
    expect(hostileValue({ ['k\u0000']: 1 })).toMatchObject({ field: 'k\ufffd' });
    expect(hostileValue({ a: 'fine', n: 1.5, t: true, z: null })).toBeNull();
  });

  it('refuses nesting deeper than the limit without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(hostileValue({ x: deep })?.message).toMatch(/deeper than 64/);
    expect(hostileValue([[[1]]], 3)).toBeNull();
  });

  it('bounds integers to the safe range and numbers to the finite range, keeping explicit bounds', () => {
    const s = boundNumbers({
      type: 'object',
      properties: { seq: { type: 'integer' }, n: { type: 'number', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 5000 }, e: { enum: [1] } },
    }) as { properties: Record<string, Record<string, unknown>> };
    expect(s.properties.seq).toEqual({ type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER });
    expect(s.properties.n).toEqual({ type: 'number', minimum: 0, maximum: Number.MAX_VALUE });
    expect(s.properties.limit).toEqual({ type: 'integer', minimum: 1, maximum: 5000 });
    expect(s.properties.e).toEqual({ enum: [1] });
  });
});

describe('what the walk looks into', () => {
  it('walks objects over a null-prototype prototype (Fastify params and query strings)', () => {
    const params = Object.create(Object.create(null)) as Record<string, string>;
    params.id = 'a\u0000b';
    expect(hostileValue(params)).toMatchObject({ field: 'id' });
  });

  it('skips class instances such as streamed bodies', () => {
    class Upload {
      name = 'a\u0000b';
    }
    expect(hostileValue(new Upload())).toBeNull();
  });
});
