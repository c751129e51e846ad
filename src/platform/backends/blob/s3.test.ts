import { describe, expect, it } from 'vitest';
import { parseS3Url } from './s3.js';
import { InvalidBlobArgument, InvalidBlobKey } from './types.js';

describe('parseS3Url', () => {
  it('reads bucket, prefix, endpoint, region, path style and percent-encoded credentials', () => {
    const loc = parseS3Url('s3://AKIAEXAMPLE:wJalr%2Fsecret%2Bkey@logs-bucket/vigil/prod?endpoint=http://minio:9000&region=eu-west-1&forcePathStyle=true', {});
    expect(loc).toEqual({
      bucket: 'logs-bucket',
      prefix: 'vigil/prod/',
      region: 'eu-west-1',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalr/secret+key' },
      display: 's3://logs-bucket/vigil/prod?endpoint=http://minio:9000&region=eu-west-1&forcePathStyle=true',
    });
  });

  it('falls back to AWS_REGION and the SDK credential chain, with no prefix', () => {
    const loc = parseS3Url('s3://bucket', { AWS_REGION: 'ap-east-1' });
    expect(loc).toMatchObject({ bucket: 'bucket', prefix: '', region: 'ap-east-1', forcePathStyle: false, credentials: undefined, endpoint: undefined });
    expect(parseS3Url('s3://bucket/', {}).region).toBe('us-east-1');
  });

  it('refuses what it cannot use, without echoing credentials', () => {
    const bad = [
      's3://K:SECRET@Bad_Bucket/p',
      's3://K:SECRET@bucket/p?endpoint=minio:9000',
      's3://K:SECRET@bucket/p?forcePathStyle=yes',
      's3://K:SECRET@bucket/p?regoin=x',
      'http://bucket/p',
    ];
    for (const url of bad) {
      let err: unknown;
      try {
        parseS3Url(url, {});
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(InvalidBlobArgument);
      expect((err as Error).message, url).not.toContain('SECRET');
    }
    expect(() => parseS3Url('s3://bucket/a%5Cb', {})).toThrow(InvalidBlobKey);
  });
});
