import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Proxy } from './proxy.js';

export interface HostPort {
  host: string;
  port: number;
}

export const listen = (server: http.Server, at: HostPort) =>
  new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });

export const urlOf = (a: AddressInfo) => `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;

/** The proxy's listener: keep-alive, no request timeout (a delay fault may hold a request for an hour). */
export const proxyServer = (proxy: Proxy, maxHeaderSize: number) => http.createServer({ maxHeaderSize, keepAlive: true, requestTimeout: 0 }, proxy.handle);

/** Stop accepting, let in-flight requests finish for up to `drainMs`, then close every connection. */
export async function drain(server: http.Server, drainMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Connections finishing their last response become idle: close them as they do.
  const sweep = setInterval(() => server.closeIdleConnections(), 100);
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((resolve) => (deadline = setTimeout(resolve, drainMs)))]);
  clearInterval(sweep);
  clearTimeout(deadline);
  server.closeAllConnections();
}

/** Close a listener and every connection on it at once (the admin port: scrapes can be cut). */
export async function closeNow(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
