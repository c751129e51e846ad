import type { Readable } from 'node:stream';

/** What a stored object looks like. `list` fills key, size and lastModified only (S3 lists carry no metadata). */
export interface BlobInfo {
  key: string;
  size: number;
  sha256?: string;
  contentType?: string;
  /** UTC epoch milliseconds. */
  lastModified: number;
}

export interface PutOptions {
  /** A body longer than this fails with BlobTooLarge and leaves nothing behind. */
  maxBytes?: number;
  contentType?: string;
}

/** Inclusive byte offsets, like an HTTP Range header; `end` past the last byte is clamped. */
export interface RangeOptions {
  start?: number;
  end?: number;
}

/**
 * The blob port: files too large for the SQL store (uploaded log batches, reports). Both
 * implementations run the same contract suite (test/backends/blob.contract.test.ts).
 * Keys are '/'-separated paths (see keys.ts); a put is all or nothing and replaces the object whole.
 */
export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** Streams the body (never holds it whole) and hashes it on the way. */
  put(key: string, body: NodeJS.ReadableStream | Readable, opts?: PutOptions): Promise<{ size: number; sha256: string }>;
  /** Missing key → BlobNotFound; a start past the end → BlobRangeNotSatisfiable. */
  get(key: string, opts?: RangeOptions): Promise<Readable>;
  head(key: string): Promise<BlobInfo | null>;
  /** True when the key existed. */
  delete(key: string): Promise<boolean>;
  /** Keys in byte order that start with prefix, after `after` (exclusive), at most `limit` (1..1000, default 1000). */
  list(prefix: string, opts?: { limit?: number; after?: string }): Promise<BlobInfo[]>;
  /** Deletes every key starting with prefix; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type BlobErrorCode = 'invalid_key' | 'invalid_argument' | 'not_found' | 'too_large' | 'range_not_satisfiable' | 'unavailable';

/** Domain errors of the blob port; the HTTP layer maps `code` to a status. */
export class BlobError extends Error {
  constructor(
    readonly code: BlobErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidBlobKey extends BlobError {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super('invalid_key', `invalid blob key ${JSON.stringify(key.length > 80 ? key.slice(0, 80) + '…' : key)}: ${reason}`);
  }
}

export class InvalidBlobArgument extends BlobError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('invalid_argument', message);
  }
}

export class BlobNotFound extends BlobError {
  constructor(readonly key: string) {
    super('not_found', `no blob ${JSON.stringify(key)}`);
  }
}

export class BlobTooLarge extends BlobError {
  constructor(
    readonly key: string,
    readonly maxBytes: number,
  ) {
    super('too_large', `blob ${JSON.stringify(key)} is larger than ${maxBytes} bytes`);
  }
}

export class BlobRangeNotSatisfiable extends BlobError {
  constructor(
    readonly key: string,
    readonly size: number,
  ) {
    super('range_not_satisfiable', `range starts past the end of blob ${JSON.stringify(key)} (${size} bytes)`);
  }
}

export class BlobStoreUnavailable extends BlobError {
  constructor(message: string) {
    super('unavailable', message);
  }
}
