import { describe, expect, it } from 'vitest';
import { parseTextLine } from './text-log.js';

const opts = { year: 2026 };

describe('parseTextLine', () => {
  it('reads RFC 3164 syslog with and without a priority', () => {
    expect(parseTextLine('<11>Mar  4 12:00:01 tcu ota-agent[812]: download failed', 0, opts)).toEqual({
      index: 0,
      time: Date.UTC(2026, 2, 4, 12, 0, 1),
      level: 'error',
      ecu: 'tcu',
      app: 'ota-agent',
      message: 'download failed',
    });
    expect(parseTextLine('Mar 14 08:30:00 gw flashd: WARN block retry', 3, opts)).toEqual({
      index: 3,
      time: Date.UTC(2026, 2, 14, 8, 30, 0),
      level: 'warn',
      ecu: 'gw',
      app: 'flashd',
      message: 'block retry',
    });
  });

  it('reads RFC 5424 syslog', () => {
    expect(parseTextLine('<165>1 2026-03-04T12:00:01.250Z ivi navd 42 ID47 - route ready', 1, opts)).toEqual({
      index: 1,
      time: Date.UTC(2026, 2, 4, 12, 0, 1, 250),
      level: 'info',
      ecu: 'ivi',
      app: 'navd',
      message: 'route ready',
    });
  });

  it('reads logfmt and JSON lines, pino numeric levels included', () => {
    expect(parseTextLine('ts=2026-03-04T12:00:00Z level=error app=updater msg="NRC 0x72 on block 5"', 2, opts)).toEqual({
      index: 2,
      time: Date.UTC(2026, 2, 4, 12),
      level: 'error',
      ecu: undefined,
      app: 'updater',
      ctx: undefined,
      message: 'NRC 0x72 on block 5',
    });
    expect(parseTextLine('{"level":50,"time":1772625600000,"name":"ota","msg":"install failed"}', 4, opts)).toMatchObject({
      time: 1772625600000,
      level: 'error',
      app: 'ota',
      message: 'install failed',
    });
  });

  it('reads plain lines with ISO or epoch stamps and a level word', () => {
    expect(parseTextLine('2026-03-04 12:00:00,500 [ERROR] flash write failed', 5, opts)).toEqual({
      index: 5,
      time: Date.UTC(2026, 2, 4, 12, 0, 0, 500),
      level: 'error',
      message: 'flash write failed',
    });
    expect(parseTextLine('1772625600.25 W voltage low', 6, opts)).toEqual({ index: 6, time: 1772625600250, level: 'warn', message: 'voltage low' });
  });

  it('keeps an unreadable line as a message', () => {
    expect(parseTextLine('just words here', 7, opts)).toEqual({ index: 7, time: undefined, message: 'just words here' });
    expect(parseTextLine('{not json', 8, opts)).toEqual({ index: 8, time: undefined, message: '{not json' });
  });
});
