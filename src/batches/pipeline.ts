/**
 * The work behind a batch, as bus consumers any worker may run:
 *
 *   batches.parse     one file → partial aggregate (or archive members, or a failure with its reason)
 *                     → counted once → the barrier opens when every frozen file has an outcome
 *   batches.finalize  scattered → gathering (merge partials) → gathered → diagnosing (rules, LLM)
 *                     → completed, resuming from whichever step a crashed worker reached
 *
 * and a reconciler (leader job) that re-sends work for batches whose state stopped moving, since
 * SQL — not the bus — is the source of truth.
 */
import { Type } from '@sinclair/typebox';
import type { ConsumerSpec } from '../platform/backends/bus/consumers.js';
import type { BusMessage } from '../platform/backends/bus/types.js';
import type { JobSpec } from '../platform/scheduler.js';
import { mergeAggregates, type FileAggregate } from './aggregate.js';
import { BatchCommands, memberBlobKey, type FinalizeJob, type ParseJob } from './commands.js';
import { finalizeQueue, parseQueue, type BatchDeps } from './deps.js';
import { buildPrompt, streamChat } from './diagnose/llm.js';
import { evaluateRules } from './diagnose/rules.js';
import { parseFile } from './parse/parse-file.js';
import { buildReport, type BatchReport, type ReportFile } from './report.js';
import { progressPercent } from './state.js';
import type { Counts, NewFile } from './store.js';
import type { FileRow } from './tables.js';

const ParseJobSchema = Type.Object({ batch_id: Type.String({ maxLength: 36 }), file_id: Type.String({ maxLength: 36 }), generation: Type.Integer({ minimum: 0 }) });
const FinalizeJobSchema = Type.Object({ batch_id: Type.String({ maxLength: 36 }), generation: Type.Integer({ minimum: 0 }) });

export class BatchPipeline {
  private readonly commands: BatchCommands;

  constructor(private readonly d: BatchDeps) {
    this.commands = new BatchCommands(d);
  }

  consumers(): ConsumerSpec[] {
    return [
      { queue: parseQueue(this.d.settings), group: 'batches-parse', schema: ParseJobSchema, handle: (m) => this.parse(m as BusMessage<ParseJob>) },
      { queue: finalizeQueue(this.d.settings), group: 'batches-finalize', concurrency: 1, schema: FinalizeJobSchema, handle: (m) => this.finalize(m as BusMessage<FinalizeJob>) },
    ];
  }

  jobs(): JobSpec[] {
    return [
      { name: 'batches-reconcile', intervalMs: 30_000, leader: true, run: () => this.reconcile() },
      { name: 'batches-retention', intervalMs: 3_600_000, leader: true, run: () => this.retention() },
    ];
  }

  async parse(m: BusMessage<ParseJob>): Promise<void> {
    const { batch_id, file_id, generation } = m.data;
    const batch = await this.d.store.get(batch_id).catch(() => undefined);
    if (!batch || batch.generation !== generation || (batch.status !== 'scattering' && batch.status !== 'uploaded')) return;
    const file = await this.d.store.startFile(file_id);
    if (!file) return this.commands.publishFinalizeIfDone(batch_id);
    // A large file takes a while on some worker: watchers (the batch page, tests) see that it started.
    await this.d.events.emit(batch_id, 'file', { file_id: file.id, name: file.name, status: 'parsing' });
    const started = this.d.now();
    let outcome;
    try {
      outcome = await parseFile({
        name: file.name,
        open: () => this.d.blob.get(file.blob_key),
        rules: this.d.rules,
        year: new Date(batch.created_at).getUTCFullYear(),
        limits: { maxDecompressedBytes: this.d.settings.maxDecompressedBytes, maxMembers: this.d.settings.maxArchiveMembers, maxLineLength: 64 * 1024 },
        member: this.memberSink(file, []),
      });
    } catch (err) {
      // A file a job cannot process is quarantined as failed with the reason, not retried for ever.
      if (m.attempt < this.d.settings.parseAttempts) throw err;
      outcome = { kind: 'failed' as const, format: null, reason: `gave up after ${m.attempt} attempts: ${(err as Error).message}` };
    }
    this.d.metrics.parseSeconds.observe({ format: outcome.format ?? 'unknown' }, (this.d.now() - started) / 1000);
    if (outcome.kind === 'archive') return this.finishArchive(file, outcome.format, generation);
    const res =
      outcome.kind === 'parsed'
        ? await this.d.store.finishFile(file.id, { parsed: parsedResult(outcome.format, outcome.aggregate) })
        : await this.d.store.finishFile(file.id, { failed: outcome.reason, format: outcome.format });
    if (res.counted) {
      this.d.metrics.files.inc({ outcome: outcome.kind });
      const status = outcome.kind === 'parsed' ? 'parsed' : 'failed';
      await this.d.events.emit(batch_id, 'file', { file_id: file.id, name: file.name, status, format: outcome.format, error: outcome.kind === 'failed' ? outcome.reason : undefined });
      await this.d.events.emit(batch_id, 'progress', progressEvent(res.counts));
    }
    await this.commands.publishFinalizeIfDone(batch_id);
  }

