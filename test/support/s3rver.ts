import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LocalS3 {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  /** A blob.url for this server with its built-in credentials, under `prefix`. */
  url(prefix: string): string;
  close(): Promise<void>;
}

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3rver-process.mjs');

/**
 * s3rver (an S3-compatible test server from npm) in a child process on loopback, a free port and a
 * temp directory, with one bucket. See s3rver-process.mjs for why a separate process.
 */
export async function startLocalS3(bucket = 'vigil-test'): Promise<LocalS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'vigil-s3rver-'));
  const child = fork(script, [directory, bucket], { execArgv: ['--openssl-legacy-provider'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('s3rver did not start within 20 s')), 20_000);
      child.once('message', (m) => (clearTimeout(t), resolve((m as { port: number }).port)));
      child.once('exit', (code) => (clearTimeout(t), reject(new Error(`s3rver exited with ${code} before listening`))));
    });
  } catch (err) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    url: (prefix) => `s3://S3RVER:S3RVER@${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&forcePathStyle=true&region=us-east-1`,
    async close() {
      child.kill('SIGTERM');
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
