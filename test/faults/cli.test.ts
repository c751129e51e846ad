/** `vigil fault …` against a running control plane: HFI's verbs and output. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { io, registerFaultCommands } from '../../src/cli/fault.js';
import { UsageError } from '../../src/cli/common.js';
import { fixturesDir } from '../support/env.js';
import { call, json, sqliteDatabase, startFaultServer, type FaultServer } from './helpers.js';

const hfi = fixturesDir('hfi');

describe('vigil fault', () => {
  let t: FaultServer;
  let out = '';
  let err = '';
  let stdin = '';

  beforeAll(async () => {
    t = await startFaultServer(sqliteDatabase());
    io.isTTY = () => false;
    io.out = (s) => void (out += s);
    io.err = (s) => void (err += s);
    io.readStdin = async () => stdin;
    io.sleep = async () => {};
  });
  afterAll(async () => {
    await t?.stop();
  });
  beforeEach(() => {
    out = '';
    err = '';
  });

  const run = async (args: string[], server: 'server' | 'control-plane-addr' = 'server') => {
    const program = new Command('vigil').exitOverride();
    registerFaultCommands(program);
    for (const c of program.commands.flatMap((x) => [x, ...x.commands])) c.exitOverride().configureOutput({ writeErr: (s) => void (err += s), writeOut: (s) => void (out += s) });
    const addr = server === 'server' ? t.url : t.url.replace(/^http:\/\//, '');
    await program.parseAsync(['node', 'vigil', 'fault', ...args, `--${server}`, addr, '--token', t.adminToken]);
  };

  it.skipIf(!hfi)('apply -f takes every fixture file, every document, and prints HFI lines', async () => {
    const dir = path.join(hfi!, 'current');
    const expected: string[] = [];
    for (const f of readdirSync(dir).sort()) {
      out = '';
      await run(['apply', '-f', path.join(dir, f)]);
      const names = f.endsWith('.json') ? [JSON.parse(readFileSync(path.join(dir, f), 'utf8')).metadata.name] : parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS().metadata.name);
      expect(out).toBe(names.map((n: string) => `faultinjectionpolicy.hfi.dev "${n}" applied\n`).join(''));
      expected.push(...names);
    }
    expect(expected).toHaveLength(11);
    const listed = (await (await call(t, '/v1/policies')).json()) as { policies: { metadata: { name: string } }[] };
    expect(listed.policies.map((p) => p.metadata.name)).toEqual(expect.arrayContaining(expected));
  });

  it.skipIf(!hfi)('apply converts legacy files with a warning on stderr, and refuses the invalid one naming metadata.name', async () => {
    await run(['apply', '-f', path.join(hfi!, 'legacy', 'late-stage-fault-policy.yaml')]);
    expect(out).toBe('faultinjectionpolicy.hfi.dev "late-stage-fault-policy" applied\n');
    expect(err).toMatch(/warning: .*fixed_delay.*fixed_delay_ms: 2000/);
    await expect(run(['apply', '-f', path.join(hfi!, 'legacy', 'invalid-policy.yaml')])).rejects.toThrow(/metadata\.name/);
  });

  it('apply -f - reads stdin; --start-delay-ms and --duration-seconds apply to every rule', async () => {
    stdin = [
      'metadata: {name: cli-a}',
      'spec:',
      '  rules:',
      '    - {match: {path: {prefix: /a}}, fault: {percentage: 10, abort: {httpStatus: 500}}}',
      '    - {match: {path: {prefix: /b}}, fault: {percentage: 10, delay: {fixed_delay_ms: 5}}}',
      '---',
      'metadata: {name: cli-b}',
      'spec: {rules: [{match: {path: {prefix: /}}, fault: {percentage: 1, abort: {httpStatus: 503}}}]}',
    ].join('\n');
    await run(['apply', '-f', '-', '--start-delay-ms', '250', '--duration-seconds', '600']);
    expect(out).toBe('faultinjectionpolicy.hfi.dev "cli-a" applied\nfaultinjectionpolicy.hfi.dev "cli-b" applied\n');
    const a = (await (await call(t, '/v1/policies/cli-a')).json()) as { spec: { rules: { fault: Record<string, unknown> }[] } };
    expect(a.spec.rules.map((r) => [r.fault.start_delay_ms, r.fault.duration_seconds])).toEqual([
      [250, 600],
      [250, 600],
    ]);
  });

  it('refuses a bad file before sending anything, naming document and field', async () => {
    stdin = 'metadata: {name: ok-one}\nspec: {rules: [{match: {path: {prefix: /}}, fault: {percentage: 1, abort: {httpStatus: 500}}}]}\n---\nmetadata: {name: bad-two}\nspec: {rules: [{match: {path: {prefix: /}}, fault: {percentage: 1, abrot: {httpStatus: 500}}}]}\n';
    await expect(run(['apply', '-f', '-'])).rejects.toThrow(/document 2: .*unknown field "abrot".*field spec\.rules\[0\]\.fault\.abrot/);
    expect((await call(t, '/v1/policies/ok-one')).status).toBe(404);
    await expect(run(['apply', '-f', '-', '--duration-seconds', 'soon'])).rejects.toBeInstanceOf(UsageError);
  });

  it('get prints a table, yaml that applies back unchanged, and json', async () => {
    await call(t, '/v1/policies', json({ metadata: { name: 'cli-get' }, spec: { selector: { service: 'cart' }, rules: [{ match: { path: { prefix: '/' } }, fault: { percentage: 5, abort: { httpStatus: 502 } } }] } }));
    await run(['get']);
    const line = out.split('\n').find((l) => l.startsWith('cli-get '));
    expect(line).toMatch(/^cli-get\s+\*\/cart\s+1\s+abort\s+\d+\s+never$/);
    expect(out.split('\n')[0]).toMatch(/^NAME\s+TARGET \(NAMESPACE\/SERVICE\)\s+RULES\s+FAULTS\s+VERSION\s+EXPIRES IN$/);

    out = '';
    await run(['get', 'cli-get', '-o', 'yaml']);
    expect(out.indexOf('selector:')).toBeLessThan(out.indexOf('rules:'));
    const y = parse(out) as { spec: unknown; metadata: { name: string } };
    expect(y.spec).toEqual({ selector: { service: 'cart' }, rules: [{ match: { path: { prefix: '/' } }, fault: { percentage: 5, abort: { httpStatus: 502 } } }] });
    stdin = out;
    out = '';
    await run(['apply', '-f', '-']);
    expect(out).toBe('faultinjectionpolicy.hfi.dev "cli-get" applied\n');

    out = '';
    await run(['list', '-o', 'json']);
    expect((JSON.parse(out) as { metadata: { name: string } }[]).map((p) => p.metadata.name)).toContain('cli-get');
  });

  it('describe puts the rules in words', async () => {
    await call(
      t,
      '/v1/policies',
      json({
        metadata: { name: 'cli-desc' },
        spec: { selector: { service: 'frontend', namespace: 'demo' }, duration_seconds: 3600, rules: [{ match: { method: { exact: 'GET' }, path: { exact: '/' } }, fault: { percentage: 50, delay: { fixed_delay_ms: 500 }, abort: { httpStatus: 503 } } }] },
      }),
    );
    await run(['describe', 'cli-desc']);
    expect(out).toContain('Target:      demo/frontend');
    expect(out).toContain('0. GET path = "/" → delay 500 ms, then abort 503 (50%)');
    expect(out).toMatch(/Expires in: {2}(59m \d+s|1h)/);
    expect(out).toContain('Injected:    none reported');
  });

  it('delete prints HFI line; a missing policy is an error', async () => {
    await call(t, '/v1/policies', json({ metadata: { name: 'cli-del' }, spec: { rules: [{ match: { path: { prefix: '/' } }, fault: { percentage: 1, abort: { httpStatus: 500 } } }] } }));
    await run(['delete', 'cli-del'], 'control-plane-addr');
    expect(out).toBe('faultinjectionpolicy.hfi.dev "cli-del" deleted\n');
    await expect(run(['delete', 'cli-del'])).rejects.toThrow(/"cli-del" not found/);
  });

  it('watch shows injected counts per policy and executor', async () => {
    await call(t, '/v1/policies', json({ metadata: { name: 'cli-watch' }, spec: { rules: [{ match: { path: { prefix: '/' } }, fault: { percentage: 1, abort: { httpStatus: 500 } } }] } }));
    await call(t, '/v1/executors/report', json({ executor_id: 'exec-7', service: 'frontend', namespace: 'demo', policy_version: '1', counters: [{ policy: 'cli-watch', rule: 0, type: 'abort', count: 42 }] }));
    await run(['watch', '--count', '2', '--interval', '1']);
    const views = out.split(/\n(?=policy version )/);
    expect(views).toHaveLength(2);
    expect(views[0]).toMatch(/cli-watch\s+abort=42\s+42\s+1/);
    expect(views[0]).toMatch(/exec-7\s+demo\/frontend\s+1 \(behind\)\s+connected\s+\d+s ago\s+cli-watch: abort=42/);
  });

  it('export --to istio and --to envoy, with notes on what they cannot express', async () => {
    await call(
      t,
      '/v1/policies',
      json({
        metadata: { name: 'cli-export' },
        spec: {
          selector: { service: 'frontend', namespace: 'demo' },
          rules: [
            { match: { method: { exact: 'GET' }, path: { prefix: '/api/' }, headers: [{ name: 'x-user-id', exact: 'test' }] }, fault: { percentage: 12.5, delay: { fixed_delay_ms: 500, jitter_ms: 20 } } },
            { match: { path: { regex: '^/v[0-9]+/' } }, fault: { percentage: 100, abort: { httpStatus: 503, body: 'down' } } },
          ],
        },
      }),
    );
    await run(['export', 'cli-export', '--to', 'istio']);
    expect(out).not.toMatch(/[&*]a\d/); // plain YAML, no anchors
    const vs = parse(out) as { kind: string; metadata: unknown; spec: { hosts: string[]; http: Record<string, unknown>[] } };
    expect(vs.kind).toBe('VirtualService');
    expect(vs.metadata).toEqual({ name: 'cli-export', namespace: 'demo' });
    expect(vs.spec.hosts).toEqual(['frontend']);
    expect(vs.spec.http[0]).toMatchObject({
      match: [{ method: { exact: 'GET' }, uri: { prefix: '/api/' }, headers: { 'x-user-id': { exact: 'test' } } }],
      fault: { delay: { percentage: { value: 12.5 }, fixedDelay: '500ms' } },
      route: [{ destination: { host: 'frontend' } }],
    });
    expect(vs.spec.http[1]).toMatchObject({ match: [{ uri: { regex: '.*(?:^/v[0-9]+/).*' } }], fault: { abort: { percentage: { value: 100 }, httpStatus: 503 } } });
    expect(vs.spec.http[2]).toEqual({ name: 'default', route: [{ destination: { host: 'frontend' } }] });
    expect(err).toMatch(/note: delay\.jitter_ms is not expressible in Istio/);
    expect(err).toMatch(/note: abort\.body and abort\.headers are not expressible in Istio/);

    out = '';
    err = '';
    await run(['export', 'cli-export', '--to', 'envoy', '-o', 'json']);
    const envoy = JSON.parse(out) as { http_filters: { name: string; typed_config: Record<string, unknown> }[] };
    expect(envoy.http_filters).toHaveLength(2);
    expect(envoy.http_filters[0]).toEqual({
      name: 'envoy.filters.http.fault',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
        delay: { fixed_delay: '0.5s', percentage: { numerator: 125_000, denominator: 'MILLION' } },
        headers: [
          { name: ':method', string_match: { exact: 'GET' } },
          { name: ':path', string_match: { prefix: '/api/' } },
          { name: 'x-user-id', string_match: { exact: 'test' } },
        ],
      },
    });
    expect(err).toMatch(/note: Envoy applies every fault filter/);
  });

  it('a server that is not there is a clear error', async () => {
    const program = new Command('vigil').exitOverride();
    registerFaultCommands(program);
    await expect(program.parseAsync(['node', 'vigil', 'fault', 'list', '--server', 'http://127.0.0.1:9', '--token', 'x'])).rejects.toThrow(/cannot reach the Vigil server/);
  });
});
