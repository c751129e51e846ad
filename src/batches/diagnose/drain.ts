/**
 * Drain log-template mining (He et al., ICWS 2017): messages are masked (numbers, hex, ids become
 * tokens like <NUM>), then routed through a fixed-depth tree — first by token count, then by the
 * first `depth - 3` tokens — to a leaf holding a few clusters; the message joins the most similar
 * cluster when similarity >= threshold (positions that differ become <*>), else starts a new one.
 * Fixed depth keeps each insert O(depth + clusters in one leaf), so a file of millions of lines
 * mines in one pass.
 *
 * Pure: no I/O. Partial results from several files merge by template text (mergeTemplateCounts).
 */

export interface DrainOptions {
  /** Tree depth including the root and the length layer (the paper's default is 4). */
  depth?: number;
  /** A message joins a cluster when the share of equal tokens is at least this. */
  similarity?: number;
  /** Children per inner node before unseen tokens go to the wildcard branch. */
  maxChildren?: number;
  /** Examples kept per template. */
  maxExamples?: number;
  /** Longest message (in characters) considered; longer ones are cut before tokenising. */
  maxMessageLength?: number;
}

export interface TemplateCount {
  template: string;
  count: number;
  examples: string[];
}

const WILDCARD = '<*>';

interface Cluster {
  tokens: string[];
  count: number;
  examples: string[];
}

interface TreeNode {
  children: Map<string, TreeNode>;
  clusters: Cluster[];
}

const newNode = (): TreeNode => ({ children: new Map(), clusters: [] });

/** Masks applied before tokenising; order matters (longer shapes first). */
const MASKS: [RegExp, string][] = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<UUID>'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g, '<IP>'],
  [/\b0x[0-9a-f]+\b/gi, '<HEX>'],
  [/\b[0-9a-f]{2}(?:[ :][0-9a-f]{2}){3,}\b/gi, '<BYTES>'],
  [/(?<![A-Za-z0-9_])[-+]?\d+(?:\.\d+)?(?:ms|s|kb|mb|%)?(?![A-Za-z0-9_])/gi, '<NUM>'],
];

/** Replace variable parts of a message by typed placeholders. */
export function maskMessage(message: string): string {
  let out = message;
  for (const [re, token] of MASKS) out = out.replace(re, token);
  return out;
}

function tokenize(masked: string): string[] {
  return masked.split(/\s+/).filter((t) => t.length > 0);
}

const hasDigit = (t: string) => /\d/.test(t);

export class DrainMiner {
  private readonly depth: number;
  private readonly similarity: number;
  private readonly maxChildren: number;
  private readonly maxExamples: number;
  private readonly maxMessageLength: number;
  private readonly root = newNode();
  private readonly all: Cluster[] = [];

  constructor(opts: DrainOptions = {}) {
    this.depth = Math.max(3, opts.depth ?? 4);
    this.similarity = opts.similarity ?? 0.5;
    this.maxChildren = opts.maxChildren ?? 100;
    this.maxExamples = opts.maxExamples ?? 3;
    this.maxMessageLength = opts.maxMessageLength ?? 4096;
  }

  /** Learn one message; returns its template after the update. */
  add(message: string): string {
    const text = message.length > this.maxMessageLength ? message.slice(0, this.maxMessageLength) : message;
    const tokens = tokenize(maskMessage(text));
    if (tokens.length === 0) return '';
    const leaf = this.leafFor(tokens);
    let best: Cluster | undefined;
    let bestSim = -1;
    let bestWild = -1;
    for (const c of leaf.clusters) {
      const [sim, wild] = similarity(c.tokens, tokens);
      if (sim > bestSim || (sim === bestSim && wild > bestWild)) {
        best = c;
        bestSim = sim;
        bestWild = wild;
      }
    }
    if (best && bestSim >= this.similarity) {
      for (let i = 0; i < tokens.length; i++) if (best.tokens[i] !== tokens[i]) best.tokens[i] = WILDCARD;
      best.count++;
      if (best.examples.length < this.maxExamples) best.examples.push(text);
      return best.tokens.join(' ');
    }
    const cluster: Cluster = { tokens, count: 1, examples: [text] };
    leaf.clusters.push(cluster);
    this.all.push(cluster);
    return tokens.join(' ');
  }

  /** Templates by descending count (ties by template text, so output is deterministic). */
  templates(limit = Number.POSITIVE_INFINITY): TemplateCount[] {
    return mergeTemplateCounts([this.all.map((c) => ({ template: c.tokens.join(' '), count: c.count, examples: c.examples }))], limit, this.maxExamples);
  }

  get clusterCount(): number {
    return this.all.length;
  }

  private leafFor(tokens: string[]): TreeNode {
    const byLength = this.child(this.root, String(tokens.length), true);
    let node = byLength;
    // depth counts the root, the length layer and the leaf layer: the rest route by leading tokens.
    const prefixLayers = Math.min(this.depth - 3, tokens.length);
    for (let i = 0; i < prefixLayers; i++) {
      const t = tokens[i]!;
      // Tokens that still carry digits after masking are likely variables: route them to the wildcard.
      const key = hasDigit(t) ? WILDCARD : t;
      node = this.child(node, key, false);
    }
    return node;
  }

  private child(node: TreeNode, key: string, always: boolean): TreeNode {
    let next = node.children.get(key);
    if (next) return next;
    if (!always && key !== WILDCARD && node.children.size >= this.maxChildren) {
      next = node.children.get(WILDCARD);
      if (next) return next;
      key = WILDCARD;
    }
    next = newNode();
    node.children.set(key, next);
    return next;
  }
}

/** Share of positions with equal tokens (wildcards do not count as equal), and the wildcard count. */
function similarity(template: string[], tokens: string[]): [number, number] {
  let same = 0;
  let wild = 0;
  for (let i = 0; i < template.length; i++) {
    const t = template[i];
    if (t === WILDCARD) wild++;
    else if (t === tokens[i]) same++;
  }
  return [same / template.length, wild];
}

/**
 * Merge template counts from several partial aggregates (one per file). Equal template texts add up;
 * examples are kept up to maxExamples in input order.
 */
export function mergeTemplateCounts(parts: TemplateCount[][], limit = Number.POSITIVE_INFINITY, maxExamples = 3): TemplateCount[] {
  const merged = new Map<string, TemplateCount>();
  for (const part of parts) {
    for (const t of part) {
      const m = merged.get(t.template);
      if (!m) merged.set(t.template, { template: t.template, count: t.count, examples: t.examples.slice(0, maxExamples) });
      else {
        m.count += t.count;
        for (const e of t.examples) if (m.examples.length < maxExamples && !m.examples.includes(e)) m.examples.push(e);
      }
    }
  }
  const out = [...merged.values()].sort((a, b) => b.count - a.count || (a.template < b.template ? -1 : a.template > b.template ? 1 : 0));
  return Number.isFinite(limit) ? out.slice(0, limit) : out;
}
