/**
 * `vigil executor` as a reverse proxy, beside Debian nginx (`proxy_pass`, one worker) in the same
 * run and on the same upstream (a one-worker nginx answering a static 200):
 *   - requests/s at saturation (wrk, 1 thread, 32 connections): direct, nginx, executor with
 *     0 rules, 10 non-matching rules and one matching 0 % rule; then, like for like, nginx with 2
 *     worker processes beside `vigil executor --workers 2` with the 10 rules;
 *   - added p50/p99 latency at a fixed 1 000 req/s (a paced keep-alive client, since wrk2 is not
 *     packaged): each proxy's percentile minus the direct one;
 *   - fidelity: injected share of a 10 % abort over 100 000 requests against its 99 % binomial
 *     interval, delay error p99 of a 50 ms delay, and apply → enforced p99 through a real control plane.
 * A bare node:http pipe proxy is measured too: the floor any Node.js proxy starts from.
 * Goals: executor >= 60 % of (one-worker) nginx's requests/s; added p99 <= 1 ms at 1 000 req/s with 10 rules;
 * delay error p99 <= 5 ms; apply → enforced p99 <= 1 s.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Command } from 'commander';
import { registerExecutorCommand } from '../src/cli/executor.js';
import { cpuSeconds } from './lib/cpu-time.js';
import { isMain, report, round, type Row } from './lib/report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const NGINX = '/usr/sbin/nginx';
const WRK = '/usr/bin/wrk';
const SATURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const PACED_S = Number(process.env.BENCH_PACED_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RATE = 1000;
const SHARE_REQUESTS = 100_000;

const children: ChildProcess[] = [];
/** The process behind each target URL, for its CPU time. */
const pidOf = new Map<string, number>();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not come up`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** An nginx (one worker unless told) in its own prefix; `server` is the body of its one server block. */
async function startNginx(name: string, httpExtra: string, server: string, workers = 1): Promise<string> {
  const prefix = mkdtempSync(path.join(tmpdir(), `vigil-bench-nginx-${name}-`));
  chmodSync(prefix, 0o755);
  mkdirSync(path.join(prefix, 'tmp'));
  const port = await freePort();
  const t = (d: string) => `${d} ${path.join(prefix, 'tmp', d)};`;
  writeFileSync(
    path.join(prefix, 'nginx.conf'),
    `worker_processes ${workers};
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  ${t('client_body_temp_path')} ${t('proxy_temp_path')} ${t('fastcgi_temp_path')} ${t('uwsgi_temp_path')} ${t('scgi_temp_path')}
  ${httpExtra}
  server {
    listen 127.0.0.1:${port};
    ${server}
  }
}
`,
  );
  const child = spawn(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')], { stdio: 'ignore' });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(url + '/');
  if (child.pid !== undefined) pidOf.set(url, child.pid);
  return url;
}

/** `vigil executor` in its own process, enforcing `policies` from its state file (no control plane unless given). */
async function startExecutor(upstream: string, policies: unknown[], server?: { url: string; token: string }, workers = 1): Promise<{ url: string; child: ChildProcess }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-executor-'));
  const stateFile = path.join(dir, 'state.json');
  writeFileSync(stateFile, JSON.stringify({ version: 'bench', syncedAt: Date.now(), policies }));
  const port = await freePort();
  // This file again, as `vigil executor` alone (the same command, without loading every other one).
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), 'executor', '--listen', `127.0.0.1:${port}`, '--admin-listen', '127.0.0.1:0', '--upstream', upstream];
  args.push('--service', 'frontend', '--namespace', 'demo', '--state-file', stateFile, '--log-level', 'warn');
  if (server) args.push('--server', server.url, '--token', server.token);
  if (workers > 1) args.push('--workers', String(workers));
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, VIGIL_BENCH_ROLE: 'executor' } });
  children.push(child);
  // It prints its address once every worker listens; the port answers as soon as the first does.
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      if (!out.includes('vigil executor: proxy')) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolve();
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`executor exited with ${code} before listening`)));
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(url + '/');
  if (child.pid !== undefined) pidOf.set(url, child.pid);
  return { url, child };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function wrk(url: string, seconds: number): { rps: number; p99ms: number; requests: number } {
  const out = execFileSync(WRK, ['-t1', '-c32', `-d${seconds}s`, '--latency', url + '/'], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99ms = p99 ? Number(p99[1]) * (p99[2] === 'us' ? 0.001 : p99[2] === 's' ? 1000 : 1) : NaN;
  if (/Non-2xx/.test(out) || !Number.isFinite(rps)) throw new Error(`wrk on ${url}: ${out}`);
  return { rps, p99ms, requests: Number(/(\d+) requests in/.exec(out)?.[1]) };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/**
 * Open-loop client: `rate` requests/s on keep-alive connections for `seconds`, each timed from
 * its send to its last byte (microsecond clock). Returns the sorted latencies in ms.
 */
async function paced(url: string, rate: number, seconds: number, pathname = '/'): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const total = rate * seconds;
  const latencies: number[] = [];
  let sent = 0;
  let failed = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let done = 0;
    const one = () => {
      const start = performance.now();
      http
        .get(url + pathname, { agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) failed++;
            latencies.push(performance.now() - start);
            if (++done === total) resolve();
          });
        })
        .on('error', () => {
          failed++;
          if (++done === total) resolve();
        });
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000));
      while (sent < due) {
        sent++;
        one();
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  if (failed > 0) throw new Error(`${url}: ${failed} of ${total} paced requests failed`);
  return latencies.sort((a, b) => a - b);
}

const rule = (match: Record<string, unknown>, fault: Record<string, unknown>) => ({ match, fault: { percentage: 100, ...fault } });
const policy = (name: string, rules: unknown[]) => ({ metadata: { name }, spec: { selector: { service: 'frontend', namespace: 'demo' }, rules } });

/** Ten rules none of which match `GET /`: the mix a real policy set has (prefix, regex, method, header). */
const TEN_NON_MATCHING = Array.from({ length: 10 }, (_, i) =>
  policy(`nomatch-${i}`, [
    rule(
      i % 3 === 0
        ? { path: { regex: `^/api/v${i}/orders/[0-9]+$` } }
        : i % 3 === 1
          ? { method: { exact: 'POST' }, path: { prefix: `/checkout/${i}` } }
          : { path: { prefix: '/' }, headers: [{ name: 'x-user-id', exact: `tester-${i}` }] },
      { abort: { httpStatus: 503 } },
    ),
  ]),
);

export async function run(): Promise<Row[]> {
  for (const [bin, pkg] of [
    [NGINX, 'nginx'],
    [WRK, 'wrk'],
  ]) {
    if (!existsSync(bin)) {
      console.log(`faults-proxy: skipped, ${bin} missing (Debian package ${pkg})`);
      return [];
    }
  }
  const rows: Row[] = [];
  // Other work on the machine shows in every figure: say how much there was.
  const loadAtStart = loadavg()[0];
  try {
    const upstream = await startNginx('upstream', '', 'location / { default_type text/plain; return 200 "ok\\n"; }');
    const nginx = await startNginx(
      'proxy',
      `upstream app { server ${new URL(upstream).host}; keepalive 64; }`,
      'location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }',
    );
    const nginx2 = await startNginx(
      'proxy2',
      `upstream app { server ${new URL(upstream).host}; keepalive 64; }`,
      'location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }',
      2,
    );
    const setups: [string, unknown[], number][] = [
      ['vigil executor, 0 rules', [], 1],
      ['vigil executor, 10 non-matching rules', TEN_NON_MATCHING, 1],
      ['vigil executor, matching 0 % rule', [...TEN_NON_MATCHING, policy('zero', [rule({ path: { prefix: '/' } }, { percentage: 0, abort: { httpStatus: 503 } })])], 1],
      ['vigil executor --workers 2, 10 non-matching rules', TEN_NON_MATCHING, 2],
    ];

    // Every target runs at once but is loaded alone, round-robin over ROUNDS rounds (median kept),
    // so a burst of load from elsewhere on the machine does not land on one target only.
    const bare = await startBareProxy(upstream);
    const targets: { label: string; url: string; rps: number[]; p50: number[]; p99: number[]; cpuUs: number[] }[] = [
      { label: 'direct (nginx static upstream)', url: upstream, rps: [], p50: [], p99: [], cpuUs: [] },
      { label: 'nginx proxy_pass (1 worker)', url: nginx, rps: [], p50: [], p99: [], cpuUs: [] },
      { label: 'bare node:http pipe proxy (floor)', url: bare.url, rps: [], p50: [], p99: [], cpuUs: [] },
      { label: 'nginx proxy_pass (2 workers)', url: nginx2, rps: [], p50: [], p99: [], cpuUs: [] },
    ];
    for (const [label, policies, workers] of setups) targets.push({ label, url: (await startExecutor(upstream, policies, undefined, workers)).url, rps: [], p50: [], p99: [], cpuUs: [] });
    for (const t of targets) wrk(t.url, 1); // warm-up (JIT, connection pools)
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) {
        const cpu0 = cpuSeconds(pidOf.get(t.url));
        const w = wrk(t.url, SATURATION_S);
        t.rps.push(w.rps);
        t.cpuUs.push(((cpuSeconds(pidOf.get(t.url)) - cpu0) * 1e6) / w.requests);
      }
      for (const t of targets) {
        const lat = await paced(t.url, RATE, PACED_S);
        t.p50.push(quantile(lat, 0.5));
        t.p99.push(quantile(lat, 0.99));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const results = targets.map((t) => ({ label: t.label, rps: median(t.rps), p50: median(t.p50), p99: median(t.p99), cpuUs: median(t.cpuUs) }));
    const [direct, viaNginx] = results;
    const viaNginx2 = results.find((r) => r.label.startsWith('nginx proxy_pass (2'))!;
    for (const r of results) {
      rows.push({
        target: r.label,
        'req/s (wrk, 32 conn)': round(r.rps, 0),
        'vs nginx 1 worker': r === direct ? '' : `${round((100 * r.rps) / viaNginx.rps, 0)}%`,
        'vs nginx 2 workers': r === direct ? '' : `${round((100 * r.rps) / viaNginx2.rps, 0)}%`,
        // CPU time per request depends far less than req/s on how much of the machine the target got
        // (it still rises when a process gets fewer requests per event-loop turn).
        'CPU µs/req': round(r.cpuUs, 1),
        [`p50 ms @${RATE}/s`]: round(r.p50, 3),
        [`p99 ms @${RATE}/s`]: round(r.p99, 3),
        'added p50 ms': r === direct ? '' : round(r.p50 - direct.p50, 3),
        'added p99 ms': r === direct ? '' : round(r.p99 - direct.p99, 3),
      });
    }
    const load = `load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end`;
    report('faults-proxy', `Fault-injection proxy beside nginx (median of ${ROUNDS} interleaved rounds: wrk ${SATURATION_S}s; paced ${RATE} req/s for ${PACED_S}s; loopback; ${load})`, rows);

    // Fidelity: injected share of a 10 % abort over 100 000 requests.
    const fidelity: Row[] = [];
    const p = 0.1;
    const share = await startExecutor(upstream, [policy('ten-percent', [rule({ path: { prefix: '/' } }, { percentage: 10, abort: { httpStatus: 503 } })])]);
    const r = await autocannon({ url: share.url, connections: 32, amount: SHARE_REQUESTS });
    await stop(share.child);
    const n = r.requests.total;
    const injected = r.non2xx;
    const half = 2.5758 * Math.sqrt(n * p * (1 - p));
    fidelity.push({
      check: 'injected share, 10 % abort',
      measured: `${injected} of ${n} (${round((100 * injected) / n, 3)} %)`,
      goal: `${Math.ceil(n * p - half)}..${Math.floor(n * p + half)} (99 % binomial interval)`,
      ok: n === SHARE_REQUESTS && Math.abs(injected - n * p) <= half ? 'yes' : 'NO',
    });

    // Delay error: a 50 ms delay on every request, paced at 200 req/s.
    const delayMs = 50;
    const slow = await startExecutor(upstream, [policy('fifty', [rule({ path: { prefix: '/' } }, { delay: { fixed_delay_ms: delayMs } })])]);
    // Warm-up, as for the other targets: first connections (client and upstream side) and JIT.
    await paced(slow.url, 200, 1);
    const delayed = await paced(slow.url, 200, 5);
    await stop(slow.child);
    const errP99 = quantile(delayed, 0.99) - delayMs;
    fidelity.push({
      check: `delay error, ${delayMs} ms delay (1 000 requests)`,
      measured: `p50 ${round(quantile(delayed, 0.5) - delayMs, 2)} ms, p99 ${round(errP99, 2)} ms, min ${round(delayed[0] - delayMs, 2)} ms`,
      goal: 'p99 <= 5 ms, min >= 0',
      ok: errP99 <= 5 && delayed[0] >= delayMs ? 'yes' : 'NO',
    });

    fidelity.push(await applyToEnforced(upstream));
    report('faults-proxy-fidelity', `Fault-injection fidelity (load average ${loadavg()[0].toFixed(1)})`, fidelity);
    return [...rows, ...fidelity];
  } finally {
    await Promise.all(children.map(stop));
  }
}

/** Apply → enforced: a policy written through the API, timed until the executor answers with its abort. */
async function applyToEnforced(upstream: string): Promise<Row> {
  const [{ loadConfig }, { faultsModule }, { createServer }] = await Promise.all([
    import('../src/config/load.js'),
    import('../src/faults/module.js'),
    import('../src/platform/runtime.js'),
  ]);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-cp-'));
  const token = 'vgl_bench_admin_token_0123456789';
  const config = loadConfig({ env: {}, flags: { 'server.port': 0, 'server.host': '127.0.0.1', dataDir, 'log.level': 'warn', 'auth.adminToken': token, 'server.jobs': false } });
  const server = await createServer(config, [faultsModule(config)]);
  const cpUrl = await server.listen();
  const ex = await startExecutor(upstream, [], { url: cpUrl, token });
  const samples: number[] = [];
  try {
    for (let i = 0; i < 50; i++) {
      const probe = `/probe-${i}`;
      const start = performance.now();
      const res = await fetch(`${cpUrl}/v1/policies`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(policy(`probe-${i}`, [rule({ path: { exact: probe } }, { abort: { httpStatus: 503 } })])),
      });
      if (res.status !== 201) throw new Error(`apply answered ${res.status}: ${await res.text()}`);
      for (let tries = 0; ; tries++) {
        if (tries > 5000) throw new Error(`${probe} never enforced`);
        const r = await fetch(ex.url + probe);
        await r.body?.cancel();
        if (r.status === 503) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      samples.push(performance.now() - start);
    }
  } finally {
    await stop(ex.child);
    await server.stop();
  }
  samples.sort((a, b) => a - b);
  const p99 = quantile(samples, 0.99);
  return {
    check: 'apply -> enforced (50 applies over the API)',
    measured: `p50 ${round(quantile(samples, 0.5), 1)} ms, p99 ${round(p99, 1)} ms`,
    goal: 'p99 <= 1000 ms',
    ok: p99 <= 1000 ? 'yes' : 'NO',
  };
}

/**
 * The floor for any Node.js proxy: a keep-alive agent and two pipes, no header rewriting, no
 * decision, no metrics. It tells how much of the gap to nginx is Node's HTTP stack and how much is ours.
 */
function bareProxy(listenPort: number, upstream: URL): void {
  const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo', maxFreeSockets: 1024 });
  http
    .createServer((req, res) => {
      const out = http.request({ hostname: upstream.hostname, port: upstream.port, agent, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on('error', () => res.destroy());
      req.pipe(out);
    })
    .listen(listenPort, '127.0.0.1');
}

async function startBareProxy(upstream: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(port), upstream], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, VIGIL_BENCH_ROLE: 'bare-proxy' },
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(url + '/');
  if (child.pid !== undefined) pidOf.set(url, child.pid);
  return { url, child };
}

if (process.env.VIGIL_BENCH_ROLE === 'executor') {
  const program = new Command('vigil');
  registerExecutorCommand(program);
  await program.parseAsync(process.argv);
} else if (process.env.VIGIL_BENCH_ROLE === 'bare-proxy') {
  bareProxy(Number(process.argv[2]), new URL(process.argv[3]));
} else if (isMain(import.meta.url)) await run();
