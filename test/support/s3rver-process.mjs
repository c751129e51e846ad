// s3rver in its own process, started by test/support/s3rver.ts:
//   node --openssl-legacy-provider s3rver-process.mjs <directory> <bucket>
// The flag: s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only has in
// its legacy provider; without it every truncated listing answers InternalError.
// Shims make it answer as S3 does where our contract suite relies on documented S3 behaviour:
// - listings in UTF-8 byte order of keys (s3rver walks directories in readdir order);
// - `Range: bytes=0-0` meaning byte 0 (s3rver reads an end of 0 as "to the end");
// - a PUT replaces an object atomically, last writer wins (s3rver writes in place, so concurrent PUTs
//   interleave, and answers before the bytes are written): bodies go to a temp file that is renamed
//   into place with its metadata under a per-key lock, which reads and deletes also take.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
const [directory, bucket] = process.argv.slice(2);

const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
const store = server.store;

const listObjects = store.listObjects.bind(store);
store.listObjects = async (b, options = {}) => {
  const maxKeys = options.maxKeys ?? Infinity;
  const all = await listObjects(b, { ...options, maxKeys: Infinity });
  const objects = all.objects.sort((x, y) => Buffer.compare(Buffer.from(x.key), Buffer.from(y.key)));
  return { ...all, objects: objects.slice(0, maxKeys), isTruncated: objects.length > maxKeys };
};

const getObject = store.getObject.bind(store);
store.getObject = async (b, key, options) => {
  const object = await getObject(b, key, options);
  if (options && options.end === 0 && object && object.content) {
    object.content.destroy();
    object.content = createReadStream(store.getResourcePath(b, key, 'object'), { start: 0, end: 0 });
    object.range = { start: 0, end: 0 };
  }
  return object;
};

const locks = new Map();
/** Runs fn after every earlier call for the same id has settled. */
function serialized(id, fn) {
  const run = (locks.get(id) ?? Promise.resolve()).then(fn);
  const tail = run.then(() => undefined, () => undefined);
  locks.set(id, tail);
  void tail.then(() => locks.get(id) === tail && locks.delete(id));
  return run;
}
const lockId = (b, key) => `${b}/${key}`;

store.putObject = async (object) => {
  const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(path.dirname(objectPath), { recursive: true });
  const tmp = `${objectPath}.${randomBytes(6).toString('hex')}.upload`;
  const md5 = createHash('md5');
  let size = 0;
  const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  const count = new Transform({
    transform(chunk, _enc, cb) {
      md5.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(source, count, createWriteStream(tmp));
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const digest = md5.digest('hex');
  await serialized(lockId(object.bucket, object.key), async () => {
    await rename(tmp, objectPath);
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
  });
  return { size, md5: digest };
};
const patchedGet = store.getObject;
store.getObject = (b, key, options) => serialized(lockId(b, key), () => patchedGet(b, key, options));
const copyObject = store.copyObject.bind(store);
store.copyObject = (sb, sk, db, dk, meta) => serialized(lockId(db, dk), () => copyObject(sb, sk, db, dk, meta));
const deleteObject = store.deleteObject.bind(store);
store.deleteObject = (b, key) => serialized(lockId(b, key), () => deleteObject(b, key));

const { port } = await server.run();
process.send({ port });
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
// The parent died or let go of us: do not outlive it.
process.on('disconnect', stop);
