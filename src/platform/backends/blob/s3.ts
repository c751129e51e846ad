import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { asUnavailable, BackendUnavailableError } from '../unavailable.js';
import { checkRange, listLimit, MAX_KEY_BYTES, validateContentType, validateKey, validateMaxBytes, validatePrefix } from './keys.js';
import { meter } from './meter.js';
import {
  BlobNotFound,
  BlobRangeNotSatisfiable,
  BlobStoreUnavailable,
  InvalidBlobArgument,
  InvalidBlobKey,
  type BlobInfo,
  type BlobStore,
  type PutOptions,
  type RangeOptions,
} from './types.js';

/** Bodies up to one part go in a single PutObject; larger ones as a multipart upload of such parts. */
const PART_BYTES = 8 * 1024 * 1024;
/** Parts in flight per upload: memory per upload is about (QUEUE + 1) × PART_BYTES. */
const QUEUE = 4;
/** CopyObject's limit, which is how metadata is set after a multipart upload. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;
const DELETE_BATCH = 1000;

export interface S3Location {
  bucket: string;
  /** '' or ending with '/'. */
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** The URL without its credentials, for messages. */
  display: string;
}

const PARAMS = new Set(['endpoint', 'region', 'forcePathStyle']);

/** `s3://[KEY:SECRET@]bucket[/prefix][?endpoint=…&region=…&forcePathStyle=true]`; credentials percent-encoded. */
export function parseS3Url(url: string, env: NodeJS.ProcessEnv = process.env): S3Location {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidBlobArgument('blob.url', 'blob.url is not a valid URL');
  }
  if (u.protocol !== 's3:') throw new InvalidBlobArgument('blob.url', `blob.url must start with s3://, got ${u.protocol}`);
  const display = redact(u);
  const bucket = u.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new InvalidBlobArgument('blob.url', `${display}: "${bucket}" is not a valid bucket name`);
  for (const name of u.searchParams.keys()) {
    if (!PARAMS.has(name)) throw new InvalidBlobArgument('blob.url', `${display}: unknown parameter "${name}" (known: ${[...PARAMS].join(', ')})`);
  }
  let prefix = decodeURIComponent(u.pathname.replace(/^\/+/, ''));
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  validatePrefix(prefix);
  const fps = u.searchParams.get('forcePathStyle');
  if (fps !== null && fps !== 'true' && fps !== 'false') throw new InvalidBlobArgument('blob.url', `${display}: forcePathStyle must be true or false`);
  const endpoint = u.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\//.test(endpoint)) throw new InvalidBlobArgument('blob.url', `${display}: endpoint must be an http(s) URL`);
  return {
    bucket,
    prefix,
    region: u.searchParams.get('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    endpoint,
    forcePathStyle: fps === 'true',
    credentials: u.username ? { accessKeyId: decodeURIComponent(u.username), secretAccessKey: decodeURIComponent(u.password) } : undefined,
    display,
  };
}

function redact(u: URL): string {
  const c = new URL(u.href);
  c.username = '';
  c.password = '';
  return c.href;
}

const status = (err: unknown) => (err instanceof S3ServiceException ? err.$metadata?.httpStatusCode : undefined);
const isNotFound = (err: unknown) =>
  err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404);

