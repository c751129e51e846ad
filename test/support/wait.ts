/**
 * The one way tests wait for something that has no event to await: poll a condition with a bounded
 * deadline, and on timeout say what was awaited.
 */

type Falsy = false | 0 | '' | null | undefined;

/**
 * Poll `probe` until it returns a truthy value (which is returned), or throw once `timeoutMs` of real
 * time has passed. The interval only paces the polling; correctness never depends on it.
 */
export async function waitFor<T>(what: string, probe: () => T | Falsy | Promise<T | Falsy>, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
