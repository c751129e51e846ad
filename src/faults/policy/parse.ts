/**
 * Policy files: YAML (every `---` document is a policy; HFI's CLI applied only the first) or JSON
 * (one policy or a list of them).
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { POLICY_LIMITS, PolicyValidationError } from './errors.js';
import type { FaultPolicy } from './types.js';
import { validatePolicy } from './validate.js';

function looksLikeJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xfeff) continue;
    return c === 0x7b /* { */ || c === 0x5b /* [ */;
  }
  return false;
}

function jsonDocuments(text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new PolicyValidationError('(document)', `malformed JSON: ${(e as Error).message}`);
  }
  return Array.isArray(value) ? value : [value];
}

function yamlDocuments(text: string): unknown[] {
  const lines = new LineCounter();
  // uniqueKeys: a key given twice is an error, not "the last one wins"; maxAliasCount bounds alias bombs.
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs)) return []; // an empty stream
  const out: unknown[] = [];
  for (let i = 0; i < docs.length; i++) {
    const doc = docs[i];
    const err = doc.errors[0];
    if (err) {
      const line = lines.linePos(err.pos[0]).line;
      throw new PolicyValidationError('(document)', `malformed YAML at line ${line}: ${err.message.split('\n')[0]}`, docs.length > 1 ? i + 1 : undefined, line);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new PolicyValidationError('(document)', `YAML document ${i + 1}: ${(e as Error).message}`, docs.length > 1 ? i + 1 : undefined);
    }
    // `---` at the end of a file (or between two separators) is an empty document, not a policy.
    if (value === null || value === undefined) continue;
    out.push(value);
  }
  return out;
}

/**
 * Every policy in a file. Throws PolicyValidationError naming the field (and, for files of several
 * documents, which document) of the first problem; nothing is accepted from a file with a bad document.
 */
export function parsePolicyDocuments(text: string): { policies: FaultPolicy[]; warnings: string[] } {
  const docs = looksLikeJson(text) ? jsonDocuments(text) : yamlDocuments(text);
  if (docs.length === 0) throw new PolicyValidationError('(document)', 'no policy in the input');
  if (docs.length > POLICY_LIMITS.maxDocuments) throw new PolicyValidationError('(document)', `${docs.length} documents; the limit is ${POLICY_LIMITS.maxDocuments}`);
  const policies: FaultPolicy[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < docs.length; i++) {
    try {
      const r = validatePolicy(docs[i]);
      if (seen.has(r.policy.metadata.name)) throw new PolicyValidationError('metadata.name', `policy "${r.policy.metadata.name}" appears twice in the input`);
      seen.add(r.policy.metadata.name);
      policies.push(r.policy);
      const where = docs.length > 1 ? `${r.policy.metadata.name}: ` : '';
      for (const w of r.warnings) warnings.push(where + w);
    } catch (e) {
      if (e instanceof PolicyValidationError && docs.length > 1) {
        throw new PolicyValidationError(e.field, `document ${i + 1}: ${e.message}`, i + 1, e.line);
      }
      throw e;
    }
  }
  return { policies, warnings };
}