  /** Members are collected while the archive streams; each is stored once per distinct content. */
  private memberSink(archive: FileRow, collected: NewFile[]) {
    this.pendingMembers.set(archive.id, collected);
    return async (name: string, body: NodeJS.ReadableStream, index: number) => {
      const key = memberBlobKey(archive.batch_id, archive.id, index);
      const { size, sha256 } = await this.d.blob.put(key, body, { maxBytes: this.d.settings.maxFileBytes });
      if (collected.some((c) => c.sha256 === sha256)) {
        await this.d.blob.delete(key);
        return;
      }
      collected.push({ name: `${archive.name}/${name}`, size, sha256, blob_key: key, parent_id: archive.id });
    };
  }

  private readonly pendingMembers = new Map<string, NewFile[]>();

  private async finishArchive(archive: FileRow, format: string, generation: number): Promise<void> {
    const members = this.pendingMembers.get(archive.id) ?? [];
    this.pendingMembers.delete(archive.id);
    const total = await this.d.store.counts(archive.batch_id);
    if (total.total_files + members.length > this.d.settings.maxFilesPerBatch) {
      await Promise.all(members.map((m) => this.d.blob.delete(m.blob_key).catch(() => {})));
      const res = await this.d.store.finishFile(archive.id, { failed: `archive would take the batch past ${this.d.settings.maxFilesPerBatch} files`, format });
      if (res.counted) await this.d.events.emit(archive.batch_id, 'progress', progressEvent(res.counts));
      return this.commands.publishFinalizeIfDone(archive.batch_id);
    }
    const { members: rows, counts } = await this.d.store.expandArchive(archive, members, format);
    this.d.metrics.files.inc({ outcome: 'archive' });
    await this.d.events.emit(archive.batch_id, 'file', { file_id: archive.id, name: archive.name, status: 'parsed', format, members: rows.length });
    await this.d.events.emit(archive.batch_id, 'progress', progressEvent(counts));
    await this.commands.publishParse(archive.batch_id, generation, rows);
    await this.commands.publishFinalizeIfDone(archive.batch_id);
  }

  async finalize(m: BusMessage<FinalizeJob>): Promise<void> {
    const { batch_id, generation } = m.data;
    try {
      await this.finalizeSteps(batch_id, generation);
    } catch (err) {
      if (m.attempt < 5) throw err;
      const b = await this.d.store.get(batch_id).catch(() => undefined);
      if (b && b.status !== 'completed' && b.status !== 'failed') {
        const reason = `diagnosis gave up after ${m.attempt} attempts: ${(err as Error).message}`;
        if (await this.d.store.transition(batch_id, b.status, 'failed', { error: reason })) {
          this.d.metrics.batches.inc({ outcome: 'failed' });
          await this.d.events.emit(batch_id, 'status', { status: 'failed', error: reason });
        }
      }
    }
  }

