/**
 * IP helpers with Go `net` semantics, as used by Traefik's ClientIP matcher (pkg/ip Checker with the
 * RemoteAddr strategy): net.ParseIP (no zones, no leading zeros in IPv4 parts), net.ParseCIDR,
 * IPNet.Contains (IPv4-mapped IPv6 addresses compare as IPv4) and net.SplitHostPort.
 */

/** 16 bytes; IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d), as Go's net.IP does. */
export type IPBytes = Uint8Array;

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    if (p.length > 1 && p[0] === '0') return undefined; // Go ≥ 1.17 rejects leading zeros
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function v4ToMapped(v4: number[]): IPBytes {
  const b = new Uint8Array(16);
  b[10] = 0xff;
  b[11] = 0xff;
  b.set(v4, 12);
  return b;
}

function parseIPv6(s: string): IPBytes | undefined {
  if (s.includes('%')) return undefined; // net.ParseIP rejects zones
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const out: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (!head || !tail) return undefined;
    // An embedded IPv4 address is only allowed at the end.
    if (s.slice(0, dbl).includes('.')) return undefined;
    if (head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(s);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  const b = new Uint8Array(16);
  groups.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 0xff;
  });
  return b;
}

/** Go's net.ParseIP; undefined when s is not an IP literal. */
export function parseIP(s: string): IPBytes | undefined {
  if (s.includes(':')) return parseIPv6(s);
  const v4 = parseIPv4(s);
  return v4 ? v4ToMapped(v4) : undefined;
}

/** True for IPv4 and IPv4-mapped IPv6 addresses (Go's `ip.To4() != nil`). */
export function isIPv4(ip: IPBytes): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

export interface IPNet {
  /** Network number, 16 bytes. */
  ip: IPBytes;
  /** Mask length in bits of the written form (32 for an IPv4 literal, 128 for IPv6). */
  bits: number;
  /** The literal before the slash was an IPv4 address (netip Is4), so the mask is 4 bytes long. */
  v4Literal: boolean;
}

/** Go's net.ParseCIDR; undefined when invalid. */
export function parseCIDR(s: string): IPNet | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash);
  const maskStr = s.slice(slash + 1);
  const v4Literal = !addr.includes(':');
  const ip = parseIP(addr);
  if (!ip) return undefined;
  if (!/^[0-9]+$/.test(maskStr)) return undefined;
  const bits = Number(maskStr);
  if (bits > (v4Literal ? 32 : 128)) return undefined;
  const mask = maskBytes(bits, v4Literal ? 4 : 16);
  const full = v4Literal ? new Uint8Array([...new Uint8Array(12).fill(0xff), ...mask]) : mask;
  const net = new Uint8Array(16);
  for (let i = 0; i < 16; i++) net[i] = ip[i] & full[i];
  if (v4Literal) {
    net[10] = 0xff;
    net[11] = 0xff;
  }
  return { ip: net, bits, v4Literal };
}

function maskBytes(bits: number, len: number): Uint8Array {
  const m = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    const take = Math.max(0, Math.min(8, bits - 8 * i));
    m[i] = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
  }
  return m;
}

/** Go's IPNet.Contains, including its IPv4 / IPv4-mapped handling. */
export function cidrContains(net: IPNet, ip: IPBytes): boolean {
  const netIs4 = isIPv4(net.ip);
  const nn = netIs4 ? net.ip.subarray(12) : net.ip;
  let m = maskBytes(net.bits, net.v4Literal ? 4 : 16);
  if (!net.v4Literal && netIs4) m = m.subarray(12);
  if (net.v4Literal && !netIs4) return false;
  const x = isIPv4(ip) ? ip.subarray(12) : ip;
  if (x.length !== nn.length || m.length !== nn.length) return false;
  for (let i = 0; i < x.length; i++) if ((x[i] & m[i]) !== nn[i]) return false;
  return true;
}

export function ipEqual(a: IPBytes, b: IPBytes): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Go's net.SplitHostPort; undefined on error (missing port, too many colons, …). */
export function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  const i = hostport.lastIndexOf(':');
  if (i < 0) return undefined;
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport[0] === '[') {
    const end = hostport.indexOf(']');
    if (end < 0) return undefined;
    if (end + 1 === hostport.length) return undefined;
    if (end + 1 !== i) return undefined;
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(':')) return undefined;
  }
  if (hostport.slice(j).includes('[')) return undefined;
  if (hostport.slice(k).includes(']')) return undefined;
  return { host, port: hostport.slice(i + 1) };
}

/** A parsed ClientIP matcher value list (Traefik's ip.NewChecker). */
export interface IPChecker {
  ips: IPBytes[];
  nets: IPNet[];
}

/** Traefik ip.NewChecker: each value is an IP, or else must be a CIDR. Returns the first bad value on error. */
export function newIPChecker(values: readonly string[]): { checker: IPChecker } | { invalid: string } {
  const checker: IPChecker = { ips: [], nets: [] };
  for (const v of values) {
    const ip = parseIP(v);
    if (ip) {
      checker.ips.push(ip);
      continue;
    }
    const net = parseCIDR(v);
    if (!net) return { invalid: v };
    checker.nets.push(net);
  }
  return { checker };
}

/** The client IP from a remote address (Traefik's RemoteAddrStrategy): host of host:port, else as-is. */
export function remoteAddrIP(remoteAddr: string): string {
  return splitHostPort(remoteAddr)?.host ?? remoteAddr;
}

/** Checker.Contains: false for an empty or unparsable address. */
export function checkerContains(checker: IPChecker, addr: string): boolean {
  if (addr.length === 0) return false;
  const ip = parseIP(addr);
  if (!ip) return false;
  return checker.ips.some((a) => ipEqual(a, ip)) || checker.nets.some((n) => cidrContains(n, ip));
}
