import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeLlm {
  url: string;
  /** Bodies of the requests received, parsed. */
  requests: { model: string; messages: { role: string; content: string }[]; stream: boolean }[];
  close(): Promise<void>;
}

/**
 * A small OpenAI-compatible chat completions server on loopback: streams `tokens` as SSE chunks
 * (with a usage chunk), or answers `status` with an error, or never answers (`hang`).
 */
export async function startFakeLlm(opts: { tokens?: string[]; status?: number; hang?: boolean; apiKey?: string } = {}): Promise<FakeLlm> {
  const requests: FakeLlm['requests'] = [];
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url !== '/v1/chat/completions' || req.method !== 'POST') return void res.writeHead(404).end();
      if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`) return void res.writeHead(401).end('{"error":"bad key"}');
      requests.push(JSON.parse(body));
      if (opts.hang) return void hanging.add(res);
      if (opts.status) return void res.writeHead(opts.status, { 'content-type': 'application/json' }).end('{"error":{"message":"overloaded"}}');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const tokens = opts.tokens ?? ['The ', 'ECU ', 'failed.'];
      for (const t of tokens) res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: t }, finish_reason: null }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 120, completion_tokens: tokens.length, total_tokens: 120 + tokens.length } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise((r) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
