/**
 * Wait for a batch's events by following its own event stream (no polling): the stored events are
 * replayed from the start, so an event emitted before the call is seen too.
 */
export async function waitForBatchEvent(
  url: string,
  token: string,
  id: string,
  what: string,
  match: (event: string, data: Record<string, unknown>) => boolean,
  deadlineMs = 60_000,
): Promise<void> {
  const signal = AbortSignal.timeout(deadlineMs);
  const seen: string[] = [];
  try {
    const res = await fetch(`${url}/api/v1/batches/${id}/events`, { headers: { authorization: `Bearer ${token}` }, signal });
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString();
      let sep: number;
      while ((sep = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, sep);
        buf = buf.slice(sep + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const raw = /^data: (.*)$/m.exec(block)?.[1];
        if (!event || raw === undefined) continue;
        const data = JSON.parse(raw) as Record<string, unknown>;
        if (event === 'status' || event === 'file') seen.push(`${event} ${String(data.name ?? '')}${data.name ? ' ' : ''}${String(data.status)}`);
        if (match(event, data)) return;
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  throw new Error(`batch ${id}: no ${what} within ${deadlineMs} ms (seen: ${seen.join(' → ') || 'nothing'})`);
}

/** Wait for a batch to reach a status; returns its progress then. */
export async function waitForBatchStatus(url: string, token: string, id: string, status: string, deadlineMs = 60_000): Promise<Record<string, unknown>> {
  await waitForBatchEvent(url, token, id, `status ${status}`, (event, data) => event === 'status' && data.status === status, deadlineMs);
  return (await (await fetch(`${url}/api/v1/batches/${id}/progress`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
}