/** S3-compatible object store (AWS S3, MinIO, Ceph RGW, Cloudflare R2) under one bucket and key prefix. */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;

  private constructor(
    private readonly client: S3Client,
    readonly location: S3Location,
  ) {}

  /** Connects and checks the bucket is reachable; otherwise BlobStoreUnavailable naming the URL without credentials. */
  static async open(url: string, env: NodeJS.ProcessEnv = process.env): Promise<S3BlobStore> {
    const loc = parseS3Url(url, env);
    const client = new S3Client({
      region: loc.region,
      endpoint: loc.endpoint,
      forcePathStyle: loc.forcePathStyle,
      credentials: loc.credentials,
      // The SDK's default trailing CRC checksums (aws-chunked bodies) are not understood by every S3 peer.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5000 },
    });
    // An unreachable or failing S3 is BackendUnavailableError (the HTTP layer answers 503, retry later), never a bad request.
    const backend = `S3 blob store ${loc.display}`;
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          if (err instanceof S3ServiceException && (status(err) ?? 0) >= 500) throw new BackendUnavailableError(backend, err);
          throw asUnavailable(backend, err);
        }
      },
      { step: 'initialize', name: 'vigilUnavailableErrors' },
    );
    // DeleteObjects must carry Content-MD5 for MinIO, Ceph RGW and other peers; the SDK now sends a CRC32 instead.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const req = args.request as { headers?: Record<string, string>; body?: unknown };
        const body = req?.body;
        if (context.commandName === 'DeleteObjectsCommand' && req.headers && (typeof body === 'string' || body instanceof Uint8Array)) {
          if (!Object.keys(req.headers).some((h) => h.toLowerCase() === 'content-md5')) {
            req.headers['content-md5'] = createHash('md5').update(body).digest('base64');
          }
        }
        return next(args);
      },
      { step: 'build', name: 'vigilDeleteObjectsContentMd5' },
    );
    const store = new S3BlobStore(client, loc);
    try {
      await store.ping();
    } catch (err) {
      client.destroy();
      const cause = err instanceof BackendUnavailableError ? err.cause : err;
      const why =
        status(cause) === 404
          ? `bucket ${loc.bucket} does not exist`
          : cause instanceof S3ServiceException
            ? `${cause.name} (HTTP ${status(cause) ?? '?'})`
            : (cause as Error).message;
      throw new BlobStoreUnavailable(`S3 blob store ${loc.display} is unreachable: ${why}`);
    }
    return store;
  }

  private fullKey(key: string): string {
    validateKey(key);
    const full = this.location.prefix + key;
    if (Buffer.byteLength(full) > MAX_KEY_BYTES) throw new InvalidBlobKey(key, `with the store prefix longer than ${MAX_KEY_BYTES} bytes`);
    return full;
  }

  async put(key: string, body: NodeJS.ReadableStream | Readable, opts: PutOptions = {}): Promise<{ size: number; sha256: string }> {
    const Key = this.fullKey(key);
    validateContentType(opts.contentType);
    validateMaxBytes(opts.maxBytes);
    const { bucket: Bucket } = this.location;
    const metered = meter(key, body, opts.maxBytes);
    const ContentType = opts.contentType;

    // Read up to one part: a small body goes in one PutObject that carries its sha256 metadata.
    const first: Buffer[] = [];
    let firstBytes = 0;
    let ended = false;
    while (firstBytes < PART_BYTES) {
      const next = await metered.chunks.next();
      if (next.done) {
        ended = true;
        break;
      }
      first.push(next.value);
      firstBytes += next.value.length;
    }
    if (ended) {
      const result = metered.result();
      await this.client.send(
        new PutObjectCommand({ Bucket, Key, Body: Buffer.concat(first, firstBytes), ContentLength: firstBytes, ContentType, Metadata: { sha256: result.sha256 } }),
      );
      return result;
    }

    const rest = metered.chunks;
    async function* all(): AsyncGenerator<Buffer> {
      yield* first.splice(0);
      yield* rest;
    }
    let sourceError: unknown;
    const source = Readable.from(all()).on('error', (err) => (sourceError = err));
    // lib-storage aborts the multipart upload on error, so no partial object becomes visible.
    const upload = new Upload({ client: this.client, params: { Bucket, Key, Body: source, ContentType }, partSize: PART_BYTES, queueSize: QUEUE });
    let etag: string | undefined;
    try {
      etag = (await upload.done()).ETag;
    } catch (err) {
      source.destroy();
      // The body's own failure (too large, source broke) is the cause that matters, not the upload's.
      throw sourceError ?? err;
    }
    const result = metered.result();
    // The sha256 is known only at the end, after CreateMultipartUpload fixed the metadata: set it by
    // copying the object onto itself, only if no concurrent put replaced it meanwhile.
    if (result.size <= MAX_COPY_BYTES) {
      try {
        await this.client.send(
          new CopyObjectCommand({
            Bucket,
            Key,
            CopySource: `${Bucket}/${Key.split('/').map(encodeURIComponent).join('/')}`,
            CopySourceIfMatch: etag,
            MetadataDirective: 'REPLACE',
            Metadata: { sha256: result.sha256 },
            ContentType,
          }),
        );
      } catch (err) {
        if (status(err) !== 412) throw err;
      }
    }
    return result;
  }

  async get(key: string, opts?: RangeOptions): Promise<Readable> {
    const Key = this.fullKey(key);
    const range = checkRange(opts);
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.location.bucket, Key, Range: range ? `bytes=${range.start}-${range.end ?? ''}` : undefined }),
      );
      return res.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFound(key);
      if (status(err) === 416) {
        const info = await this.head(key);
        if (!info) throw new BlobNotFound(key);
        throw new BlobRangeNotSatisfiable(key, info.size);
      }
      throw err;
    }
  }

  async head(key: string): Promise<BlobInfo | null> {
    const Key = this.fullKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key }));
      return {
        key,
        size: res.ContentLength ?? 0,
        sha256: res.Metadata?.sha256,
        contentType: res.ContentType,
        lastModified: res.LastModified?.getTime() ?? 0,
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<boolean> {
    // S3 answers a delete the same whether or not the key existed; the head makes the answer useful (best effort under races).
    const existed = (await this.head(key)) !== null;
    if (existed) await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.fullKey(key) }));
    return existed;
  }

  async list(prefix: string, opts: { limit?: number; after?: string } = {}): Promise<BlobInfo[]> {
    validatePrefix(prefix);
    const limit = listLimit(opts.limit);
    const out: BlobInfo[] = [];
    const strip = this.location.prefix.length;
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.location.bucket,
          Prefix: this.location.prefix + prefix,
          StartAfter: token === undefined && opts.after !== undefined ? this.location.prefix + opts.after : undefined,
          ContinuationToken: token,
          MaxKeys: limit - out.length,
        }),
      );
      for (const o of res.Contents ?? []) {
        out.push({ key: o.Key!.slice(strip), size: o.Size ?? 0, lastModified: o.LastModified?.getTime() ?? 0 });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token && out.length < limit);
    return out.slice(0, limit);
  }

  async deletePrefix(prefix: string): Promise<number> {
    validatePrefix(prefix);
    let deleted = 0;
    // List one page, delete it, list again: deleting while paginating would skip keys with some peers.
    for (;;) {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: this.location.prefix + prefix, MaxKeys: DELETE_BATCH }),
      );
      const keys = (res.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length === 0) return deleted;
      // A peer may answer more than MaxKeys; DeleteObjects takes at most 1000.
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH);
        const del = await this.client.send(new DeleteObjectsCommand({ Bucket: this.location.bucket, Delete: { Objects: batch, Quiet: true } }));
        if (del.Errors?.length) {
          const e = del.Errors[0];
          throw new Error(`deleting ${e.Key} from ${this.location.display} failed: ${e.Code} ${e.Message}`);
        }
        deleted += batch.length;
      }
    }
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.location.bucket }), { abortSignal: AbortSignal.timeout(10_000) });
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
