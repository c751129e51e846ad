/** Child process for bench/http-baseline: either a Vigil server or a bare node:http server. */
import http from 'node:http';
import { loadConfig } from '../../src/config/load.js';
import { createServer } from '../../src/platform/runtime.js';
import { allModules } from '../../src/modules.js';

const [mode, dataDir] = process.argv.slice(2);

if (mode === 'vigil') {
  const token = 'vgl_bench_admin_token_0123456789';
  const config = loadConfig({ env: {}, flags: { 'server.port': 0, dataDir, 'log.level': 'warn', 'auth.adminToken': token, 'server.jobs': false } });
  const server = await createServer(config, allModules(config));
  const url = await server.listen();
  process.send!({ url, token });
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
} else {
  const health = JSON.stringify({ status: 'ok' });
  const who = JSON.stringify({ authenticated: true, role: 'admin', name: 'admin (from config)', clusterId: null, anonymousRead: true });
  const srv = http.createServer((req, res) => {
    const body = req.url === '/healthz' ? health : who;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  srv.listen(0, '127.0.0.1', () => {
    const addr = srv.address() as { port: number };
    process.send!({ url: `http://127.0.0.1:${addr.port}` });
  });
  process.on('SIGTERM', () => srv.close(() => process.exit(0)));
}
