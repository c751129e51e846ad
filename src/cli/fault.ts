/**
 * `vigil fault apply|get|list|describe|delete|watch|export`: HFI's CLI verbs against a running
 * control plane. The server is --server (alias --control-plane-addr, HFI's flag; or
 * VIGIL_SERVER_URL, default the configured local port); the token is --token (or VIGIL_TOKEN,
 * default the admin token `vigil up` keeps in <dataDir>/admin-token).
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { toEnvoy, toIstio } from '../faults/export.js';
import { PolicyValidationError, parsePolicyDocuments, type FaultPolicy } from '../faults/policy/index.js';
import { expiresAt, faultTypes, ruleInWords, selectorWords } from '../faults/views.js';
import { ApiClient, clientToken, serverUrl, table, type ClientOpts } from './client.js';
import { UsageError, configFromOptions, examples, withClientConfigOptions } from './common.js';

/** Where output goes (tests replace it). */
export const io = {
  out: (s: string) => void process.stdout.write(s),
  err: (s: string) => void process.stderr.write(s),
  isTTY: () => !!process.stdout.isTTY,
  now: () => Date.now(),
  readStdin: async (): Promise<string> => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
};

const KIND = 'faultinjectionpolicy.hfi.dev';

/** Plain YAML: no anchors and aliases, which some Kubernetes tooling refuses. */
const toYaml = (v: unknown) => stringify(v, { aliasDuplicateObjects: false });

interface FaultClientOpts extends ClientOpts {
  controlPlaneAddr?: string;
}

class ControlPlane extends ApiClient {
  async policy(name: string): Promise<FaultPolicy> {
    const r = await this.call<FaultPolicy>('GET', `/v1/policies/${encodeURIComponent(name)}`);
    if (r.status === 404) throw new Error(`${KIND} "${name}" not found`);
    return r.body;
  }
}

function client(opts: FaultClientOpts): ControlPlane {
  const config = configFromOptions(opts as Record<string, unknown>);
  // HFI's --control-plane-addr is often host:port without a scheme.
  const addr = opts.server ?? opts.controlPlaneAddr;
  const server = addr === undefined || /^[a-z][a-z0-9+.-]*:\/\//i.test(addr) ? addr : `http://${addr}`;
  return new ControlPlane(serverUrl({ server }, config), clientToken(opts, config));
}

const withClientOptions = (cmd: Command) =>
  withClientConfigOptions(cmd)
    .option('--server <url>', 'Vigil server URL (default VIGIL_SERVER_URL or the configured local port)')
    .option('--control-plane-addr <addr>', "alias of --server (HFI's flag)")
    .option('--token <token>', 'bearer token (default VIGIL_TOKEN or <dataDir>/admin-token)');

const outputOption = () => new Option('-o, --output <format>', 'table | yaml | json').choices(['table', 'yaml', 'json']).default('table');

