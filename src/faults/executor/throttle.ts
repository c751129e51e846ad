import { Transform, type TransformCallback } from 'node:stream';
import type { Clock, Timer } from './clock.js';

/** Slices of at most this share of a second's budget, so a slow client sees a steady trickle. */
const SLICES_PER_SECOND = 10;

/**
 * Passes bytes through at no more than `kibPerSecond` KiB/s (Envoy's `response_rate_limit`
 * unit): by time t after the first byte at most rate·t bytes have left.
 */
export class Throttle extends Transform {
  private readonly bytesPerMs: number;
  private readonly slice: number;
  private started = -1;
  private sent = 0;
  private timer: Timer | undefined;

  constructor(
    kibPerSecond: number,
    private readonly clock: Clock,
  ) {
    super();
    this.bytesPerMs = (kibPerSecond * 1024) / 1000;
    this.slice = Math.max(1, Math.floor((kibPerSecond * 1024) / SLICES_PER_SECOND));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.started < 0) this.started = this.clock.now();
    this.emitFrom(chunk, 0, done);
  }

  private emitFrom(chunk: Buffer, offset: number, done: TransformCallback): void {
    if (offset >= chunk.length) return done();
    const due = this.started + this.sent / this.bytesPerMs;
    const wait = due - this.clock.now();
    if (wait > 0) {
      this.timer = this.clock.after(wait, () => this.emitFrom(chunk, offset, done));
      return;
    }
    const end = Math.min(chunk.length, offset + this.slice);
    this.push(chunk.subarray(offset, end));
    this.sent += end - offset;
    this.emitFrom(chunk, end, done);
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.timer?.cancel();
    cb(err);
  }
}
