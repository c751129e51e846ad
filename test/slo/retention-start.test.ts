/**
 * A server whose SLO retentions would make the numbers wrong refuses to start, naming the key.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { sloModule } from '../../src/slo/module.js';
import { startTestServer } from '../support/server.js';

describe('SLO retention checked at start', () => {
  it('refuses slo.rawRetention under 6h', async () => {
    const config = loadConfig({ env: {} });
    await expect(
      startTestServer({ modules: [sloModule(config)], flags: { 'server.jobs': false, 'slo.rawRetention': '2h' }, listen: false }),
    ).rejects.toThrow(/slo\.rawRetention \(2h\) must be at least 6h/);
  });

  it('refuses slo.hourlyRetention under 30d', async () => {
    const config = loadConfig({ env: {} });
    await expect(
      startTestServer({ modules: [sloModule(config)], flags: { 'server.jobs': false, 'slo.hourlyRetention': '7d' }, listen: false }),
    ).rejects.toThrow(/slo\.hourlyRetention \(7d\) must be at least 30d/);
  });

  it('starts with the defaults', async () => {
    const config = loadConfig({ env: {} });
    const t = await startTestServer({ modules: [sloModule(config)], flags: { 'server.jobs': false }, listen: false });
    try {
      expect(t.server.ctx.config.slo.rawRetention).toBe('48h');
    } finally {
      await t.stop();
    }
  });
});
