import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalBlobStore } from './local.js';
import { InvalidBlobArgument, type BlobStore } from './types.js';

export * from './types.js';
export { LocalBlobStore } from './local.js';

/** blob.url: empty → `<dataDir>/blobs`; `file:///path` → that directory; `s3://…` → S3 (`S3BlobStore` in ./s3.js). */
export async function openBlob(url: string, dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<BlobStore> {
  if (!url) return LocalBlobStore.open(path.join(dataDir, 'blobs'));
  if (url.startsWith('file:')) {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (err) {
      throw new InvalidBlobArgument('blob.url', `blob.url ${url} is not a usable file URL: ${(err as Error).message}`);
    }
    return LocalBlobStore.open(dir);
  }
  if (url.startsWith('s3:')) {
    // Loaded on demand: the AWS SDK adds most of a second to the start of every process that does not use it.
    const { S3BlobStore } = await import('./s3.js');
    return S3BlobStore.open(url, env);
  }
  throw new InvalidBlobArgument('blob.url', 'blob.url must be empty, file:///path or s3://bucket/prefix');
}
