/**
 * Requests/s and p99 of GET /healthz and an authenticated small JSON route on Vigil, beside a bare
 * node:http server answering the same bodies, under autocannon on loopback in the same run.
 * Goal: Vigil >= 70% of the bare server's throughput.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { isMain, report, round, type Row } from './lib/report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = 32;

function startChild(args: string[]): Promise<{ child: ChildProcess; url: string; token?: string }> {
  const child = fork(path.join(here, 'lib/http-targets.ts'), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { url: string; token?: string }) => resolve({ child, ...m }));
    child.once('exit', (code) => reject(new Error(`target exited ${code}`)));
  });
}

async function load(url: string, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, headers, pipelining: 1 });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p99: r.latency.p99 };
}

export async function run(): Promise<Row[]> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-'));
  const vigil = await startChild(['vigil', dataDir]);
  const bare = await startChild(['bare']);
  try {
    const rows: Row[] = [];
    for (const [label, route, auth] of [
      ['GET /healthz', '/healthz', false],
      ['GET /api/v1/whoami (bearer)', '/api/v1/whoami', true],
    ] as const) {
      const headers: Record<string, string> = auth ? { authorization: `Bearer ${vigil.token}` } : {};
      // warm-up
      await autocannon({ url: vigil.url + route, connections: 8, duration: 1, headers });
      await autocannon({ url: bare.url + route, connections: 8, duration: 1, headers });
      const v = await load(vigil.url + route, headers);
      const b = await load(bare.url + route, headers);
      rows.push({
        route: label,
        'vigil req/s': round(v.rps, 0),
        'vigil p99 ms': v.p99,
        'bare node:http req/s': round(b.rps, 0),
        'bare p99 ms': b.p99,
        'vigil / bare': `${round((100 * v.rps) / b.rps, 0)}%`,
      });
    }
    return report('http-baseline', `HTTP baseline (autocannon, ${CONNECTIONS} connections, ${DURATION}s each, loopback)`, rows);
  } finally {
    vigil.child.kill('SIGTERM');
    bare.child.kill('SIGTERM');
  }
}

if (isMain(import.meta.url)) await run();
