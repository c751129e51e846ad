import { describe, expect, it } from 'vitest';
import { decodeArguments, SCOD_BIN, SCOD_HEX, SCOD_UTF8, TI_BOOL, TI_FIXP, TI_FLOA, TI_RAWD, TI_SINT, TI_STRG, TI_TRAI, TI_UINT, TI_VARI, TI_ARAY } from './arguments.js';

const le32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const be32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
const le16 = (v: number) => Buffer.from([v & 0xff, v >> 8]);
const decode = (parts: Buffer[], noar: number, be = false) => {
  const b = Buffer.concat(parts);
  return decodeArguments(b, 0, b.length, noar, be);
};

describe('decodeArguments', () => {
  it('decodes every scalar type little-endian', () => {
    const f32 = Buffer.alloc(4);
    f32.writeFloatLE(1.5);
    const f64 = Buffer.alloc(8);
    f64.writeDoubleLE(-0.25);
    const u64 = Buffer.alloc(8);
    u64.writeBigUInt64LE(18446744073709551615n);
    const s64 = Buffer.alloc(8);
    s64.writeBigInt64LE(-9007199254740993n);
    const args = decode(
      [
        le32(TI_BOOL | 1), Buffer.from([1]),
        le32(TI_SINT | 1), Buffer.from([0xff]),
        le32(TI_UINT | 2), le16(65535),
        le32(TI_SINT | 3), le32(-2),
        le32(TI_UINT | 4), u64,
        le32(TI_SINT | 4), s64,
        le32(TI_FLOA | 3), f32,
        le32(TI_FLOA | 4), f64,
        le32(TI_FLOA | 2), le16(0x3c00), // half-precision 1.0
        le32(TI_UINT | 5), Buffer.from([...Array(16).keys()]),
      ],
      10,
    );
    expect(args).toEqual([
      { type: 'bool', value: true, raw: 1 },
      { type: 'int', signed: true, bits: 8, value: -1 },
      { type: 'int', signed: false, bits: 16, value: 65535 },
      { type: 'int', signed: true, bits: 32, value: -2 },
      { type: 'int', signed: false, bits: 64, value: 18446744073709551615n },
      { type: 'int', signed: true, bits: 64, value: -9007199254740993n },
      { type: 'float', bits: 32, value: 1.5 },
      { type: 'float', bits: 64, value: -0.25 },
      { type: 'float', bits: 16, value: 1 },
      { type: 'int128', signed: false, hex: '000102030405060708090a0b0c0d0e0f' },
    ]);
  });

  it('decodes strings, raw, trace info and coded integers, big-endian', () => {
    const s = Buffer.from('grüße\0', 'utf8');
    const args = decode(
      [
        be32(TI_STRG | SCOD_UTF8), Buffer.from([0, s.length]), s,
        be32(TI_STRG), Buffer.from([0, 4]), Buffer.from('ab\0c'),
        be32(TI_RAWD), Buffer.from([0, 3]), Buffer.from([0xde, 0xad, 0xbe]),
        be32(TI_TRAI), Buffer.from([0, 5]), Buffer.from('func\0'),
        be32(TI_UINT | 2 | SCOD_HEX), Buffer.from([0x12, 0x34]),
        be32(TI_UINT | 1 | SCOD_BIN), Buffer.from([0xa5]),
      ],
      6,
      true,
    );
    expect(args).toEqual([
      { type: 'string', value: 'grüße', encoding: 'utf8' },
      { type: 'string', value: 'ab', encoding: 'ascii' },
      { type: 'raw', value: Buffer.from([0xde, 0xad, 0xbe]) },
      { type: 'trace', value: 'func' },
      { type: 'int', signed: false, bits: 16, value: 0x1234, coding: 'hex' },
      { type: 'int', signed: false, bits: 8, value: 0xa5, coding: 'bin' },
    ]);
  });

  it('reads VARI names and units and FIXP quantisation and offset', () => {
    const q = Buffer.alloc(4);
    q.writeFloatLE(0.5);
    const args = decode(
      [
        le32(TI_UINT | 2 | TI_VARI), le16(6), le16(5), Buffer.from('speed\0'), Buffer.from('km/h\0'), le16(88),
        le32(TI_SINT | 3 | TI_VARI | TI_FIXP), le16(2), le16(2), Buffer.from('t\0'), Buffer.from('C\0'), q, le32(-40), le32(130),
        le32(TI_STRG | TI_VARI), le16(3), le16(5), Buffer.from('name\0'), Buffer.from('ok\0'),
        le32(TI_BOOL | 1 | TI_VARI), le16(3), Buffer.from('on\0'), Buffer.from([0]),
        le32(TI_RAWD | TI_VARI), le16(1), le16(4), Buffer.from('buf\0'), Buffer.from([7]),
      ],
      5,
    );
    expect(args).toEqual([
      { type: 'int', signed: false, bits: 16, value: 88, name: 'speed', unit: 'km/h' },
      { type: 'int', signed: true, bits: 32, value: 130, name: 't', unit: 'C', quantisation: 0.5, offset: -40 },
      { type: 'string', value: 'ok', encoding: 'ascii', name: 'name' },
      { type: 'bool', value: false, raw: 0, name: 'on' },
      { type: 'raw', value: Buffer.from([7]), name: 'buf' },
    ]);
  });

  it('ends with an invalid entry where the payload is short or the type unsupported', () => {
    expect(decode([le32(TI_UINT | 3), Buffer.from([1, 2])], 1)).toEqual([
      { type: 'invalid', offset: 0, typeInfo: TI_UINT | 3, reason: 'payload ends inside the argument' },
    ]);
    expect(decode([le32(TI_UINT | 1), Buffer.from([7]), le32(TI_ARAY | TI_UINT | 1)], 2)).toEqual([
      { type: 'int', signed: false, bits: 8, value: 7 },
      { type: 'invalid', offset: 5, typeInfo: TI_ARAY | TI_UINT | 1, reason: 'arrays and structs are not supported' },
    ]);
    expect(decode([Buffer.from([1, 2])], 1)).toEqual([{ type: 'invalid', offset: 0, typeInfo: undefined, reason: 'payload ends inside the argument' }]);
  });
});
