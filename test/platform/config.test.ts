import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envNameOf, loadConfig, maskSecrets, parseDuration, schemaLeaves } from '../../src/config/load.js';
import { renderConfigDocs } from '../../src/config/docs.js';
import { repoRoot } from '../support/env.js';

const tmpFile = (text: string) => {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'vigil-cfg-')), 'vigil.yaml');
  writeFileSync(f, text);
  return f;
};

describe('configuration', () => {
  it('has documented defaults', () => {
    const c = loadConfig({ env: {} });
    expect(c.server.port).toBe(8080);
    expect(c.server.host).toBe('127.0.0.1');
    expect(c.server.bodyLimitBytes).toBe(10 * 1024 * 1024);
    expect(c.anomaly.timeZone).toBe('Asia/Taipei');
    expect(c.agent.excludeNamespaces).toEqual(['linkerd', 'linkerd-viz', 'kube-system']);
  });

  it('applies flags > env > file > defaults', () => {
    const file = tmpFile('server:\n  port: 7000\n  host: 0.0.0.0\nlog:\n  level: warn\nanomaly:\n  k: 7\n');
    const env = { VIGIL_SERVER_PORT: '7100', VIGIL_LOG_LEVEL: 'debug' };
    const c = loadConfig({ file, env, flags: { 'server.port': '7200' } });
    expect(c.server.port).toBe(7200); // flag beats env and file
    expect(c.log.level).toBe('debug'); // env beats file
    expect(c.server.host).toBe('0.0.0.0'); // file beats default
    expect(c.anomaly.k).toBe(7);
    expect(c.anomaly.factor).toBe(2); // default kept beside a file value in the same section
  });

  it('maps nested camelCase keys to VIGIL_ env names and honours aliases', () => {
    expect(envNameOf('server.bodyLimitBytes')).toBe('VIGIL_SERVER_BODY_LIMIT_BYTES');
    expect(envNameOf('anomaly.tempo.pollInterval')).toBe('VIGIL_ANOMALY_TEMPO_POLL_INTERVAL');
    const c = loadConfig({
      env: {
        VIGIL_SERVER_BODY_LIMIT_BYTES: '2048',
        VIGIL_ADMIN_TOKEN: 'a-very-long-admin-token',
        VIGIL_AGENT_EXCLUDE_NAMESPACES: 'a, b',
        VIGIL_SERVER_SERVE_WEB: 'false',
      },
    });
    expect(c.server.bodyLimitBytes).toBe(2048);
    expect(c.auth.adminToken).toBe('a-very-long-admin-token');
    expect(c.agent.excludeNamespaces).toEqual(['a', 'b']);
    expect(c.server.serveWeb).toBe(false);
  });

  it('names the key, the value and the expected type of an invalid value', () => {
    const attempt = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no error');
    };
    const e1 = attempt(() => loadConfig({ env: { VIGIL_SERVER_PORT: 'eighty' } }));
    expect(e1).toBeInstanceOf(ConfigError);
    expect(e1.key).toBe('server.port');
    expect(e1.message).toContain('"eighty"');
    expect(e1.message).toContain('integer');
    const e2 = attempt(() => loadConfig({ env: {}, flags: { 'log.level': 'loud' } }));
    expect(e2.key).toBe('log.level');
    expect(e2.message).toMatch(/"info"/);
    const e3 = attempt(() => loadConfig({ file: tmpFile('server:\n  prot: 1\n') }));
    expect(e3.message).toContain('server.prot');
    const e4 = attempt(() => loadConfig({ env: {}, flags: { 'agent.interval': '15 seconds' } }));
    expect(e4.key).toBe('agent.interval');
    expect(e4.message).toContain('duration');
    const e5 = attempt(() => loadConfig({ env: {}, flags: { 'no.such': '1' } }));
    expect(e5.key).toBe('no.such');
    const e6 = attempt(() => loadConfig({ file: tmpFile('server: [1, 2\n') }));
    expect(e6.message).toContain('YAML');
  });

  it('masks secrets when printed', () => {
    const c = loadConfig({ env: { VIGIL_DATABASE_URL: 'postgres://vigil:hunter2@db/vigil', VIGIL_ADMIN_TOKEN: 'super-secret-admin-token' } });
    const text = JSON.stringify(maskSecrets(c));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('super-secret-admin-token');
    expect(text).toContain('db/vigil');
  });

  it('parses durations', () => {
    expect(parseDuration('15s')).toBe(15_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(() => parseDuration('2 h')).toThrow();
  });

  it('docs/configuration.md is generated from the schema and up to date', () => {
    const committed = readFileSync(path.join(repoRoot, 'docs/configuration.md'), 'utf8');
    expect(committed).toBe(renderConfigDocs());
    for (const { key } of schemaLeaves()) expect(committed).toContain(`\`${key}\``);
  });
});
