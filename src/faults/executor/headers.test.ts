import { describe, expect, it } from 'vitest';
import { endToEnd, hasBody, upstreamHeaders } from './headers.js';

const pairs = (raw: string[]) => Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i], raw[2 * i + 1]]);

describe('proxy headers', () => {
  it('drops hop-by-hop headers and those the Connection header names, keeping case, order and duplicates', () => {
    const raw = ['Connection', 'close, X-Trace', 'X-Trace', '1', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'Accept', 'a', 'accept', 'b'];
    expect(pairs(endToEnd(raw))).toEqual([
      ['Accept', 'a'],
      ['accept', 'b'],
    ]);
  });

  it('appends the client to X-Forwarded-For and keeps proto/host set by a proxy in front', () => {
    const out = upstreamHeaders(['Host', 'shop', 'X-Forwarded-For', '10.0.0.1', 'x-forwarded-for', '10.0.0.3', 'X-Forwarded-Proto', 'https'], '::ffff:10.0.0.2');
    expect(pairs(out)).toEqual([
      ['Host', 'shop'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-For', '10.0.0.1, 10.0.0.3, 10.0.0.2'],
      ['X-Forwarded-Host', 'shop'],
    ]);
  });

  it('keeps a chunked request body chunked', () => {
    expect(pairs(upstreamHeaders(['Transfer-Encoding', 'chunked'], '127.0.0.1'))).toContainEqual(['Transfer-Encoding', 'chunked']);
    expect(pairs(upstreamHeaders(['Content-Length', '3'], '127.0.0.1')).map((p) => p[0])).not.toContain('Transfer-Encoding');
  });
});

describe('hasBody', () => {
  it('sees a body in Content-Length or Transfer-Encoding, whatever their case, and none otherwise', () => {
    expect(hasBody(['Host', 'a', 'Content-Length', '0'])).toBe(true);
    expect(hasBody(['host', 'a', 'transfer-encoding', 'chunked'])).toBe(true);
    expect(hasBody(['Host', 'a', 'Content-Type', 'text/plain', 'X-Content-Length', '3'])).toBe(false);
    expect(hasBody([])).toBe(false);
  });
});
