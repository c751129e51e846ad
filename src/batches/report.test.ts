import { describe, expect, it } from 'vitest';
import { FileAggregator, mergeAggregates } from './aggregate.js';
import { defaultRules } from './diagnose/default-rules.js';
import { evaluateRules } from './diagnose/rules.js';
import { buildReport, type ReportFile } from './report.js';

const file = (name: string, status = 'parsed', error: string | null = null): ReportFile => ({
  file_id: name, name, size: 10, format: 'text', status, error, records: 0, first_time: null, last_time: null, errors: 0,
});

describe('buildReport', () => {
  it('tabulates DTCs and NRCs, lists failed files and leads with the most severe finding', () => {
    const a = new FileAggregator('ecu.log', defaultRules());
    a.add({ index: 0, time: 5000, message: 'DTC P0301 status 0x2F' });
    a.add({ index: 1, time: 1000, message: 'DTC P0301 status 0x24' });
    a.add({ index: 2, time: 2000, message: 'pending DTC U0100 status 0x04' });
    a.add({ index: 3, time: 3000, level: 'error', message: 'UDS rx 7F 36 72' });
    a.add({ index: 4, time: 4000, level: 'error', message: 'UDS rx 7F 36 72' });
    const merged = mergeAggregates([a.finish()]);
    const findings = evaluateRules(defaultRules(), merged);
    const r = buildReport({
      batch: { batch_id: 'b1', vehicle_id: 'V1', vin: 'VIN1', status: 'completed', labels: {}, created_at: 0, completed_at: 9 },
      files: [file('ecu.log'), file('junk.bin', 'failed', 'unrecognised format')],
      aggregate: merged,
      findings,
      llm: { status: 'disabled' },
      now: 10,
    });
    expect(r.dtcs).toEqual([
      { code: 'P0301', system: 'powertrain', count: 2, confirmed: true, status_bits: ['testFailed', 'testFailedThisOperationCycle', 'pendingDTC', 'confirmedDTC', 'testFailedSinceLastClear'], first_seen: 1000, files: ['ecu.log'] },
      { code: 'U0100', system: 'network', count: 1, confirmed: false, status_bits: ['pendingDTC'], first_seen: 2000, files: ['ecu.log'] },
    ]);
    expect(r.nrcs).toEqual([{ sid: '0x36', service: 'TransferData', nrc: '0x72', name: 'generalProgrammingFailure', count: 2, first_seen: 3000, files: ['ecu.log'] }]);
    expect(r.summary).toMatchObject({ files: 2, failed_files: 1, records: 5, errors: 2, findings: 2 });
    expect(r.summary.headline).toBe('2 findings; most severe: Programming failure while flashing (NRC 0x72 generalProgrammingFailure) (critical, 2×); 1 file could not be parsed');
  });
});