  private async finalizeSteps(batchId: string, generation: number): Promise<void> {
    let b = await this.d.store.get(batchId).catch(() => undefined);
    if (!b || b.generation !== generation) return;
    const step = async (from: 'scattered' | 'gathering' | 'gathered', to: 'gathering' | 'gathered' | 'diagnosing') => {
      if (b!.status !== from) return;
      if (await this.d.store.transition(batchId, from, to)) await this.d.events.emit(batchId, 'status', { status: to });
      b = await this.d.store.get(batchId);
    };
    await step('scattered', 'gathering');
    // Gathering merges the stored partials (O(files)); the merge is redone by diagnosis, so nothing else is stored.
    if (b.status === 'gathering') await this.merge(batchId);
    await step('gathering', 'gathered');
    await step('gathered', 'diagnosing');
    if (b.status !== 'diagnosing') return;
    const report = await this.diagnose(batchId);
    await this.d.store.saveReport(batchId, generation, JSON.stringify(report));
    await this.d.cache.invalidate(batchId);
    if (await this.d.store.transition(batchId, 'diagnosing', 'completed')) {
      this.d.metrics.batches.inc({ outcome: 'completed' });
      await this.d.events.emit(batchId, 'report', { generation, findings: report.findings.length, headline: report.summary.headline });
      await this.d.events.emit(batchId, 'status', { status: 'completed' });
    }
  }

  private async merge(batchId: string) {
    const partials = await this.d.store.partials(batchId);
    return mergeAggregates(partials.map((p) => JSON.parse(p.partial) as FileAggregate));
  }

  async diagnose(batchId: string): Promise<BatchReport> {
    const b = await this.d.store.get(batchId);
    const files = await this.d.store.files(batchId);
    const aggregate = await this.merge(batchId);
    const findings = evaluateRules(this.d.rules, aggregate);
    let llm: BatchReport['llm'] = { status: 'disabled' };
    const s = this.d.settings.llm;
    if (s) {
      try {
        const prompt = buildPrompt({ vehicle_id: b.vehicle_id, vin: b.vin }, aggregate, findings);
        const out = await streamChat(s, prompt, (token) => void this.d.events.live(batchId, { token }));
        llm = { status: 'ok', model: s.model, text: out.text, usage: out.usage };
      } catch (err) {
        llm = { status: 'failed', reason: `${(err as Error).message}; the report is the rule engine's alone` };
      }
    }
    return buildReport({
      batch: { batch_id: b.id, vehicle_id: b.vehicle_id, vin: b.vin, status: 'completed', labels: JSON.parse(b.labels), created_at: b.created_at, completed_at: this.d.now() },
      files: files.map(reportFile),
      aggregate,
      findings,
      llm,
      now: this.d.now(),
    });
  }

  /** Re-send the work of batches whose state stopped moving (lost messages, crashed workers, crash between commit and publish). */
  async reconcile(): Promise<void> {
    const nudge = `-n${this.d.now()}`;
    for (const b of await this.d.store.stalled(this.d.settings.stallAfterMs)) {
      await this.d.store.touch(b.id);
      this.d.log.info({ batch: b.id, status: b.status }, 'nudging a stalled batch');
      if (b.status === 'uploaded' || b.status === 'scattering') {
        const open = (await this.d.store.files(b.id)).filter((f) => f.status === 'queued' || f.status === 'parsing');
        if (b.status === 'uploaded') await this.commands.scatter(b.id, b.generation, open);
        else await this.commands.publishParse(b.id, b.generation, open, nudge);
        await this.commands.publishFinalizeIfDone(b.id);
      } else {
        await this.commands.publishFinalize(b.id, b.generation, nudge);
      }
    }
  }

  async retention(): Promise<void> {
    if (this.d.settings.retentionMs <= 0) return;
    const old = await this.d.store.list({ until: this.d.now() - this.d.settings.retentionMs, limit: 100 });
    for (const b of old) {
      if (b.status !== 'completed' && b.status !== 'failed' && b.status !== 'pending') continue;
      await this.commands.delete(b.id).catch((err) => this.d.log.warn({ err, batch: b.id }, 'retention could not delete batch'));
    }
  }
}

function parsedResult(format: string, a: FileAggregate) {
  return { format, records: a.records, first_time: a.firstTime, last_time: a.lastTime, error_count: a.errorCount + a.fatalCount, partial: JSON.stringify(a) };
}

function progressEvent(c: Counts) {
  const progress_percent = progressPercent(c.status, { total: c.total_files, processed: c.processed_files, failed: c.failed_files });
  return { status: c.status, total_files: c.total_files, processed_files: c.processed_files, failed_files: c.failed_files, progress_percent };
}

export function reportFile(f: FileRow): ReportFile {
  return {
    file_id: f.id,
    name: f.name,
    size: f.size,
    format: f.format,
    status: f.status,
    error: f.error,
    records: f.records,
    first_time: f.first_time,
    last_time: f.last_time,
    errors: f.error_count,
  };
}
