/**
 * Hostile input on the SLO routes (issue 7, points 2, 4, 6, 8), on SQLite and PostgreSQL: bodies
 * are validated without type coercion, numbers are finite and integers safe, NUL and lone
 * surrogates are refused everywhere, lengths match the columns, and nothing is written before the
 * answer is known. Both engines must give the same 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { sloModule } from '../../src/slo/module.js';
import { fleetSnapshot } from '../support/slo-fixtures.js';
import { sqlCases } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MIN = 60_000;

for (const c of sqlCases()) {
  describe.skipIf(!c.open)(`SLO routes refuse hostile input (${c.name})`, () => {
    let t: TestServer;
    const now = Date.now();
    const shape = { cluster: 'alpha', services: 2, edges: 2, routes: 2, domains: 1 };
    const base = fleetSnapshot(shape, 1, now - 3 * MIN) as unknown as Json;

    /** Sends raw text, so values JSON.stringify cannot produce (1e400, 2^64 digits) reach the server. */
    const send = async (method: string, path: string, text?: string, contentType = 'application/json') => {
      const headers: Record<string, string> = { authorization: `Bearer ${t.adminToken}` };
      if (text !== undefined) headers['content-type'] = contentType;
      const res = await fetch(t.url + path, { method, headers, body: text });
      const body = await res.text();
      return { status: res.status, body: (body ? JSON.parse(body) : null) as Json };
    };
    const snapshots = async () => Number(((await t.server.ctx.sql.db.selectFrom('slo_snapshots').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()) as { n: number }).n);
    const withSeq = (seq: number): Json => ({ ...structuredClone(base), seq });

    beforeAll(async () => {
      t = await startTestServer({ pgUrl: c.url, modules: [sloModule(loadConfig({ env: {} }))], flags: { 'server.jobs': false } });
    });
    afterAll(async () => {
      await t?.stop();
    });

    const expectBad = (r: { status: number; body: Json }, field: string) => {
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error).toBe('bad_request');
      expect(typeof r.body.message).toBe('string');
      expect(r.body.field).toBe(field);
    };

    it.each([
      ['the string "Infinity"', '"Infinity"'],
      ['a numeric string', '"12"'],
      ['true', 'true'],
      ['null', 'null'],
      ['1e400 (parses to Infinity)', '1e400'],
    ])('a count sent as %s is 400 naming it, and nothing is written', async (_what, literal) => {
      const s = withSeq(11);
      s.services[0].requests[0].count = '__X__';
      const r = await send('POST', '/api/v2/agent/snapshots', JSON.stringify(s).replace('"__X__"', literal));
      expectBad(r, 'services.0.requests.0.count');
      expect(await snapshots()).toBe(0);
    });

    it('cluster_id sent as a number is 400 naming cluster_id', async () => {
      const s = withSeq(12) as Json;
      s.cluster_id = 123;
      expectBad(await send('POST', '/api/v2/agent/snapshots', JSON.stringify(s)), 'cluster_id');
      expect(await snapshots()).toBe(0);
    });

    it.each([
      ['"Infinity"', '"Infinity"'],
      ['1e308', '1e308'],
      ['2^64', '18446744073709551616'],
      ['2^53+1', '9007199254740993'],
    ])('seq %s is 400 naming seq, and nothing is written', async (_what, literal) => {
      const r = await send('POST', '/api/v2/agent/snapshots', JSON.stringify(withSeq(424242)).replace('424242', literal));
      expectBad(r, 'seq');
      expect(await snapshots()).toBe(0);
    });

    it('a NUL byte or a lone surrogate in any string field is 400 naming it', async () => {
      let s = withSeq(13);
      s.agent_id = 'agent\u0000x';
      expectBad(await send('POST', '/api/v2/agent/snapshots', JSON.stringify(s)), 'agent_id');
      s = withSeq(14);
      s.services[1].name = 'web\ud800';
      expectBad(await send('POST', '/api/v2/agent/snapshots', JSON.stringify(s)), 'services.1.name');
      expect(await snapshots()).toBe(0);
    });

    it('a NUL byte in a path parameter or query parameter is 400 naming it (anonymous reads too)', async () => {
      let r = await send('GET', '/api/v2/slo/domains/shop%00.example.com?cluster_id=alpha');
      expectBad(r, 'domain');
      r = await send('GET', '/api/v2/slo/status-history?cluster_id=alpha&key=a%00b');
      expectBad(r, 'key');
      const anon = await fetch(`${t.url}/api/v2/slo/mesh/services/shop/ca%00rt`);
      expect(anon.status).toBe(400);
      expect(((await anon.json()) as Json).field).toBe('name');
    });

    it('a service_key longer than the 253-character column is 400 naming it', async () => {
      const s = withSeq(15);
      s.ingress[0].service_key = 'k'.repeat(300);
      const r = await send('POST', '/api/v2/agent/snapshots', JSON.stringify(s));
      expectBad(r, 'ingress.0.service_key');
      expect(await snapshots()).toBe(0);
    });

    it('status-history since=1e20 and since=-1 are 400 naming since', async () => {
      expectBad(await send('GET', '/api/v2/slo/status-history?cluster_id=alpha&since=1e20'), 'since');
      expectBad(await send('GET', '/api/v2/slo/status-history?cluster_id=alpha&since=-1'), 'since');
    });

    it('a query number that coerces to Infinity (limit=1e400, since=Infinity) is 400 naming it', async () => {
      expectBad(await send('GET', '/api/v2/slo/status-history?cluster_id=alpha&limit=1e400'), 'limit');
      expectBad(await send('GET', '/api/v2/slo/status-history?cluster_id=alpha&since=Infinity'), 'since');
    });

    it('query strings still coerce numeric text (limit=10 works)', async () => {
      const ok = await send('POST', '/api/v2/agent/snapshots', JSON.stringify(withSeq(1)));
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      const r = await send('GET', '/api/v2/slo/status-history?cluster_id=alpha&limit=10&since=0');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.transitions).toEqual([]);
    });

    it('an additional property is 400 naming it', async () => {
      const body = { targets: [{ scope: 'domain', key: 'shop.example.com', window: '1d', availability_target: 99, p95_latency_target: 300, colour: 'red' }] };
      const r = await send('PUT', '/api/v2/slo/targets?cluster_id=alpha', JSON.stringify(body));
      expectBad(r, 'targets.0.colour');
      expect(r.body.message).toContain('colour');
    });

    it('a target sent with a numeric string is 400 (no coercion in bodies)', async () => {
      const body = { targets: [{ scope: 'domain', key: 'shop.example.com', window: '1d', availability_target: '99', p95_latency_target: 300 }] };
      expectBad(await send('PUT', '/api/v2/slo/targets?cluster_id=alpha', JSON.stringify(body)), 'targets.0.availability_target');
    });

    it('a text/plain body is 415 with the JSON error body', async () => {
      const r = await send('POST', '/api/v2/agent/snapshots', JSON.stringify(withSeq(16)), 'text/plain');
      expect(r.status).toBe(415);
      expect(r.body.error).toBe('unsupported_media_type');
      expect(typeof r.body.message).toBe('string');
    });

    it('a body nested thousands of levels deep is 400, not a crash', async () => {
      const deep = '['.repeat(5000) + ']'.repeat(5000);
      const r = await send('PUT', '/api/v2/slo/targets?cluster_id=alpha', `{"targets":[],"remove":${deep}}`);
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('bad_request');
    });
  });
}
