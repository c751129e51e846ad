import { describe, expect, it } from 'vitest';
import { extractFacts } from './facts.js';
import { dtcCodeFromBytes, decodeDtcStatus } from './dtc.js';

describe('extractFacts', () => {
  it('reads UDS negative responses from hex dumps, naming service and NRC', () => {
    expect(extractFacts('UDS rx 7F 34 72')).toEqual([
      { kind: 'uds_nrc', sid: 0x34, service: 'RequestDownload', nrc: 0x72, nrcName: 'generalProgrammingFailure' },
    ]);
    expect(extractFacts('resp: 7f:36:73')).toEqual([
      { kind: 'uds_nrc', sid: 0x36, service: 'TransferData', nrc: 0x73, nrcName: 'wrongBlockSequenceCounter' },
    ]);
  });

  it('ignores 7F followed by bytes that are not a known service', () => {
    expect(extractFacts('payload 7F 99 12 00')).toEqual([]);
  });

  it('reads NRCs written in words, with or without the service', () => {
    expect(extractFacts('SecurityAccess rejected: NRC 0x35')).toEqual([
      { kind: 'uds_nrc', sid: 0x27, service: 'SecurityAccess', nrc: 0x35, nrcName: 'invalidKey' },
    ]);
    expect(extractFacts('SID=0x31 NRC=0x22')).toEqual([
      { kind: 'uds_nrc', sid: 0x31, service: 'RoutineControl', nrc: 0x22, nrcName: 'conditionsNotCorrect' },
    ]);
  });

  it('decodes a DTC with its status byte', () => {
    expect(extractFacts('DTC P0301 status 0x2F stored')).toEqual([
      {
        kind: 'dtc',
        code: 'P0301',
        status: 0x2f,
        statusBits: ['testFailed', 'testFailedThisOperationCycle', 'pendingDTC', 'confirmedDTC', 'testFailedSinceLastClear'],
        confirmed: true,
      },
    ]);
    expect(extractFacts('pending DTC U0100 status=04')).toEqual([
      { kind: 'dtc', code: 'U0100', status: 4, statusBits: ['pendingDTC'], confirmed: false },
    ]);
  });

  it('recognises ECU resets, OTA states and flash blocks', () => {
    expect(extractFacts('ECU reset type: hard')).toEqual([{ kind: 'ecu_reset', resetType: 'hard' }]);
    expect(extractFacts('OTA campaign C-12 state -> INSTALL_FAILED')).toEqual([{ kind: 'ota_state', state: 'INSTALL_FAILED' }]);
    expect(extractFacts('TransferData block 0x11 ok')).toEqual([{ kind: 'flash_block', block: 17 }]);
  });

  it('finds nothing in an ordinary line', () => {
    expect(extractFacts('navigation route recalculated in 120 ms')).toEqual([]);
  });
});

describe('DTC helpers', () => {
  it('turns UDS DTC bytes into the J2012 code', () => {
    expect(dtcCodeFromBytes(0x03, 0x01)).toBe('P0301');
    expect(dtcCodeFromBytes(0xc1, 0x00)).toBe('U0100');
    expect(dtcCodeFromBytes(0x5a, 0xbc)).toBe('C1ABC');
  });
  it('names every bit of the status byte', () => {
    expect(decodeDtcStatus(0x80)).toEqual(['warningIndicatorRequested']);
    expect(decodeDtcStatus(0)).toEqual([]);
  });
});
