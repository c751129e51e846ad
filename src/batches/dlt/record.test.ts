import { describe, expect, it } from 'vitest';
import { decodeDltBuffer, decodeDltStream } from './decoder.js';
import { encodeRecord } from './encode.js';
import { Readable } from 'node:stream';

describe('DltRecord', () => {
  it('carries the header fields, with the storage ECU when the message has none', () => {
    const [a, b] = decodeDltBuffer(
      Buffer.concat([
        encodeRecord({ seconds: 1_700_000_000, microseconds: 654_321, storageEcu: 'STOR', ecu: 'ECU7', sessionId: 77, timestamp: 123_456, counter: 9, extended: { apid: 'AP', ctid: 'CTX', subtype: 2 }, args: [{ type: 'string', value: 'x' }] }),
        encodeRecord({ storageEcu: 'STOR', ecu: null, timestamp: null, extended: null, payload: Buffer.from([7, 0, 0, 0]) }),
      ]),
    );
    expect(a).toMatchObject({ index: 0, offset: 0, seconds: 1_700_000_000, microseconds: 654_321, storageEcu: 'STOR', ecu: 'ECU7', sessionId: 77, timestamp: 123_456, counter: 9 });
    expect(a).toMatchObject({ extended: true, verbose: true, messageType: 0, messageSubtype: 2, noar: 1, apid: 'AP', ctid: 'CTX', version: 1, bigEndian: false, truncated: false });
    expect([a.typeName, a.subtypeName, a.level, a.timeMs]).toEqual(['log', 'error', 'error', 1_700_000_000_654]);
    expect(b).toMatchObject({ index: 1, offset: a.raw.length, ecu: 'STOR', sessionId: undefined, timestamp: undefined, extended: false, verbose: false, apid: '', ctid: '', messageId: 7 });
    expect([b.typeName, b.level, b.text]).toEqual([undefined, undefined, '7, ']);
  });

  it('decodes control messages: service, status and data', () => {
    const rs = decodeDltBuffer(
      Buffer.concat([
        encodeRecord({ extended: { verbose: false, type: 3, subtype: 2, noar: 1 }, payload: Buffer.from([0x13, 0, 0, 0, 0, 0xaa]) }),
        encodeRecord({ extended: { verbose: false, type: 3, subtype: 2, noar: 1 }, payload: Buffer.from([0x04, 0x0f, 0, 0, 8]) }),
        encodeRecord({ extended: { verbose: false, type: 3, subtype: 1, noar: 1 }, payload: Buffer.from([0x03, 0, 0, 0, 7]) }),
        encodeRecord({ bigEndian: true, extended: { verbose: false, type: 3, subtype: 2, noar: 1 }, payload: Buffer.from([0, 0, 0x0f, 0x02, 5]) }),
      ]),
    );
    expect(rs.map((r) => r.control)).toEqual([
      { serviceId: 0x13, service: 'get_software_version', status: 'ok', data: Buffer.from([0xaa]) },
      { serviceId: 0xf04, service: 'marker', status: 'no_matching_context_id', data: Buffer.alloc(0) },
      { serviceId: 3, service: 'get_log_info', data: Buffer.from([7]) },
      { serviceId: 0xf02, service: 'connection_info', status: '05', data: Buffer.alloc(0) },
    ]);
    // dlt-convert names only the classic services
    expect(rs.map((r) => r.text)).toEqual(['get_software_version, ok, aa', 'service(3844), no_matching_context_id', 'get_log_info, 07', 'service(3842), 05']);
  });

  it('serialises to JSON with exact 64-bit integers and hex bytes', () => {
    const [r] = decodeDltBuffer(encodeRecord({ args: [{ type: 'int', signed: true, bits: 64, value: -(2n ** 62n) - 1n }, { type: 'raw', value: Buffer.from([0xde, 0xad]) }] }));
    const j = JSON.parse(JSON.stringify(r)) as { args: unknown[]; text: string };
    expect(j.args).toEqual([
      { type: 'int', signed: true, bits: 64, value: '-4611686018427387905' },
      { type: 'raw', value: 'dead' },
    ]);
    expect(j.text).toBe("-4611686018427387905 de'ad");
  });

  it('detaches from the input chunk', () => {
    const input = Buffer.concat([encodeRecord({ counter: 5, args: [{ type: 'string', value: 'keep me' }] }), Buffer.alloc(8192)]);
    const [r] = decodeDltBuffer(input);
    const kept = r.detach();
    input.fill(0);
    expect(r.raw.buffer).toBe(input.buffer);
    expect(kept.raw.buffer).not.toBe(input.buffer);
    expect([kept.index, kept.offset, kept.counter, kept.text]).toEqual([0, 0, 5, 'keep me']);
  });

  it('decodes a stream of chunks with decodeDltStream', async () => {
    const data = Buffer.concat([0, 1, 2].map((i) => encodeRecord({ counter: i, args: [{ type: 'int', bits: 8, value: i }] })));
    const chunks = Array.from({ length: Math.ceil(data.length / 5) }, (_, i) => data.subarray(i * 5, i * 5 + 5));
    const got: string[] = [];
    for await (const r of decodeDltStream(Readable.from(chunks))) got.push(`${r.index}:${r.text}`);
    expect(got).toEqual(['0:0', '1:1', '2:2']);
  });
});