function intArg(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${name} must be an integer ${min}–${max}, got "${v}"`);
  return Number(v);
}

/** "4m 10s", "expired", "never". */
function countdown(at: number | null, now: number): string {
  if (at === null) return 'never';
  const s = Math.ceil((at - now) / 1000);
  if (s <= 0) return 'expired';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return [h ? `${h}h` : '', m ? `${m}m` : '', `${s % 60}s`].filter(Boolean).join(' ');
}

/** HFI's field order (the API's JSON serializer puts required fields first). */
function readingOrder(p: FaultPolicy): FaultPolicy {
  const { selector, rules, ...rest } = p.spec;
  return { metadata: p.metadata, spec: { ...(selector ? { selector } : {}), rules, ...rest } };
}

function printPolicies(list: FaultPolicy[], format: string, single: boolean): void {
  if (format === 'json') return io.out(JSON.stringify(single ? list[0] : list, null, 2) + '\n');
  if (format === 'yaml') return io.out(list.map((p) => toYaml(readingOrder(p))).join('---\n'));
  const now = io.now();
  const rows = list.map((p) => [
    p.metadata.name,
    selectorWords(p),
    String(p.spec.rules.length),
    faultTypes(p).join(',') || '-',
    p.metadata.version ?? '',
    countdown(expiresAt(p), now),
  ]);
  io.out(table(['NAME', 'TARGET (NAMESPACE/SERVICE)', 'RULES', 'FAULTS', 'VERSION', 'EXPIRES IN'], rows));
}

async function readInput(file: string): Promise<string> {
  if (file === '-') return io.readStdin();
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

interface SummaryView {
  version: number;
  policies: { name: string; exists: boolean; injected: Record<string, number>; total: number; executors: number }[];
  executors: { executor_id: string; service: string; namespace: string; policy_version: string; last_seen: number; connected: boolean; in_sync: boolean; injected: Record<string, Record<string, number>> }[];
}

function renderSummary(s: SummaryView, now: number): string {
  const counts = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || '-';
  let out = `policy version ${s.version}\n\n`;
  out += s.policies.length
    ? table(
        ['POLICY', 'INJECTED', 'TOTAL', 'EXECUTORS'],
        s.policies.map((p) => [p.exists ? p.name : `${p.name} (deleted)`, counts(p.injected), String(p.total), String(p.executors)]),
      )
    : 'no policies\n';
  out += '\n';
  out += s.executors.length
    ? table(
        ['EXECUTOR', 'TARGET', 'VERSION', 'STATE', 'LAST REPORT', 'INJECTED'],
        s.executors.map((e) => [
          e.executor_id,
          `${e.namespace}/${e.service}`,
          e.policy_version + (e.in_sync ? '' : ' (behind)'),
          e.connected ? 'connected' : 'gone',
          `${Math.max(0, Math.round((now - e.last_seen) / 1000))}s ago`,
          Object.entries(e.injected)
            .map(([p, m]) => `${p}: ${counts(m)}`)
            .join('; ') || '-',
        ]),
      )
    : 'no executors have reported\n';
  return out;
}

export function registerFaultCommands(program: Command): void {
  const fault = program.command('fault').description('Fault injection: apply, inspect, watch and export HFI policies');
  examples(fault, [
    'vigil fault apply -f abort-policy.yaml',
    'cat policies.yaml | vigil fault apply -f -',
    'vigil fault get -o yaml',
    'vigil fault delete abort-policy',
    'vigil fault export abort-policy --to istio',
  ]);

  withClientOptions(
    fault
      .command('apply')
      .description('Create or update every policy (every YAML document) in a file')
      .requiredOption('-f, --file <file>', 'policy file (YAML, several documents allowed, or JSON); - reads stdin')
      .option('--start-delay-ms <ms>', 'set start_delay_ms on every rule')
      .option('--duration-seconds <s>', 'set duration_seconds on every rule (0: no limit)'),
  ).action(async (opts: FaultClientOpts & { file: string; startDelayMs?: string; durationSeconds?: string }) => {
    const startDelay = intArg(opts.startDelayMs, '--start-delay-ms', 0, 3_600_000);
    const duration = intArg(opts.durationSeconds, '--duration-seconds', 0, 366 * 86_400);
    const text = await readInput(opts.file);
    let parsed: ReturnType<typeof parsePolicyDocuments>;
    try {
      parsed = parsePolicyDocuments(text);
    } catch (err) {
      if (err instanceof PolicyValidationError) {
        const field = err.field && err.field !== '(document)' ? ` (field ${err.field})` : '';
        throw new Error(`${opts.file === '-' ? 'stdin' : opts.file}: ${err.message}${field}`, { cause: err });
      }
      throw err;
    }
    for (const w of parsed.warnings) io.err(`warning: ${w}\n`);
    const api = client(opts);
    for (const p of parsed.policies) {
      for (const r of p.spec.rules) {
        if (startDelay !== undefined) r.fault.start_delay_ms = startDelay;
        if (duration !== undefined) r.fault.duration_seconds = duration;
      }
      await api.call('POST', '/v1/policies', p);
      io.out(`${KIND} "${p.metadata.name}" applied\n`);
    }
  });

  const getAction = async (name: string | undefined, opts: FaultClientOpts & { output: string }) => {
    const api = client(opts);
    if (name) return printPolicies([await api.policy(name)], opts.output, true);
    const r = await api.call<{ policies: FaultPolicy[] }>('GET', '/v1/policies');
    if (opts.output === 'table' && !r.body.policies.length) return io.out('no policies\n');
    printPolicies(r.body.policies, opts.output, false);
  };
  withClientOptions(fault.command('get').description('Show one policy, or all').argument('[name]').addOption(outputOption())).action(getAction);
  withClientOptions(fault.command('list').description('List every policy').addOption(outputOption())).action((opts: FaultClientOpts & { output: string }) =>
    getAction(undefined, opts),
  );

  withClientOptions(fault.command('describe').description('A policy in words, with its injected counts').argument('<name>')).action(async (name: string, opts: FaultClientOpts) => {
    const api = client(opts);
    const p = await api.policy(name);
    const summary = (await api.call<SummaryView>('GET', '/api/v1/faults/summary')).body;
    const now = io.now();
    const lines = [
      `Name:        ${p.metadata.name}`,
      `Version:     ${p.metadata.version ?? ''}`,
      `Applied:     ${p.metadata.applied_at ? new Date(p.metadata.applied_at).toISOString() : '-'}`,
      `Target:      ${selectorWords(p)} (namespace/service)`,
      `Expires in:  ${countdown(expiresAt(p), now)}`,
    ];
    if (p.spec.start_delay_ms) lines.push(`Start delay: ${p.spec.start_delay_ms} ms`);
    if (p.spec.max_active_faults !== undefined) lines.push(`Max active:  ${p.spec.max_active_faults}`);
    lines.push('Rules (first match wins):');
    p.spec.rules.forEach((r, i) => lines.push(`  ${i}. ${ruleInWords(r)}`));
    const s = summary.policies?.find((x) => x.name === name);
    const injected = s && s.total ? Object.entries(s.injected).map(([k, v]) => `${k}=${v}`).join(' ') + ` on ${s.executors} executor(s)` : 'none reported';
    lines.push(`Injected:    ${injected}`);
    io.out(lines.join('\n') + '\n');
  });

  withClientOptions(fault.command('delete').description('Delete a policy').argument('<name>')).action(async (name: string, opts: FaultClientOpts) => {
    const r = await client(opts).call('DELETE', `/v1/policies/${encodeURIComponent(name)}`);
    if (r.status === 404) throw new Error(`${KIND} "${name}" not found`);
    io.out(`${KIND} "${name}" deleted\n`);
  });

  withClientOptions(
    fault
      .command('watch')
      .description('Live injected counts per policy and per executor')
      .option('--interval <s>', 'seconds between refreshes', '2')
      .option('--count <n>', 'stop after this many refreshes (default: until interrupted)'),
  ).action(async (opts: FaultClientOpts & { interval: string; count?: string }) => {
    const interval = intArg(opts.interval, '--interval', 1, 3600)!;
    const count = intArg(opts.count, '--count', 1, 1_000_000);
    const api = client(opts);
    for (let i = 0; count === undefined || i < count; i++) {
      if (i > 0) await io.sleep(interval * 1000);
      const s = (await api.call<SummaryView>('GET', '/api/v1/faults/summary')).body;
      const text = renderSummary(s, io.now());
      // On a terminal the view replaces itself; piped, each refresh is appended.
      io.out(io.isTTY() ? `\x1b[H\x1b[2J${text}` : `${i > 0 ? '\n' : ''}${text}`);
    }
  });

  withClientOptions(
    fault
      .command('export')
      .description("A policy as Istio's VirtualService fault or Envoy's envoy.filters.http.fault config (notes on what cannot be expressed go to stderr)")
      .argument('<name>')
      .addOption(new Option('--to <target>', 'istio | envoy').choices(['istio', 'envoy']).makeOptionMandatory())
      .option('--istio-host <host>', 'Istio: the VirtualService host (default the selector service)')
      .addOption(new Option('-o, --output <format>', 'yaml | json').choices(['yaml', 'json']).default('yaml')),
  ).action(async (name: string, opts: FaultClientOpts & { to: 'istio' | 'envoy'; istioHost?: string; output: string }) => {
    const p = await client(opts).policy(name);
    const r = opts.to === 'istio' ? toIstio(p, { host: opts.istioHost }) : toEnvoy(p);
    io.out(opts.output === 'json' ? JSON.stringify(r.document, null, 2) + '\n' : toYaml(r.document));
    for (const n of r.notes) io.err(`note: ${n}\n`);
  });
}
