/**
 * The log viewer's server side: one file's records with dlt-viewer's columns, filtered by
 * ECU/app/context/level/text or an RE2 pattern, paged on the server. Files are re-read from the
 * blob store (streamed), so a page costs a scan up to its last record, never a whole file in memory.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { RE2JS } from 're2js';
import { decodeDltStream } from './dlt/index.js';
import { lines, peek } from './parse/parse-file.js';
import { sniffFormat, SNIFF_BYTES } from './parse/sniff.js';
import { parseTextLine } from './parse/text-log.js';
import type { LogRecordT, RecordsQueryT } from './schemas.js';

/** A filter the user typed is not a valid RE2 pattern. */
export class BadPattern extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'BadPattern';
  }
}

export interface RecordsPage {
  records: LogRecordT[];
  next_offset: number | null;
  scanned: number;
}

/** Longest scan for one page, so a filter that matches nothing in a huge file still answers. */
const MAX_SCAN = 2_000_000;

export async function readRecords(open: () => Promise<Readable>, q: RecordsQueryT, year: number): Promise<RecordsPage> {
  let re: RE2JS | undefined;
  if (q.regex) {
    try {
      re = RE2JS.compile(q.regex);
    } catch (err) {
      throw new BadPattern('regex', `regex is not a valid RE2 pattern: ${(err as Error).message}`);
    }
  }
  const text = q.text?.toLowerCase();
  const offset = q.offset ?? 0;
  const limit = q.limit ?? 100;
  const from = q.from_index ?? 0;
  const out: LogRecordT[] = [];
  let matched = 0;
  let scanned = 0;
  let more = false;
  const accept = (r: LogRecordT): boolean => {
    scanned++;
    if (r.index < from) return true;
    if (q.ecu && r.ecu !== q.ecu) return true;
    if (q.app && r.app !== q.app) return true;
    if (q.ctx && r.ctx !== q.ctx) return true;
    if (q.level && r.level !== q.level) return true;
    if (text && !r.payload.toLowerCase().includes(text)) return true;
    if (re && !re.test(r.payload)) return true;
    if (matched++ < offset) return true;
    if (out.length < limit) {
      out.push(r);
      return true;
    }
    more = true;
    return false;
  };
  for await (const r of records(await open(), year)) {
    if (!accept(r) || scanned >= MAX_SCAN) {
      if (scanned >= MAX_SCAN) more = true;
      break;
    }
  }
  return { records: out, next_offset: more ? offset + out.length : null, scanned };
}

async function* records(source: Readable, year: number): AsyncGenerator<LogRecordT> {
  let { head, stream } = await peek(source, SNIFF_BYTES);
  let kind = sniffFormat(head);
  if (kind === 'gzip') {
    const gunzip = createGunzip();
    stream.on('error', (e) => gunzip.destroy(e));
    ({ head, stream } = await peek(stream.pipe(gunzip), SNIFF_BYTES));
    kind = sniffFormat(head);
  }
  try {
    if (kind === 'dlt') {
      for await (const r of decodeDltStream(stream)) {
        yield {
          index: r.index,
          time: new Date(r.timeMs).toISOString(),
          timestamp: r.timestamp === undefined ? null : r.timestamp / 10_000,
          ecu: r.ecu || null,
          app: r.apid || null,
          ctx: r.ctid || null,
          type: r.typeName ?? null,
          level: r.level ?? r.subtypeName ?? null,
          payload: r.text,
        };
      }
    } else if (kind === 'text') {
      let index = 0;
      for await (const line of lines(stream, 64 * 1024)) {
        const l = parseTextLine(line, index++, { year });
        yield {
          index: l.index,
          time: l.time === undefined ? null : new Date(l.time).toISOString(),
          timestamp: null,
          ecu: l.ecu ?? null,
          app: l.app ?? null,
          ctx: l.ctx ?? null,
          type: 'log',
          level: l.level ?? null,
          payload: l.message,
        };
      }
    }
  } finally {
    stream.destroy();
  }
}
