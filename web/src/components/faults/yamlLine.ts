/**
 * Where a server error points in the YAML the user typed: the server names the bad value by its JSON
 * path (`spec.rules[0].fault.percentage`); the YAML document's node positions turn that into a line.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

/** `spec.rules[0].fault.percentage` → ['spec', 'rules', 0, 'fault', 'percentage']. */
export function parseFieldPath(field: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of field.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/**
 * The 1-based line of `field` in `text`: the line of its key when it is there, else of the deepest
 * part of the path that is (a missing `abort` points at its `fault`). Null when the text does not
 * parse or the path names nothing in it.
 */
export function lineOfField(text: string, field: string): number | null {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) return lines.linePos(doc.errors[0].pos[0]).line;
  let node: Node | null = doc.contents as Node | null;
  let pos: number | undefined;
  for (const seg of parseFieldPath(field)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      pos = isScalar(pair.key) && pair.key.range ? pair.key.range[0] : pos;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      pos = item.range?.[0] ?? pos;
      node = item;
    } else {
      break;
    }
  }
  return pos === undefined ? null : lines.linePos(pos).line;
}

/** A syntax error of the text, with its line, before anything is sent. */
export function yamlSyntaxError(text: string): { line: number; message: string } | null {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const e = doc.errors[0];
  return e ? { line: lines.linePos(e.pos[0]).line, message: e.message.split('\n')[0] } : null;
}
