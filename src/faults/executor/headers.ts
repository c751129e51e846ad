/**
 * Header rewriting on Node's flat raw header lists (`[name, value, name, value, …]`): names keep
 * their case and order, duplicates stay separate lines, and nothing is built per header beyond
 * the output list (this runs twice per proxied request).
 */

/** RFC 9110 §7.6.1: headers that describe one connection and must not be forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Headers named in `Connection:` are hop-by-hop too. */
function connectionTokens(raw: string[]): Set<string> | undefined {
  let names: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length !== 10 || raw[i].toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1].split(',')) {
      const name = t.trim().toLowerCase();
      if (name !== 'close' && name !== 'keep-alive' && name !== '') (names ??= new Set()).add(name);
    }
  }
  return names;
}

/** End-to-end headers of a message, as a flat raw list. */
export function endToEnd(raw: string[]): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(lower) || named?.has(lower)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/**
 * Headers sent upstream: the client's end-to-end headers (Host kept, as a sidecar is transparent)
 * plus the X-Forwarded-* trio. An X-Forwarded-Proto/Host set by a proxy in front (say an ingress
 * that terminated TLS) is kept; the client address is appended to X-Forwarded-For.
 */
export function upstreamHeaders(raw: string[], clientAddress: string | undefined): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  let xff: string | undefined;
  let host: string | undefined;
  let proto = false;
  let fwdHost = false;
  let chunked = false;
  let length = false;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (lower === 'x-forwarded-for') {
      xff = xff === undefined ? raw[i + 1] : `${xff}, ${raw[i + 1]}`;
      continue;
    }
    if (lower === 'transfer-encoding') chunked = true;
    if (HOP_BY_HOP.has(lower) || named?.has(lower)) continue;
    if (lower === 'host') host = raw[i + 1];
    else if (lower === 'x-forwarded-proto') proto = true;
    else if (lower === 'x-forwarded-host') fwdHost = true;
    else if (lower === 'content-length') length = true;
    out.push(raw[i], raw[i + 1]);
  }
  // A chunked body without Content-Length must stay chunked: Node would not chunk a GET by itself.
  if (chunked && !length) out.push('Transfer-Encoding', 'chunked');
  const client = clientAddress?.startsWith('::ffff:') ? clientAddress.slice(7) : clientAddress;
  if (client) out.push('X-Forwarded-For', xff === undefined ? client : `${xff}, ${client}`);
  else if (xff !== undefined) out.push('X-Forwarded-For', xff);
  if (!proto) out.push('X-Forwarded-Proto', 'http');
  if (!fwdHost && host !== undefined) out.push('X-Forwarded-Host', host);
  return out;
}

/** Whether a request carries a body (RFC 9112 §6.3): it has a Content-Length or a Transfer-Encoding. */
export function hasBody(raw: string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i];
    if (n.length === 14 && n.toLowerCase() === 'content-length') return true;
    if (n.length === 17 && n.toLowerCase() === 'transfer-encoding') return true;
  }
  return false;
}
