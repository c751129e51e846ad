/**
 * Wait for a batch to reach a status by following its own event stream (no polling): the stored
 * events are replayed from the start, so a status reached before the call is seen too.
 */
export async function waitForBatchStatus(url: string, token: string, id: string, status: string, deadlineMs = 60_000): Promise<Record<string, unknown>> {
  const signal = AbortSignal.timeout(deadlineMs);
  const headers = { authorization: `Bearer ${token}` };
  const seen: string[] = [];
  try {
    const res = await fetch(`${url}/api/v1/batches/${id}/events`, { headers, signal });
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString();
      let sep: number;
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep);
        buf = buf.slice(sep + 2);
        if (!/^event: status$/m.test(block)) continue;
        const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as { status: string };
        seen.push(data.status);
        if (data.status === status) {
          return (await (await fetch(`${url}/api/v1/batches/${id}/progress`, { headers })).json()) as Record<string, unknown>;
        }
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  throw new Error(`batch ${id} did not reach ${status} within ${deadlineMs} ms (statuses seen: ${seen.join(' → ') || 'none'})`);
}
