/**
 * The one way tests wait for something that has no event to await: poll a condition with a bounded
 * deadline, and on timeout say what was awaited and what the last probe saw.
 */

type Falsy = false | 0 | '' | null | undefined;

/**
 * Poll `probe` until it returns a truthy value (which is returned), or throw once `timeoutMs` of real
 * time has passed. The interval only paces the polling; correctness never depends on it. With
 * `retryErrors`, a probe that throws (a server still starting) is asked again and its last error is
 * reported on timeout; without, the error ends the wait at once.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Falsy | Promise<T | Falsy>,
  timeoutMs = 10_000,
  everyMs = 20,
  retryErrors = false,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (err) {
      if (!retryErrors) throw err;
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last probe: ${typeof last === 'string' ? last : JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
