import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BlobTooLarge } from './types.js';

export interface Metered {
  chunks: AsyncGenerator<Buffer>;
  /** Bytes and digest so far; final once `chunks` is exhausted. */
  result(): { size: number; sha256: string };
}

/**
 * The body as Buffers, counted and hashed on the way. Passing maxBytes throws BlobTooLarge as soon
 * as the count goes over it, and ending the iteration early destroys the source.
 */
export function meter(key: string, body: NodeJS.ReadableStream | Readable, maxBytes: number | undefined): Metered {
  const hash: Hash = createHash('sha256');
  let size = 0;
  let digest: string | undefined;
  async function* chunks(): AsyncGenerator<Buffer> {
    for await (const raw of body as AsyncIterable<Buffer | string>) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      size += chunk.length;
      if (maxBytes !== undefined && size > maxBytes) throw new BlobTooLarge(key, maxBytes);
      hash.update(chunk);
      yield chunk;
    }
    digest = hash.digest('hex');
  }
  return {
    chunks: chunks(),
    result() {
      if (digest === undefined) throw new Error('body not fully read');
      return { size, sha256: digest };
    },
  };
}
