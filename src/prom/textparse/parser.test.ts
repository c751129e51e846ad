import { describe, expect, it } from 'vitest';
import {
  ParseError,
  detectFormat,
  formatFromContentType,
  getLabel,
  labelsToObject,
  parseExposition,
  parseToFamilies,
  type Labels,
  type MetricType,
} from './index.js';
import { seededRandom } from '../../simulate/random.js';

/** Collect what the visitor sees. */
function visit(text: string, opts: Parameters<typeof parseExposition>[2] = {}) {
  const families: { name: string; type: MetricType; help: string; unit: string }[] = [];
  const samples: { name: string; labels: Labels; value: number; ts: number | undefined; family: string }[] = [];
  const summary = parseExposition(
    text,
    {
      onFamily(name, type, help, unit) {
        families.push({ name, type, help, unit });
      },
      onSample(name, labels, value, ts, family) {
        samples.push({ name, labels, value, ts, family: family.name });
      },
    },
    opts,
  );
  return { families, samples, summary };
}

function strictError(text: string, format: 'prometheus' | 'openmetrics'): ParseError {
  try {
    parseToFamilies(text, { format, lenient: false });
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return e as ParseError;
  }
  throw new Error('expected a ParseError');
}

describe('Prometheus text format', () => {
  const text = [
    '# HELP http_requests_total Total requests.',
    '# TYPE http_requests_total counter',
    'http_requests_total{method="GET",code="200"} 1027 1395066363000',
    'http_requests_total{method="POST",code="400"} 3 1395066363000',
    '',
    '# A plain comment',
    '# HELP rpc_duration_seconds RPC latency.',
    '# TYPE rpc_duration_seconds summary',
    'rpc_duration_seconds{quantile="0.5"} 4773',
    'rpc_duration_seconds_sum 1.7560473e+07',
    'rpc_duration_seconds_count 2693',
    'metric_without_metadata 12.47',
    '',
  ].join('\n');

  it('delivers families with metadata and samples with alternating name/value labels', () => {
    const { families, samples, summary } = visit(text, { format: 'prometheus' });
    expect(families).toEqual([
      { name: 'http_requests_total', type: 'counter', help: 'Total requests.', unit: '' },
      { name: 'rpc_duration_seconds', type: 'summary', help: 'RPC latency.', unit: '' },
      { name: 'metric_without_metadata', type: 'unknown', help: '', unit: '' },
    ]);
    expect(samples[0]).toEqual({
      name: 'http_requests_total',
      labels: ['method', 'GET', 'code', '200'],
      value: 1027,
      ts: 1395066363000,
      family: 'http_requests_total',
    });
    expect(samples.map((s) => s.name)).toEqual([
      'http_requests_total',
      'http_requests_total',
      'rpc_duration_seconds',
      'rpc_duration_seconds_sum',
      'rpc_duration_seconds_count',
      'metric_without_metadata',
    ]);
    expect(samples[3].value).toBe(17560473);
    expect(samples[5].ts).toBeUndefined();
    expect(summary).toMatchObject({ format: 'prometheus', families: 3, samples: 6, errors: [], skippedFamilies: 0 });
  });

  it('parseToFamilies returns plain objects with label records', () => {
    const r = parseToFamilies(text, { format: 'prometheus' });
    expect(r.families).toHaveLength(3);
    expect(r.families[0].samples[1]).toEqual({
      name: 'http_requests_total',
      labels: { method: 'POST', code: '400' },
      value: 3,
      timestampMs: 1395066363000,
    });
    expect(r.families[1].samples.map((s) => s.value)).toEqual([4773, 17560473, 2693]);
  });

  it('accepts tabs and runs of blanks between tokens, blank lines, CRLF and leading whitespace', () => {
    const r = parseToFamilies('  a\t 1 \t 42\r\n\r\n\tb{x = "1" , y="2",} 2\r\n', { format: 'prometheus', lenient: false });
    expect(r.families.map((f) => [f.name, f.samples[0].value, f.samples[0].timestampMs])).toEqual([
      ['a', 1, 42],
      ['b', 2, undefined],
    ]);
    expect(r.families[1].samples[0].labels).toEqual({ x: '1', y: '2' });
  });

  it('maps untyped to unknown and keeps counters named with _total', () => {
    const r = parseToFamilies('# TYPE x untyped\nx 1\n# TYPE c_total counter\nc_total 5\n', { format: 'prometheus', lenient: false });
    expect(r.families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['x', 'unknown', 1],
      ['c_total', 'counter', 1],
    ]);
  });

  it('merges a family that appears twice (non-contiguous) in parseToFamilies', () => {
    const r = parseToFamilies('a{x="1"} 1\nb 2\na{x="2"} 3\n', { format: 'prometheus' });
    expect(r.families.map((f) => [f.name, f.samples.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('treats # EOF as a comment in Prometheus text', () => {
    const r = parseToFamilies('a 1\n# EOF\nb 2\n', { format: 'prometheus', lenient: false });
    expect(r.families.map((f) => f.name)).toEqual(['a', 'b']);
  });

  it('rejects fractional timestamps (Prometheus text carries integer milliseconds)', () => {
    const e = strictError('a 1 1.5\n', 'prometheus');
    expect(e.line).toBe(1);
    expect(e.column).toBe(5);
    expect(e.reason).toMatch(/timestamp/);
  });
});

describe('escapes', () => {
  it('resolves \\\\, \\" and \\n in label values and keeps unknown escapes literally', () => {
    const { samples } = visit('a{x="q\\"uo\\\\te\\nnl",y="\\z"} 1\n', { format: 'prometheus', lenient: false });
    expect(samples[0].labels).toEqual(['x', 'q"uo\\te\nnl', 'y', '\\z']);
  });

  it('resolves HELP escapes per format', () => {
    const prom = parseToFamilies('# HELP a back\\\\slash new\\nline quote\\"\na 1\n', { format: 'prometheus', lenient: false });
    expect(prom.families[0].help).toBe('back\\slash new\nline quote\\"');
    const om = parseToFamilies('# HELP a back\\\\slash new\\nline quote\\"\na 1\n# EOF\n', { format: 'openmetrics', lenient: false });
    expect(om.families[0].help).toBe('back\\slash new\nline quote"');
  });

  it('keeps "#", "{" and "}" inside label values', () => {
    const { samples } = visit('a_total{foo="} foo # bar # ",b="{x}"} 1\n', { format: 'prometheus', lenient: false });
    expect(samples[0].labels).toEqual(['foo', '} foo # bar # ', 'b', '{x}']);
  });
});

describe('special values', () => {
  it('parses NaN, +Inf, -Inf and Inf in both formats', () => {
    const text = 'a{k="1"} NaN\na{k="2"} +Inf\na{k="3"} -Inf\na{k="4"} Inf\n';
    for (const format of ['prometheus', 'openmetrics'] as const) {
      const { samples } = visit(format === 'openmetrics' ? text + '# EOF\n' : text, { format, lenient: false });
      expect(samples.map((s) => s.value)).toEqual([NaN, Infinity, -Infinity, Infinity]);
    }
  });

  it('rejects hex, underscores and other non-decimal spellings', () => {
    for (const v of ['0x1', '1_000', '0b1', '1e', '--1', '.', 'Infinityy']) {
      expect(() => parseToFamilies(`a ${v}\n`, { format: 'prometheus', lenient: false }), v).toThrow(ParseError);
    }
  });

  it('reads large and exponent values exactly as Number() would', () => {
    const { samples } = visit('a 9223372036854775808\nb 1.7560473e+07\nc -0.5e-3\nd 0000012.50\n', { format: 'prometheus', lenient: false });
    expect(samples.map((s) => s.value)).toEqual([9223372036854775808, 17560473, -0.0005, 12.5]);
  });
});

describe('OpenMetrics', () => {
  it('groups counter samples under the family name and converts second timestamps to ms', () => {
    const text = [
      '# TYPE a counter',
      '# HELP a help',
      'a_total{x="1"} 3 1700000000.123',
      'a_created{x="1"} 1699999999.5',
      '# TYPE b_seconds gauge',
      '# UNIT b_seconds seconds',
      'b_seconds 1 1.5',
      '# EOF',
      '',
    ].join('\n');
    const { families, samples } = visit(text, { format: 'openmetrics', lenient: false });
    expect(families).toEqual([
      { name: 'a', type: 'counter', help: 'help', unit: '' },
      { name: 'b_seconds', type: 'gauge', help: '', unit: 'seconds' },
    ]);
    expect(samples.map((s) => [s.name, s.family, s.value, s.ts])).toEqual([
      ['a_total', 'a', 3, 1700000000123],
      ['a_created', 'a', 1699999999.5, undefined],
      ['b_seconds', 'b_seconds', 1, 1500],
    ]);
  });

  it('parses exemplars with and without timestamps', () => {
    const text = [
      '# TYPE h histogram',
      'h_bucket{le="0.1"} 2 # {trace_id="abc"} 0.05 1700000000.5',
      'h_bucket{le="+Inf"} 3 # {trace_id="def",span="1"} 7',
      'h_count 3',
      'h_sum 7.1',
      '# EOF',
    ].join('\n');
    const r = parseToFamilies(text, { format: 'openmetrics', lenient: false });
    const s = r.families[0].samples;
    expect(s[0].exemplar).toEqual({ labels: { trace_id: 'abc' }, value: 0.05, timestampMs: 1700000000500 });
    expect(s[1].exemplar).toEqual({ labels: { trace_id: 'def', span: '1' }, value: 7, timestampMs: undefined });
    expect(s[2].exemplar).toBeUndefined();
  });

  it('rejects exemplars in Prometheus text', () => {
    const e = strictError('a_total 1 # {a="b"} 1\n', 'prometheus');
    expect(e.line).toBe(1);
  });

  it('requires # EOF; strict throws, lenient records it and keeps the data', () => {
    const text = '# TYPE a gauge\na 1\n';
    expect(strictError(text, 'openmetrics').reason).toMatch(/EOF/);
    const r = parseToFamilies(text, { format: 'openmetrics' });
    expect(r.families.map((f) => f.samples[0].value)).toEqual([1]);
    expect(r.errors.map((e) => e.reason)).toEqual(['missing # EOF at end of OpenMetrics exposition']);
    expect(r.skippedFamilies).toBe(0);
  });

  it('rejects text after # EOF and stops there', () => {
    const e = strictError('a 1\n# EOF\nb 2\n', 'openmetrics');
    expect([e.line, e.column]).toEqual([3, 1]);
    const r = parseToFamilies('a 1\n# EOF\nb 2\n', { format: 'openmetrics' });
    expect(r.families.map((f) => f.name)).toEqual(['a']);
  });

  it('applies the semantic rules in strict mode and, when asked, in lenient mode', () => {
    const text = '# TYPE a counter\na_total -1\n# TYPE b gauge\nb 2\n# EOF\n';
    expect(strictError(text, 'openmetrics').reason).toMatch(/counter value/);
    const lenientDefault = parseToFamilies(text, { format: 'openmetrics' });
    expect(lenientDefault.families.map((f) => f.name)).toEqual(['a', 'b']);
    const lenientValidated = parseToFamilies(text, { format: 'openmetrics', validate: true });
    expect(lenientValidated.families.map((f) => f.name)).toEqual(['b']);
    expect(lenientValidated.skippedFamilies).toBe(1);
  });
});

describe('quoted UTF-8 names', () => {
  it('reads a quoted metric name inside the braces, with and without labels', () => {
    for (const format of ['prometheus', 'openmetrics'] as const) {
      const text = '# TYPE "my.metric" gauge\n{"my.metric", a="b"} 1\n{"my.metric"} 2\n{"my.metric","ü.label"="ü"} 3\n' + (format === 'openmetrics' ? '# EOF\n' : '');
      const { families, samples } = visit(text, { format, lenient: false });
      expect(families.map((f) => [f.name, f.type])).toEqual([['my.metric', 'gauge']]);
      expect(samples.map((s) => [s.name, s.labels, s.value])).toEqual([
        ['my.metric', ['a', 'b'], 1],
        ['my.metric', [], 2],
        ['my.metric', ['ü.label', 'ü'], 3],
      ]);
    }
  });

  it('rejects a label set that has only quoted label names and no metric name', () => {
    const e = strictError('{"a.b"="c"} 1\n', 'prometheus');
    expect(e.line).toBe(1);
  });

  it('detects duplicate labels including quoted spellings', () => {
    expect(strictError('a{x="1","x"="2"} 1\n', 'prometheus').reason).toMatch(/duplicate label "x"/);
    expect(strictError('a{x="1",y="2",x="3"} 1\n', 'prometheus').reason).toMatch(/duplicate label "x"/);
  });
});

describe('errors', () => {
  it('gives the line and column of the offending character', () => {
    const e = strictError('a 1\nb{x="1" 2\n', 'prometheus');
    expect(e).toMatchObject({ line: 2, column: 9, reason: 'expected "," or "}" after a label' });
    expect(e.message).toBe('expected "," or "}" after a label at line 2, column 9');
    const e2 = strictError('ok 1\n\nbad{x="unterminated} 1\n', 'prometheus');
    expect([e2.line, e2.column]).toEqual([3, 7]);
    const e3 = strictError('# TYPE a gauge\na 1\n# TYPE a counter\n# EOF\n', 'openmetrics');
    expect([e3.line, e3.column, e3.family]).toEqual([3, 3, 'a']);
  });

  it('lenient mode skips the bad family, counts it, and keeps the rest', () => {
    const text = [
      '# TYPE good_one counter',
      'good_one{a="1"} 1',
      '# TYPE broken gauge',
      'broken{a="1"} 1',
      'broken{a="2" 2',
      'broken{a="3"} 3',
      '# TYPE good_two gauge',
      'good_two 2',
      '',
    ].join('\n');
    const { families, samples, summary } = visit(text, { format: 'prometheus' });
    expect(families.map((f) => f.name)).toEqual(['good_one', 'good_two']);
    expect(samples.map((s) => s.name)).toEqual(['good_one', 'good_two']); // no half family
    expect(summary.skippedFamilies).toBe(1);
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0]).toMatchObject({ line: 5, column: 14, family: 'broken' });
  });

  it('counts garbage before the first family as one skipped family', () => {
    const r = parseToFamilies('!!garbage\n@@more\nok 1\n', { format: 'prometheus' });
    expect(r.families.map((f) => f.name)).toEqual(['ok']);
    expect(r.skippedFamilies).toBe(1);
    expect(r.errors[0]).toMatchObject({ line: 1, column: 1 });
  });

  it('attributes a bad line that starts a new family to that family, not the previous one', () => {
    const r = parseToFamilies('a 1\nb{x=1} 2\nb{x="2"} 3\nc 4\n', { format: 'prometheus' });
    expect(r.families.map((f) => f.name)).toEqual(['a', 'c']);
    expect(r.errors[0].family).toBe('b');
  });

  it('never throws in lenient mode on a repeated TYPE block; it starts a new block', () => {
    const r = parseToFamilies('# TYPE a gauge\na{x="1"} 1\n# TYPE a gauge\na{x="2"} 2\n', { format: 'prometheus' });
    expect(r.errors).toEqual([]);
    expect(r.families).toHaveLength(1);
    expect(r.families[0].samples.map((s) => s.value)).toEqual([1, 2]);
    expect(() => parseToFamilies('# TYPE a gauge\na{x="1"} 1\n# TYPE a gauge\n', { format: 'prometheus', lenient: false })).toThrow(/after its samples/);
  });
});

describe('format selection', () => {
  it('picks the format from Content-Type', () => {
    expect(formatFromContentType('application/openmetrics-text; version=1.0.0; charset=utf-8')).toBe('openmetrics');
    expect(formatFromContentType('text/plain; version=0.0.4; charset=utf-8')).toBe('prometheus');
    expect(formatFromContentType('Text/Plain')).toBe('prometheus');
    expect(formatFromContentType('application/json')).toBeUndefined();
    expect(formatFromContentType(undefined)).toBeUndefined();
  });

  it("'auto' uses the header first, else the trailing # EOF", () => {
    expect(detectFormat('a 1\n# EOF\n')).toBe('openmetrics');
    expect(detectFormat('a 1\n# EOF')).toBe('openmetrics');
    expect(detectFormat('a 1\n')).toBe('prometheus');
    expect(detectFormat('a 1\n# EOF\n', 'text/plain; version=0.0.4')).toBe('prometheus');
    expect(detectFormat('a 1\n', 'application/openmetrics-text; version=1.0.0')).toBe('openmetrics');
    expect(parseToFamilies('# TYPE a counter\na_total 1\n# EOF\n').families[0]).toMatchObject({ name: 'a', type: 'counter' });
  });
});

describe('visitor conveniences', () => {
  it('onFamily returning false skips that family', () => {
    const seen: string[] = [];
    const s = parseExposition(
      'a{x="1"} 1\nb{x="2"} 2\n',
      {
        onFamily: (name) => name !== 'a',
        onSample: (name) => void seen.push(name),
      },
      { format: 'prometheus' },
    );
    expect(seen).toEqual(['b']);
    expect(s.samples).toBe(1);
  });

  it('getLabel and labelsToObject, including a __proto__ label', () => {
    const labels = ['a', '1', '__proto__', 'x'];
    expect(getLabel(labels, 'a')).toBe('1');
    expect(getLabel(labels, 'b')).toBeUndefined();
    const o = labelsToObject(labels);
    expect(Object.keys(o)).toEqual(['a', '__proto__']);
    expect(o['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
  });

  it('hands out label arrays that stay valid after later samples', () => {
    const kept: Labels[] = [];
    parseExposition('a{x="1",y="2"} 1\na{x="1",y="3"} 2\n', { onSample: (_n, l) => void kept.push(l) }, { format: 'prometheus' });
    expect(kept).toEqual([
      ['x', '1', 'y', '2'],
      ['x', '1', 'y', '3'],
    ]);
  });
});

// -----------------------------------------------------------------------------------------------
// Fuzz-ish robustness: random and mutated inputs must never crash (non-ParseError) or hang.

const prng = seededRandom;

const SEED_DOC = [
  '# HELP a_seconds Help with \\n and \\\\.',
  '# TYPE a_seconds histogram',
  '# UNIT a_seconds seconds',
  'a_seconds_bucket{le="0.1",x="y"} 1 # {t="1"} 0.05 1.5',
  'a_seconds_bucket{le="+Inf",x="y"} 2',
  'a_seconds_count{x="y"} 2',
  'a_seconds_sum{x="y"} 0.3',
  '# TYPE c counter',
  'c_total{"q.name"="v\\"x"} 1 1700000000',
  '{"u.metric", a="b"} NaN',
  '# EOF',
  '',
].join('\n');

function checkNoCrash(text: string): void {
  const lines = text.split('\n').length;
  for (const format of ['prometheus', 'openmetrics'] as const) {
    let count = 0;
    const r = parseExposition(text, { onSample: () => void count++ }, { format, validate: true });
    expect(r.samples).toBe(count);
    for (const e of r.errors) {
      expect(e).toBeInstanceOf(ParseError);
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.line).toBeLessThanOrEqual(lines + 1);
      expect(e.column).toBeGreaterThanOrEqual(1);
    }
    try {
      parseExposition(text, { onSample: () => {} }, { format, lenient: false });
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
    }
  }
}

describe('robustness (fuzz)', () => {
  it('survives random bytes biased towards syntax characters', () => {
    const rnd = prng(12345);
    const alphabet = 'ab_:{}"=,# \t\n\\.+-eE01239InfNa\u00e9\u2603\r';
    for (let i = 0; i < 1500; i++) {
      const n = Math.floor(rnd() * 120);
      let s = '';
      for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      checkNoCrash(s);
    }
  });

  it('survives random mutations of a valid document', () => {
    const rnd = prng(777);
    expect(parseToFamilies(SEED_DOC, { format: 'openmetrics', lenient: false }).families).toHaveLength(3);
    for (let i = 0; i < 1500; i++) {
      let s = SEED_DOC;
      const edits = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(rnd() * (s.length + 1));
        const op = rnd();
        const ch = String.fromCharCode(Math.floor(rnd() * 128));
        if (op < 0.33) s = s.slice(0, at) + s.slice(at + 1);
        else if (op < 0.66) s = s.slice(0, at) + ch + s.slice(at);
        else s = s.slice(0, at) + ch + s.slice(at + 1);
      }
      checkNoCrash(s);
    }
  });

  it('survives pathological inputs', () => {
    checkNoCrash('{'.repeat(10000));
    checkNoCrash('"'.repeat(10000));
    checkNoCrash('a{' + 'x="1",'.repeat(2000));
    checkNoCrash('\\'.repeat(5000));
    checkNoCrash('#'.repeat(5000) + '\n'.repeat(5000));
    checkNoCrash('a 1 ' + '9'.repeat(5000));
    checkNoCrash('\u0000\uffff\ud800');
  });
});

describe('wide label sets', () => {
  it('handles hundreds of labels and still finds a duplicate among them', () => {
    const names = Array.from({ length: 500 }, (_, i) => `l${i}`);
    const line = `a{${names.map((n) => `${n}="${n}"`).join(',')}} 1\n`;
    const { samples } = visit(line, { format: 'prometheus', lenient: false });
    expect(samples[0].labels).toHaveLength(1000);
    expect(getLabel(samples[0].labels, 'l499')).toBe('l499');
    const dup = `a{${names.map((n) => `${n}="v"`).join(',')},l250="again"} 1\n`;
    expect(strictError(dup, 'prometheus').reason).toBe('duplicate label "l250"');
    const dupEarly = `a{${names.map((n) => `${n}="v"`).join(',')},l3="again"} 1\n`;
    expect(strictError(dupEarly, 'prometheus').reason).toBe('duplicate label "l3"');
  });
});

describe('round trip of generated expositions', () => {
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

  it('returns exactly the names, labels, values and timestamps that were written', () => {
    const rnd = prng(4242);
    const pieces = ['a', 'b', 'x', '"', '\\', '\n', ' ', '#', '{', '}', ',', '=', 'é', '☃', '0', '9'];
    const randValue = () => {
      let v = '';
      const n = Math.floor(rnd() * 8);
      for (let i = 0; i < n; i++) v += pieces[Math.floor(rnd() * pieces.length)];
      return v;
    };
    for (let doc = 0; doc < 60; doc++) {
      const expected: { name: string; labels: string[]; value: number; ts?: number }[] = [];
      const lines: string[] = [];
      const families = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < families; f++) {
        const fam = `fam_${doc}_${f}`;
        lines.push(`# TYPE ${fam} gauge`);
        const series = 1 + Math.floor(rnd() * 30);
        // the same label values recur often, to exercise string reuse between samples
        const pool = Array.from({ length: 3 }, randValue);
        for (let s = 0; s < series; s++) {
          const labels: string[] = [];
          const nl = Math.floor(rnd() * 4);
          for (let l = 0; l < nl; l++) labels.push(`l${l}`, rnd() < 0.6 ? pool[Math.floor(rnd() * pool.length)] : randValue());
          const value = Math.round(rnd() * 1e6) / 100;
          const ts = rnd() < 0.3 ? 1700000000000 + s : undefined;
          expected.push({ name: fam, labels, value, ...(ts === undefined ? {} : { ts }) });
          const pairs: string[] = [];
          for (let i = 0; i < labels.length; i += 2) pairs.push(`${labels[i]}="${escape(labels[i + 1])}"`);
          const ls = pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
          lines.push(`${fam}${ls} ${value}${ts === undefined ? '' : ` ${ts}`}`);
        }
      }
      const text = lines.join('\n') + '\n';
      const got: typeof expected = [];
      parseExposition(
        text,
        { onSample: (name, labels, value, ts) => void got.push({ name, labels: [...labels], value, ...(ts === undefined ? {} : { ts }) }) },
        { format: 'prometheus', lenient: false },
      );
      expect(got).toEqual(expected);
      // (series may repeat, which OpenMetrics' semantic rules forbid: syntax only here)
      const om = parseToFamilies(text + '# EOF\n', { format: 'openmetrics', lenient: false, validate: false });
      expect(om.families.flatMap((f) => f.samples).map((s) => s.labels)).toEqual(expected.map((e) => labelsToObject(e.labels)));
    }
  });
});
