import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, asUnavailable, isConnectionError } from './unavailable.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('connection-class errors', () => {
  it('recognises lost, refused and terminated connections of pg, ioredis and sockets', () => {
    for (const e of [
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('connection failure', '08006'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      new Error('Connection is closed.'),
      Object.assign(new Error('Reached the max retries per request limit (which is 1).'), { name: 'MaxRetriesPerRequestError' }),
      new Error('Command timed out'),
      withCode('database is locked', 'SQLITE_BUSY'),
    ]) {
      expect(isConnectionError(e), e.message).toBe(true);
    }
  });

  it('leaves request errors alone: they are not retryable', () => {
    for (const e of [
      withCode('duplicate key value violates unique constraint', '23505'),
      withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021'),
      withCode('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_PRIMARYKEY'),
      new Error('WRONGTYPE operation against a key holding the wrong kind of value'),
      new TypeError('x is undefined'),
    ]) {
      expect(isConnectionError(e), e.message).toBe(false);
    }
    expect(isConnectionError(null)).toBe(false);
    expect(isConnectionError('Connection terminated')).toBe(false);
  });

  it('wraps only connection-class errors, keeping the cause', () => {
    const lost = new Error('Connection terminated unexpectedly');
    const wrapped = asUnavailable('PostgreSQL', lost);
    expect(wrapped).toBeInstanceOf(BackendUnavailableError);
    expect((wrapped as BackendUnavailableError).backend).toBe('PostgreSQL');
    expect((wrapped as Error).cause).toBe(lost);
    const bad = withCode('duplicate key', '23505');
    expect(asUnavailable('PostgreSQL', bad)).toBe(bad);
  });
});
