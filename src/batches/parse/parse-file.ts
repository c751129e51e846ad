/**
 * One uploaded file → its partial aggregate (or its archive members, or a clear failure).
 * Streams from the blob store; memory stays bounded whatever the file's size.
 */
import { StringDecoder } from 'node:string_decoder';
import { Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FileAggregator, type FileAggregate } from '../aggregate.js';
import type { Rule } from '../diagnose/rules.js';
import { decodeDltStream, type DltRecord } from '../dlt/index.js';
import { ArchiveError, readTar, readZip, type MemberSink } from './archive.js';
import { sniffFormat, SNIFF_BYTES, type FileFormat } from './sniff.js';
import { parseTextLine, type LogLine } from './text-log.js';

export interface ParseLimits {
  /** Bytes a .gz may expand to. */
  maxDecompressedBytes: number;
  maxMembers: number;
  /** Longer text lines are cut (a binary blob with no newline must not fill memory). */
  maxLineLength: number;
}

export type ParseOutcome =
  | { kind: 'parsed'; format: string; aggregate: FileAggregate; issues: number }
  | { kind: 'archive'; format: string; members: number }
  | { kind: 'failed'; format: string | null; reason: string };

export interface ParseInput {
  name: string;
  open: () => Promise<Readable>;
  rules: Rule[];
  /** Year for syslog lines, which carry none. */
  year: number;
  limits: ParseLimits;
  /** Stores one archive member; called in archive order. */
  member: MemberSink;
}

/** Failures that retrying cannot fix; anything else (blob store down…) propagates for a retry. */
class UnparseableError extends Error {}

export async function parseFile(input: ParseInput): Promise<ParseOutcome> {
  let format: string | null = null;
  try {
    const { head, stream } = await peek(await input.open(), SNIFF_BYTES);
    let kind: FileFormat = sniffFormat(head);
    let body: Readable = stream;
    format = kind;
    if (kind === 'gzip') {
      const gunzip = createGunzip();
      const capped = cap(input.limits.maxDecompressedBytes);
      body.on('error', (e) => capped.destroy(e));
      gunzip.on('error', (e) => capped.destroy(new UnparseableError(`not valid gzip: ${e.message}`)));
      body.pipe(gunzip).pipe(capped);
      const inner = await peek(capped, SNIFF_BYTES);
      kind = sniffFormat(inner.head);
      body = inner.stream;
      format = kind === 'unknown' ? 'gzip' : `${kind}+gzip`;
    }
    const limits = { maxMembers: input.limits.maxMembers, maxExpandedBytes: input.limits.maxDecompressedBytes };
    switch (kind) {
      case 'tar':
        return { kind: 'archive', format: format ?? 'tar', members: await readTar(body, limits, input.member) };
      case 'zip':
        return { kind: 'archive', format: format ?? 'zip', members: await readZip(body, limits, input.member) };
      case 'dlt':
        return await parseDlt(input, body, format ?? 'dlt');
      case 'text':
        return await parseText(input, body, format ?? 'text');
      default:
        body.destroy();
        return { kind: 'failed', format, reason: 'unrecognised format' };
    }
  } catch (err) {
    if (err instanceof UnparseableError || err instanceof ArchiveError) return { kind: 'failed', format, reason: err.message };
    throw err;
  }
}

async function parseDlt(input: ParseInput, body: Readable, format: string): Promise<ParseOutcome> {
  const agg = new FileAggregator(input.name, input.rules);
  let issues = 0;
  for await (const r of decodeDltStream(body, { onIssue: () => issues++ })) agg.add(dltLine(r));
  return { kind: 'parsed', format, aggregate: agg.finish(), issues };
}

/** A DLT record as a log line: storage time, ECU, APID/CTID, level, rendered payload. */
export function dltLine(r: DltRecord): LogLine {
  return { index: r.index, time: r.timeMs, level: r.level, ecu: r.ecu || undefined, app: r.apid || undefined, ctx: r.ctid || undefined, message: r.text };
}

async function parseText(input: ParseInput, body: Readable, format: string): Promise<ParseOutcome> {
  const agg = new FileAggregator(input.name, input.rules);
  let index = 0;
  for await (const line of lines(body, input.limits.maxLineLength)) {
    if (line.length > 0) agg.add(parseTextLine(line, index, { year: input.year }));
    index++;
  }
  return { kind: 'parsed', format, aggregate: agg.finish(), issues: 0 };
}

/**
 * Lines of a UTF-8 stream (CR LF or LF). A run longer than maxLength without a newline is cut
 * into several lines, so a binary blob with no newline never fills memory. Stream errors reject.
 */
export async function* lines(body: AsyncIterable<Buffer | string>, maxLength: number): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of body) {
    carry += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = carry.indexOf('\n', start);
      if (nl < 0) break;
      let line = carry.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      for (let i = 0; i < line.length; i += maxLength) yield line.slice(i, i + maxLength);
      if (line.length === 0) yield '';
      start = nl + 1;
    }
    carry = carry.slice(start);
    while (carry.length > maxLength) {
      yield carry.slice(0, maxLength);
      carry = carry.slice(maxLength);
    }
  }
  carry += decoder.end();
  if (carry.length > 0) yield carry.endsWith('\r') ? carry.slice(0, -1) : carry;
}

/** Read at least n bytes (or to the end) and give back a stream that starts with them again. */
export async function peek(source: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let have = 0;
  const it = source[Symbol.asyncIterator]();
  let done = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    chunks.push(b);
    have += b.length;
  }
  const head = Buffer.concat(chunks);
  async function* replay() {
    yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value as Buffer;
    }
  }
  return { head: head.subarray(0, n), stream: Readable.from(replay(), { objectMode: false }) };
}

function cap(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > maxBytes) cb(new UnparseableError(`file expands to more than ${maxBytes} bytes`));
      else cb(null, chunk);
    },
  });
}
