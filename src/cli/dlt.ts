import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { DltDecoder, TextSink, renderAsciiLine, renderHeaderLine, type DltIssue, type DltRecord } from '../batches/dlt/index.js';
import { UsageError, examples } from './common.js';

export type DltConvertMode = 'ascii' | 'headers' | 'json';

export type DltFilter = { apid: string; ctid: string };

/** `APID:CTID`, either side empty or `*` for any (as `----` in a dlt-convert filter file). */
export function parseDltFilter(spec: string): DltFilter {
  const m = /^([^:]{0,4}):([^:]{0,4})$/.exec(spec);
  if (!m) throw new UsageError(`--filter expects APID:CTID (ids of up to 4 characters, empty or * for any), got "${spec}"`);
  const any = (s: string) => (s === '*' || s === '----' ? '' : s);
  return { apid: any(m[1]), ctid: any(m[2]) };
}

/**
 * dlt-convert's filter rule: a record without extended header always passes; otherwise one
 * filter must match its APID and CTID.
 */
export function matchesDltFilters(r: DltRecord, filters: DltFilter[]): boolean {
  if (filters.length === 0 || !r.extended) return true;
  return filters.some((f) => (f.apid === '' || f.apid === r.apid) && (f.ctid === '' || f.ctid === r.ctid));
}

export type DltConvertOptions = { mode: DltConvertMode; filters: DltFilter[]; onIssue?: (issue: DltIssue) => void };

/**
 * Stream a DLT file through the decoder into `out`. Lines are numbered like dlt-convert does
 * (consecutively over the records that pass the filters); JSON lines carry the record index.
 */
export async function convertDltFile(file: string, out: Writable, opts: DltConvertOptions): Promise<{ records: number; printed: number; issues: number }> {
  const dec = new DltDecoder({ onIssue: opts.onIssue });
  const sink = new TextSink(1 << 20);
  let printed = 0;
  let json = '';
  const emit = async (recs: DltRecord[]) => {
    for (const r of recs) {
      if (!matchesDltFilters(r, opts.filters)) continue;
      if (opts.mode === 'ascii') renderAsciiLine(sink, r, printed);
      else if (opts.mode === 'headers') renderHeaderLine(sink, r, printed);
      else json += JSON.stringify(r) + '\n';
      printed++;
      if (sink.full || json.length > 1 << 20) await flush();
    }
  };
  const flush = async () => {
    const chunk = opts.mode === 'json' ? Buffer.from(json) : sink.take();
    json = '';
    if (chunk.length > 0 && !out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) await emit(dec.push(chunk as Buffer));
  await emit(dec.end());
  await flush();
  return { records: dec.records, printed, issues: dec.issues };
}

function describeIssue(i: DltIssue): string {
  switch (i.kind) {
    case 'garbage':
      return `skipped ${i.length} bytes that are not DLT records at offset ${i.offset}`;
    case 'bad-length':
      return `corrupt record header at offset ${i.offset}: ${i.reason}`;
    case 'truncated':
      return `file ends inside a record at offset ${i.offset} (${i.available} of ${i.expected} bytes)`;
  }
}

export function registerDltCommands(program: Command): void {
  const dlt = program.command('dlt').description('DLT (AUTOSAR Diagnostic Log and Trace) files');
  examples(dlt, ['vigil dlt convert trace.dlt']);
  const convert = dlt
    .command('convert')
    .description('print a DLT v1 file as text (like dlt-convert; storage times in UTC), headers only, or JSON lines')
    .argument('<file>', 'DLT file (storage headers DLT\\x01)')
    .option('-a, --ascii', 'header and payload as text, equal to dlt-convert -a (default)')
    .option('-s, --headers', 'headers only, like dlt-convert -s')
    .option('--json', 'one JSON object per record (typed arguments, 64-bit integers as strings)')
    .option('--filter <APID:CTID>', 'keep records of this app/context (empty or * for any; repeatable; records without extended header always pass, as in dlt-convert)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('-q, --quiet', 'do not report skipped garbage, corrupt headers or a truncated end on stderr')
    .action(async (file: string, o: { ascii?: boolean; headers?: boolean; json?: boolean; filter: string[]; quiet?: boolean }) => {
      const modes = [o.ascii, o.headers, o.json].filter(Boolean).length;
      if (modes > 1) throw new UsageError('choose one of -a, -s and --json');
      const mode: DltConvertMode = o.json ? 'json' : o.headers ? 'headers' : 'ascii';
      const filters = o.filter.map(parseDltFilter);
      const onIssue = o.quiet ? undefined : (i: DltIssue) => process.stderr.write(`vigil: dlt: ${file}: ${describeIssue(i)}\n`);
      // `vigil dlt convert big.dlt | head` closes the pipe early: that ends the output, not an error
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
      await convertDltFile(file, process.stdout, { mode, filters, onIssue });
    });
  examples(convert, ['vigil dlt convert trace.dlt', 'vigil dlt convert -s trace.dlt', 'vigil dlt convert --json --filter APP1:CTX1 trace.dlt | jq .text']);
}
