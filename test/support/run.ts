/**
 * Running a command from a test without blocking the worker's event loop.
 *
 * vitest's workers answer the main process over an RPC channel with a 60 s timeout. spawnSync,
 * execSync and execFileSync hold the loop for as long as the child runs (a `vigil` CLI under tsx
 * takes seconds, far more on a loaded CI machine), so no reply is read and the run fails with
 * `Timeout calling "onTaskUpdate"`. Tests therefore run commands through this helper only.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  /** Replaces the environment, as with spawnSync; the worker's own when absent. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin. stdin is closed either way, so a child reading it never waits on us. */
  input?: string | Buffer;
  /** Past this the child gets SIGTERM and the result reads as spawnSync's would: status null, error ETIMEDOUT. */
  timeoutMs?: number;
  /** Per stream, as spawnSync's maxBuffer (and with its default); past it the child is killed, error ENOBUFS. */
  maxBuffer?: number;
  encoding?: 'utf8' | 'buffer';
}

export interface RunResult<Out extends string | Buffer = string> {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Out;
  stderr: string;
  /** Set when the child could not be started (ENOENT), timed out or overflowed maxBuffer; never thrown. */
  error?: Error;
}

const SPAWN_SYNC_MAX_BUFFER = 1024 * 1024;

export function runCommand(file: string, args: readonly string[], opts: RunOptions & { encoding: 'buffer' }): Promise<RunResult<Buffer>>;
export function runCommand(file: string, args: readonly string[], opts?: RunOptions & { encoding?: 'utf8' }): Promise<RunResult<string>>;
export function runCommand(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult<string | Buffer>> {
  const maxBuffer = opts.maxBuffer ?? SPAWN_SYNC_MAX_BUFFER;
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: 'pipe' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const size = { out: 0, err: 0 };
    let error: Error | undefined;
    let settled = false;

    const kill = (code: string, message: string) => {
      if (error) return;
      error = Object.assign(new Error(`${file} ${message}`), { code });
      child.kill('SIGTERM');
    };
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => kill('ETIMEDOUT', `ETIMEDOUT after ${opts.timeoutMs} ms`), opts.timeoutMs);
    const settle = (status: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      resolve({ status, signal, stdout: opts.encoding === 'buffer' ? stdout : stdout.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ...(error ? { error } : {}) });
    };

    child.stdout.on('data', (c: Buffer) => {
      size.out += c.length;
      if (size.out > maxBuffer) kill('ENOBUFS', 'stdout ENOBUFS');
      else out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      size.err += c.length;
      if (size.err > maxBuffer) kill('ENOBUFS', 'stderr ENOBUFS');
      else err.push(c);
    });
    // A child that exits without reading its input makes the write fail with EPIPE; its exit status is what counts.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input);

    child.on('error', (e) => {
      error ??= e;
      // Not started at all (ENOENT, EACCES): spawnSync reports status null, where 'close' would give the errno.
      if (child.pid === undefined) settle(null, null);
    });
    child.on('close', settle);
  });
}
