import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixturesDir, repoRoot } from '../support/env.js';
import { runCommand } from '../support/run.js';

// The CLI runs from its sources (tsx), never from a dist/ that may be older than the code under test.
const tsx = pathToFileURL(path.join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href;
const entry = path.join(repoRoot, 'src/cli/main.ts');
const vigil = (args: string[]) =>
  runCommand(process.execPath, ['--import', tsx, entry, ...args], { env: { PATH: process.env.PATH }, timeoutMs: 120_000 });

const dir = fixturesDir('traefik');
const manifest = (f: string) => path.join(dir!, 'crd', f);

describe.skipIf(!dir)('vigil routes match, on the Traefik fixture manifests', { timeout: 300_000 }, () => {
  it('names the router that serves the URL, with its rule, priority and matching parts', async () => {
    // with_two_rules.yml: /foo at priority 12 and /bar at priority 14 on foo.com.
    const r = await vigil(['routes', 'match', '--routes-file', manifest('traefik.io/with_two_rules.yml'), '--host', 'foo.com', '--path', '/bar/baz']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('GET foo.com/bar/baz is served by default-test-route-6b204d94623b3df4370c@kubernetescrd');
    expect(r.stdout).toContain('rule:     Host(`foo.com`) && PathPrefix(`/bar`) (syntax v3)');
    expect(r.stdout).toContain('priority: 14 (set on the route)');
    expect(r.stdout).toContain('matchers: ✓ Host(`foo.com`)  ✓ PathPrefix(`/bar`)');
    expect(r.stdout).toContain('from:     IngressRoute default/test.route, spec.routes[1] (entry points: web)');
  });

  it('says why no route serves the URL and exits 1', async () => {
    const r = await vigil(['routes', 'match', '--routes-file', manifest('traefik.io/with_two_rules.yml'), '--host', 'bar.com:8443', '--path', '/foo']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('GET bar.com:8443/foo is served by no route (Traefik answers 404); 2 tried, highest priority first:');
    expect(r.stdout).toContain('matchers: ✗ Host(`foo.com`)  ✗ PathPrefix(`/bar`)');
    expect(r.stdout).toContain('matchers: ✗ Host(`foo.com`)  ✓ PathPrefix(`/foo`)');
  });

  it('reads traefik.containo.us manifests with the v2 syntax, filters by entry point, answers JSON', async () => {
    const args = ['routes', 'match', '--routes-file', manifest('traefik.containo.us/simple.yml'), '--host', 'FOO.com', '--path', '/bar?x=1', '--json'];
    const onFoo = await vigil([...args, '--entry-point', 'foo']);
    expect(onFoo.status).toBe(0);
    const answer = JSON.parse(onFoo.stdout) as {
      request: { path: string; query: string };
      served: { router: { name: string; syntax: string; source: string }; priority: number; priorityFrom: string; parts: { matcher: string; matched: boolean }[] } | null;
    };
    expect(answer.request).toMatchObject({ path: '/bar', query: 'x=1' });
    expect(answer.served?.router).toMatchObject({ name: 'default-test-route-6b204d94623b3df4370c@kubernetescrd', syntax: 'v2', source: 'IngressRoute default/test.route, spec.routes[0]' });
    expect(answer.served).toMatchObject({ priority: 12, priorityFrom: 'explicit' });
    expect(answer.served?.parts.map((p) => p.matched)).toEqual([true, true]);

    const onWeb = await vigil([...args, '--entry-point', 'web']);
    expect(onWeb.status).toBe(1);
    expect(JSON.parse(onWeb.stdout)).toMatchObject({ served: null, verdicts: [] });
  });

  it('takes the manifests from agent.routesFile, and without any exits 2 saying how to give them', async () => {
    const fromConfig = await vigil(['routes', 'match', '--set', `agent.routesFile=${manifest('traefik.io/with_middleware.yml')}`, '--host', 'foo.com', '--path', '/tobestripped/a']);
    expect(fromConfig.status).toBe(0);
    expect(fromConfig.stdout).toContain('is served by default-test2-route-23c7f4c450289ee29016@kubernetescrd');

    const none = await vigil(['routes', 'match', '--host', 'foo.com', '--path', '/']);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('give --routes-file or set agent.routesFile');
  });
});
