import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  BadRouteRequest,
  chooseRoute,
  ManifestError,
  routeMappingsFromYaml,
  routersFromMappings,
  routeRequestOf,
  routersOnEntryPoint,
  type ManifestRouter,
  type RouteChoice,
  type RouteRequest,
  type RouterVerdict,
} from '../traefik/index.js';
import { UsageError, configFromOptions, examples, withClientConfigOptions } from './common.js';

function collect(v: string, prev: string[]) {
  return [...prev, v];
}

const FLAG_OF = { path: '--path', header: '--header', client_ip: '--client-ip' } as const;

export interface MatchFlags {
  host: string;
  path: string;
  method?: string;
  header?: string[];
  clientIp?: string;
}

/** The request the flags describe (the same reading as GET /api/v2/slo/routes/match); a bad one is a usage error naming its flag. */
export function requestFromFlags(f: MatchFlags): RouteRequest {
  try {
    return routeRequestOf({ host: f.host, path: f.path, method: f.method, headers: f.header, clientIp: f.clientIp });
  } catch (err) {
    if (err instanceof BadRouteRequest) throw new UsageError(`${FLAG_OF[err.kind]}: ${err.message}`);
    throw err;
  }
}

function parts(v: RouterVerdict): string {
  // A negated matcher helps the rule when it does not match: mark what the rule got, not the raw result.
  return v.parts.map((p) => `${p.matched !== p.negated ? '✓' : '✗'} ${p.negated ? '!' : ''}${p.matcher}`).join('  ');
}

function origin(r: ManifestRouter): string {
  const m = r.mappings[0];
  const kind = m.source === 'ingressroute' ? 'IngressRoute' : 'Ingress';
  const where = m.source === 'ingressroute' ? `spec.routes[${m.routeIndex}]` : `path #${m.routeIndex}`;
  return `${kind} ${m.namespace}/${m.name}, ${where}`;
}

function services(r: ManifestRouter): string {
  return [...new Set(r.mappings.map((m) => `${m.traefikService} → ${m.backendServices.map((b) => `${b.namespace}/${b.name}${b.port !== undefined ? `:${b.port}` : ''}`).join(', ')}`))].join('; ');
}

function describeRouter(v: RouterVerdict<ManifestRouter>, indent: string): string[] {
  const r = v.router;
  const lines = [
    `${indent}router:   ${r.name}`,
    `${indent}from:     ${origin(r)}${r.entryPoints && r.entryPoints.length > 0 ? ` (entry points: ${r.entryPoints.join(', ')})` : ''}`,
    `${indent}rule:     ${r.rule} (syntax ${r.syntax})`,
    `${indent}priority: ${v.priority} (${v.priorityFrom === 'explicit' ? 'set on the route' : 'length of the rule'})`,
  ];
  if (v.error) lines.push(`${indent}invalid:  ${v.error} (Traefik does not install this router)`);
  else lines.push(`${indent}matchers: ${parts(v)}`);
  lines.push(`${indent}service:  ${services(r)}`);
  return lines;
}

/** The human answer: which route serves the request and why, or why none does. */
export function renderRouteChoice(choice: RouteChoice<ManifestRouter>, req: RouteRequest): string {
  const url = `${req.method ?? 'GET'} ${req.host}${req.path}${req.query ? `?${req.query}` : ''}`;
  const out: string[] = [];
  const { served } = choice;
  if (served) {
    out.push(`${url} is served by ${served.router.name}`, ...describeRouter(served, '  '));
    if (choice.tiedWith.length > 0) {
      out.push('', `ambiguous: ${choice.tiedWith.map((v) => v.router.name).join(', ')} also match with the same priority and provider; Traefik's pick among them depends on load order`);
    }
    const before = choice.verdicts.slice(0, choice.verdicts.indexOf(served));
    if (before.length > 0) {
      out.push('', 'tried first (higher priority), did not match:');
      for (const v of before) out.push(...describeRouter(v, '  '), '');
    }
    const shadowed = choice.verdicts.filter((v) => v.matched && v !== served && !choice.tiedWith.includes(v));
    if (shadowed.length > 0) out.push('', `also match, lower priority: ${shadowed.map((v) => `${v.router.name} (${v.priority})`).join(', ')}`);
  } else if (choice.verdicts.length === 0) {
    out.push(`${url}: no route is defined (no IngressRoute or Ingress routes in the manifests)`);
  } else {
    out.push(`${url} is served by no route (Traefik answers 404); ${choice.verdicts.length} tried, highest priority first:`);
    for (const v of choice.verdicts) out.push(...describeRouter(v, '  '), '');
  }
  return out.join('\n').trimEnd() + '\n';
}

export function registerRoutesCommands(program: Command): void {
  const routes = program.command('routes').description('Traefik ingress routes from IngressRoute / Ingress manifests');
  const match = withClientConfigOptions(routes.command('match').description('which route serves a URL, and why (or why none does)'))
    .requiredOption('--host <host>', 'request host (Host header), port allowed')
    .requiredOption('--path <path>', 'request path as sent, percent-encoding kept; a ?query is honoured')
    .option('--method <method>', 'request method', 'GET')
    .option('--header <name=value>', 'request header; repeatable', collect, [])
    .option('--client-ip <ip>', 'client address, for ClientIP rules')
    .option('--entry-point <name>', 'only the routers listening on this entry point')
    .option('--routes-file <file>', 'YAML of IngressRoute / Ingress manifests (agent.routesFile)')
    .option('--json', 'print the verdicts as JSON')
    .action((opts) => {
      const config = configFromOptions(opts, opts.routesFile !== undefined ? { 'agent.routesFile': opts.routesFile } : {});
      const file = config.agent.routesFile;
      if (!file) throw new UsageError('no manifests to read: give --routes-file or set agent.routesFile');
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read routes file ${file}: ${(err as Error).message}`);
      }
      const req = requestFromFlags(opts as MatchFlags);
      let mappings;
      try {
        mappings = routeMappingsFromYaml(text, { onError: (e) => process.stderr.write(`vigil: ${file}: skipped ${e.message}\n`) });
      } catch (err) {
        if (err instanceof ManifestError) throw new UsageError(`${file}: ${err.message}`);
        throw err;
      }
      let routers = routersFromMappings(mappings);
      if (opts.entryPoint) routers = routersOnEntryPoint(routers, opts.entryPoint as string);
      const choice = chooseRoute(routers, req);
      if (opts.json) {
        const strip = (v: RouterVerdict<ManifestRouter>) => ({ ...v, router: { ...v.router, mappings: undefined, source: origin(v.router) } });
        process.stdout.write(JSON.stringify({ request: req, served: choice.served ? strip(choice.served) : null, tiedWith: choice.tiedWith.map(strip), verdicts: choice.verdicts.map(strip) }, null, 2) + '\n');
      } else {
        process.stdout.write(renderRouteChoice(choice, req));
      }
      // Scripts can test "is this URL routed?" by the exit status.
      if (!choice.served) process.exitCode = 1;
    });
  examples(match, [
    'vigil routes match --routes-file ingressroutes.yaml --host shop.example.com --path /api/cart',
    'vigil routes match --routes-file ingressroutes.yaml --host shop.example.com --path "/search?q=x" --method POST --header "X-Canary=1"',
  ]);
}
