/** Paths of the dashboard's pages. */

export const domainPath = (domain: string) => `/slo/domains/${encodeURIComponent(domain)}`;

/** Detail page of a mesh node id "namespace/name". */
export function servicePath(id: string): string {
  const i = id.indexOf('/');
  const ns = i < 0 ? 'default' : id.slice(0, i);
  const name = i < 0 ? id : id.slice(i + 1);
  return `/slo/mesh/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
}
