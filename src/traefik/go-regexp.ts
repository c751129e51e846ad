/**
 * Go (RE2, `regexp.Compile`) regular expressions, checked and translated to JavaScript.
 *
 * Traefik compiles HostRegexp / PathRegexp / HeaderRegexp / QueryRegexp values (and gorilla/mux
 * template variables in the v2 syntax) with Go's `regexp` package, whose syntax differs from
 * JavaScript's: `{` that does not start a valid repeat is a literal, `\Q…\E`, `(?i)` and `(?i:…)`
 * flag groups, `(?P<name>…)`, POSIX classes `[[:alpha:]]`, `\pL`, ASCII-only `\s`, `.` that matches
 * `\r`; while look-arounds and back-references are rejected. This module parses the Go syntax,
 * reports what Go reports as a syntax error (with its offset), and emits an equivalent JavaScript
 * pattern (`u` flag) whose flags are expanded inline, so scoped flags work on Node 20.
 *
 * Known approximations: case folding uses toLowerCase/toUpperCase plus the k/K/K and s/S/ſ orbits
 * (Go uses full simple-fold orbits); `(?i)` does not fold `\p{…}` classes; Go's overall program-size
 * limit ("expression too large") is not enforced; an unknown `\p{Name}` is whatever JavaScript says.
 */

export class GoRegexpSyntaxError extends Error {
  /** Offset (in code points) into the pattern where the problem starts. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'GoRegexpSyntaxError';
    this.offset = offset;
  }
}

export interface GoRegexpOptions {
  /** Start with the `i` flag set, as if the pattern began with `(?i)`. */
  ignoreCase?: boolean;
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

type Range = [number, number];

interface Item {
  js: string;
  /** An assertion (`^`, `\b`, …) must be wrapped in a group before a quantifier in JavaScript. */
  assertion: boolean;
  /** The previous token was a repetition operator (Go forbids stacking them: `a**`). */
  repeat: boolean;
  /** The item already carries a quantifier, so a further one needs a group around it. */
  quantified?: boolean;
}

const MAX_CP = 0x10ffff;
const MAX_REPEAT = 1000;

const PERL_CLASSES: Record<string, Range[]> = {
  d: [[0x30, 0x39]],
  s: [
    [0x09, 0x0a],
    [0x0c, 0x0d],
    [0x20, 0x20],
  ],
  w: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
};

const POSIX_CLASSES: Record<string, Range[]> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

/** Unicode general categories Go's `\p{…}` accepts (the rest of the accepted names are scripts). */
const GENERAL_CATEGORIES = new Set([
  'C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn',
  'N', 'Nd', 'Nl', 'No', 'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So',
  'Z', 'Zl', 'Zp', 'Zs',
]);

function complement(ranges: Range[]): Range[] {
  const sorted = normalizeRanges(ranges);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}

function normalizeRanges(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** Code points that Go's `(?i)` treats as equal to cp (approximation of unicode.SimpleFold orbits). */
function foldOrbit(cp: number): number[] {
  const set = new Set<number>([cp]);
  const ch = String.fromCodePoint(cp);
  for (const variant of [ch.toLowerCase(), ch.toUpperCase()]) {
    const cps = Array.from(variant);
    if (cps.length === 1) set.add(cps[0].codePointAt(0)!);
  }
  // Orbits with a third member that toLowerCase/toUpperCase alone do not reach.
  if (set.has(0x6b) || set.has(0x4b) || set.has(0x212a)) [0x6b, 0x4b, 0x212a].forEach((c) => set.add(c));
  if (set.has(0x73) || set.has(0x53) || set.has(0x17f)) [0x73, 0x53, 0x17f].forEach((c) => set.add(c));
  return [...set];
}

const FOLD_SCAN_LIMIT = 0x2000;

function foldRanges(ranges: Range[]): Range[] {
  const out: Range[] = [...ranges];
  for (const [lo, hi] of ranges) {
    const end = Math.min(hi, FOLD_SCAN_LIMIT - 1);
    for (let cp = lo; cp <= end; cp++) {
      for (const f of foldOrbit(cp)) if (f !== cp) out.push([f, f]);
    }
  }
  return normalizeRanges(out);
}

function isAsciiAlnum(cp: number): boolean {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
}

/** A code point as a JavaScript (u-mode) regexp atom that is literal both in and out of classes. */
function esc(cp: number): string {
  if (isAsciiAlnum(cp)) return String.fromCodePoint(cp);
  if (cp < 0x100) return '\\x' + cp.toString(16).padStart(2, '0');
  return '\\u{' + cp.toString(16) + '}';
}

function rangesJs(ranges: Range[]): string {
  return ranges.map(([lo, hi]) => (lo === hi ? esc(lo) : `${esc(lo)}-${esc(hi)}`)).join('');
}

function isOctal(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '7';
}

function isHex(ch: string | undefined): boolean {
  return ch !== undefined && /^[0-9A-Fa-f]$/.test(ch);
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

/** A parsed class: ranges plus JavaScript class atoms that cannot be listed as ranges (`\p{…}`). */
interface ClassSet {
  ranges: Range[];
  atoms: string[];
}

class Translator {
  private readonly cps: string[];
  private pos = 0;
  private readonly names = new Set<string>();

  constructor(private readonly src: string) {
    this.cps = Array.from(src);
  }

  private err(message: string, at = this.pos): never {
    throw new GoRegexpSyntaxError(message, at);
  }

  private peek(offset = 0): string | undefined {
    return this.cps[this.pos + offset];
  }

  private startsWith(s: string): boolean {
    const parts = Array.from(s);
    return parts.every((c, i) => this.cps[this.pos + i] === c);
  }

  translate(initial: Flags): string {
    const js = this.parseGroupBody({ ...initial }, 0);
    if (this.pos < this.cps.length) this.err('unexpected )');
    return js;
  }

  /** Parses until `)` (not consumed) or end; flag groups mutate `flags` for the rest of the body. */
  private parseGroupBody(flags: Flags, depth: number): string {
    const alternatives: string[] = [];
    let items: Item[] = [];
    const flush = () => {
      alternatives.push(items.map((it) => it.js).join(''));
      items = [];
    };
    while (this.pos < this.cps.length) {
      const ch = this.peek()!;
      if (ch === ')') {
        if (depth === 0) this.err('unexpected )');
        break;
      }
      if (ch === '|') {
        this.pos++;
        flush();
        continue;
      }
      if (ch === '*' || ch === '+' || ch === '?' || (ch === '{' && this.repeatAhead())) {
        this.applyRepeat(items, flags);
        continue;
      }
      const produced = this.parseAtom(flags, depth);
      const last = items[items.length - 1];
      // Go resets its "previous token was a repeat" state after every token, flag groups included.
      if (last) last.repeat = false;
      items.push(...produced);
    }
    flush();
    return alternatives.join('|');
  }

  /** True when `{` at pos starts a valid Go repeat `{n}`, `{n,}` or `{n,m}`. */
  private repeatAhead(): boolean {
    return this.readRepeat(false) !== undefined;
  }

  private readRepeat(consume: boolean): { min: number; max: number | undefined; len: number } | undefined {
    let i = this.pos + 1;
    const readInt = (): number | undefined => {
      const start = i;
      while (isDigit(this.cps[i])) i++;
      if (i === start) return undefined;
      const digits = this.cps.slice(start, i).join('');
      if (digits.length >= 2 && digits[0] === '0') return undefined; // Go: leading zeros are not a number
      return Number(digits);
    };
    const min = readInt();
    if (min === undefined) return undefined;
    let max: number | undefined = min;
    if (this.cps[i] === ',') {
      i++;
      if (this.cps[i] === '}') max = undefined;
      else {
        max = readInt();
        if (max === undefined) return undefined;
      }
    }
    if (this.cps[i] !== '}') return undefined;
    i++;
    const result = { min, max, len: i - this.pos };
    if (consume) this.pos = i;
    return result;
  }

  private applyRepeat(items: Item[], flags: Flags): void {
    const start = this.pos;
    const ch = this.peek()!;
    let quant: string;
    if (ch === '{') {
      const r = this.readRepeat(true)!;
      if (r.min > MAX_REPEAT || (r.max !== undefined && (r.max > MAX_REPEAT || r.max < r.min))) {
        this.err(`invalid repeat count: ${this.cps.slice(start, this.pos).join('')}`, start);
      }
      quant = r.max === undefined ? `{${r.min},}` : r.max === r.min ? `{${r.min}}` : `{${r.min},${r.max}}`;
    } else {
      this.pos++;
      quant = ch;
    }
    let lazy = false;
    if (this.peek() === '?') {
      this.pos++;
      lazy = true;
    }
    const last = items[items.length - 1];
    if (last?.repeat) this.err(`invalid nested repetition operator: ${this.cps.slice(start, this.pos).join('')}`, start);
    if (!last) this.err(`missing argument to repetition operator: ${this.cps.slice(start, this.pos).join('')}`, start);
    if (flags.U) lazy = !lazy;
    const atom = last.assertion || last.quantified ? `(?:${last.js})` : last.js;
    items[items.length - 1] = { js: atom + quant + (lazy ? '?' : ''), assertion: false, repeat: true, quantified: true };
  }

  private literal(cp: number, flags: Flags): Item {
    if (flags.i) {
      const orbit = foldOrbit(cp);
      if (orbit.length > 1) {
        return { js: `[${rangesJs(normalizeRanges(orbit.map((c) => [c, c] as Range)))}]`, assertion: false, repeat: false };
      }
    }
    return { js: esc(cp), assertion: false, repeat: false };
  }

  private classItem(set: ClassSet, negate: boolean, flags: Flags): Item {
    const ranges = flags.i ? foldRanges(set.ranges) : normalizeRanges(set.ranges);
    return { js: `[${negate ? '^' : ''}${rangesJs(ranges)}${set.atoms.join('')}]`, assertion: false, repeat: false };
  }

  private parseAtom(flags: Flags, depth: number): Item[] {
    const start = this.pos;
    const ch = this.peek()!;
    switch (ch) {
      case '(':
        return [this.parseGroup(flags, depth)].filter((x): x is Item => x !== undefined);
      case '[':
        return [this.parseClass(flags)];
      case '.':
        this.pos++;
        return [{ js: flags.s ? '[\\x00-\\u{10ffff}]' : '[^\\n]', assertion: false, repeat: false }];
      case '^':
        this.pos++;
        return [{ js: flags.m ? '(?<![^\\n])' : '^', assertion: true, repeat: false }];
      case '$':
        this.pos++;
        return [{ js: flags.m ? '(?![^\\n])' : '$', assertion: true, repeat: false }];
      case '\\':
        return this.parseEscapeAtom(flags);
      default:
        this.pos++;
        void start;
        return [this.literal(ch.codePointAt(0)!, flags)];
    }
  }

  /** Returns undefined for a flags-only group `(?i)`, which produces no atom. */
  private parseGroup(flags: Flags, depth: number): Item | undefined {
    const start = this.pos;
    this.pos++; // (
    if (this.peek() !== '?') {
      const body = this.parseGroupBody({ ...flags }, depth + 1);
      this.expectClose(start);
      return { js: `(${body})`, assertion: false, repeat: false };
    }
    // (?P<name>re) and (?<name>re)
    if (this.startsWith('?P<') || (this.startsWith('?<') && this.peek(2) !== '=' && this.peek(2) !== '!')) {
      this.pos += this.peek(1) === 'P' ? 3 : 2;
      const nameStart = this.pos;
      while (this.pos < this.cps.length && this.peek() !== '>') this.pos++;
      if (this.pos >= this.cps.length) this.err(`invalid named capture: ${this.cps.slice(start).join('')}`, start);
      const name = this.cps.slice(nameStart, this.pos).join('');
      this.pos++; // >
      if (!/^[A-Za-z0-9_]+$/.test(name)) this.err(`invalid named capture: ${name}`, start);
      if (this.names.has(name)) this.err(`duplicate capture group name: ${name}`, start);
      this.names.add(name);
      const body = this.parseGroupBody({ ...flags }, depth + 1);
      this.expectClose(start);
      // Go names may start with a digit; JavaScript names may not, and we never need the name.
      return { js: `(${body})`, assertion: false, repeat: false };
    }
    // Flags: (?flags) or (?flags:re)
    this.pos++; // ?
    const next = { ...flags };
    let sign = true;
    let sawFlag = false;
    let sawMinus = false;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.err('missing closing )', start);
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        next[c] = sign;
        sawFlag = true;
        this.pos++;
        continue;
      }
      if (c === '-') {
        if (sawMinus) this.err(`invalid or unsupported Perl syntax: ${this.cps.slice(start, this.pos + 1).join('')}`, start);
        sawMinus = true;
        sign = false;
        sawFlag = false;
        this.pos++;
        continue;
      }
      if (c === ':' || c === ')') {
        if (!sawFlag && (sawMinus || c === ')')) {
          this.err(`invalid or unsupported Perl syntax: ${this.cps.slice(start, this.pos + 1).join('')}`, start);
        }
        this.pos++;
        if (c === ')') {
          Object.assign(flags, next);
          return undefined;
        }
        const body = this.parseGroupBody(next, depth + 1);
        this.expectClose(start);
        return { js: `(?:${body})`, assertion: false, repeat: false };
      }
      // (?= (?! (?<= (?<! (?# (?> …: Perl syntax Go does not support.
      this.err(`invalid or unsupported Perl syntax: ${this.cps.slice(start, this.pos + 1).join('')}`, start);
    }
  }

  private expectClose(start: number): void {
    if (this.peek() !== ')') this.err(`missing closing ): ${this.cps.slice(start).join('')}`, start);
    this.pos++;
  }

  private parseEscapeAtom(flags: Flags): Item[] {
    const start = this.pos;
    const c = this.peek(1);
    if (c === undefined) this.err('trailing backslash at end of expression', start);
    switch (c) {
      case 'A':
        this.pos += 2;
        return [{ js: '(?<![\\s\\S])', assertion: true, repeat: false }];
      case 'z':
        this.pos += 2;
        return [{ js: '(?![\\s\\S])', assertion: true, repeat: false }];
      case 'b':
        this.pos += 2;
        return [{ js: '\\b', assertion: true, repeat: false }];
      case 'B':
        this.pos += 2;
        return [{ js: '\\B', assertion: true, repeat: false }];
      case 'Q': {
        this.pos += 2;
        const items: Item[] = [];
        while (this.pos < this.cps.length && !this.startsWith('\\E')) {
          items.push(this.literal(this.peek()!.codePointAt(0)!, flags));
          this.pos++;
        }
        if (this.startsWith('\\E')) this.pos += 2;
        return items;
      }
      case 'p':
      case 'P':
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W': {
        const set: ClassSet = { ranges: [], atoms: [] };
        this.parseClassEscape(set);
        return [this.classItem(set, false, flags)];
      }
      default:
        return [this.literal(this.parseSimpleEscape(), flags)];
    }
  }

  /** Octal, hex, control and punctuation escapes (Go's parseEscape); pos is at the backslash. */
  private parseSimpleEscape(): number {
    const start = this.pos;
    this.pos++; // backslash
    const c = this.peek();
    if (c === undefined) this.err('trailing backslash at end of expression', start);
    this.pos++;
    const cp = c.codePointAt(0)!;
    if (c >= '1' && c <= '7' && !isOctal(this.peek())) {
      this.err(`invalid escape sequence: \\${c}`, start); // a back-reference; RE2 has none
    }
    if (c >= '0' && c <= '7') {
      let value = cp - 0x30;
      for (let i = 1; i < 3 && isOctal(this.peek()); i++) {
        value = value * 8 + (this.peek()!.codePointAt(0)! - 0x30);
        this.pos++;
      }
      return value;
    }
    switch (c) {
      case 'x': {
        if (this.peek() === '{') {
          this.pos++;
          const hexStart = this.pos;
          while (isHex(this.peek())) this.pos++;
          const hex = this.cps.slice(hexStart, this.pos).join('');
          if (this.peek() !== '}' || hex.length === 0) this.err(`invalid escape sequence: ${this.cps.slice(start, this.pos + 1).join('')}`, start);
          this.pos++;
          const value = parseInt(hex, 16);
          if (value > MAX_CP) this.err(`invalid escape sequence: ${this.cps.slice(start, this.pos).join('')}`, start);
          return value;
        }
        const h1 = this.peek();
        const h2 = this.peek(1);
        if (!isHex(h1) || !isHex(h2)) this.err(`invalid escape sequence: ${this.cps.slice(start, this.pos + 2).join('')}`, start);
        this.pos += 2;
        return parseInt(h1! + h2!, 16);
      }
      case 'a':
        return 0x07;
      case 'f':
        return 0x0c;
      case 'n':
        return 0x0a;
      case 'r':
        return 0x0d;
      case 't':
        return 0x09;
      case 'v':
        return 0x0b;
      default:
        if (cp < 0x80 && !isAsciiAlnum(cp)) return cp; // escaped punctuation is literal
        return this.err(`invalid escape sequence: \\${c}`, start);
    }
  }

  /** `\d \D \s \S \w \W \pX \p{Name} \PX \p{^Name}`; pos is at the backslash. */
  private parseClassEscape(set: ClassSet): void {
    const start = this.pos;
    const c = this.peek(1)!;
    this.pos += 2;
    const lower = c.toLowerCase();
    if (lower === 'd' || lower === 's' || lower === 'w') {
      const ranges = PERL_CLASSES[lower];
      set.ranges.push(...(c === lower ? ranges : complement(ranges)));
      return;
    }
    // \p / \P
    let negate = c === 'P';
    let name: string;
    if (this.peek() === '{') {
      const close = this.cps.indexOf('}', this.pos);
      if (close < 0) this.err(`invalid character class range: ${this.cps.slice(start).join('')}`, start);
      name = this.cps.slice(this.pos + 1, close).join('');
      this.pos = close + 1;
    } else {
      const n = this.peek();
      if (n === undefined) this.err(`invalid character class range: ${this.cps.slice(start).join('')}`, start);
      name = n;
      this.pos++;
    }
    if (name.startsWith('^')) {
      negate = !negate;
      name = name.slice(1);
    }
    if (name === 'Any') {
      if (!negate) set.ranges.push([0, MAX_CP]);
      return;
    }
    if (!/^[A-Za-z_]+$/.test(name)) this.err(`invalid character class range: ${this.cps.slice(start, this.pos).join('')}`, start);
    const prop = GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`;
    const atom = `\\${negate ? 'P' : 'p'}{${prop}}`;
    try {
      new RegExp(atom, 'u');
    } catch {
      this.err(`invalid character class range: ${this.cps.slice(start, this.pos).join('')}`, start);
    }
    set.atoms.push(atom);
  }

  private parseClass(flags: Flags): Item {
    const start = this.pos;
    this.pos++; // [
    let negate = false;
    if (this.peek() === '^') {
      negate = true;
      this.pos++;
    }
    const set: ClassSet = { ranges: [], atoms: [] };
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.err(`missing closing ]: ${this.cps.slice(start).join('')}`, start);
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      // POSIX class [:name:] / [:^name:]
      if (c === '[' && this.peek(1) === ':') {
        const close = this.findPosixClose();
        if (close >= 0) {
          let name = this.cps.slice(this.pos + 2, close).join('');
          const posixStart = this.pos;
          this.pos = close + 2;
          let neg = false;
          if (name.startsWith('^')) {
            neg = true;
            name = name.slice(1);
          }
          const ranges = POSIX_CLASSES[name];
          if (!ranges) this.err(`invalid character class range: ${this.cps.slice(posixStart, this.pos).join('')}`, posixStart);
          set.ranges.push(...(neg ? complement(ranges) : ranges));
          continue;
        }
      }
      if (c === '\\' && 'dDsSwWpP'.includes(this.peek(1) ?? '')) {
        this.parseClassEscape(set);
        continue;
      }
      const loStart = this.pos;
      const lo = this.parseClassChar();
      if (this.peek() === '-' && this.peek(1) !== undefined && this.peek(1) !== ']') {
        this.pos++; // -
        if (this.peek() === '\\' && 'dDsSwWpP'.includes(this.peek(1) ?? '')) {
          this.err(`invalid character class range: ${this.cps.slice(loStart, this.pos + 2).join('')}`, loStart);
        }
        const hi = this.parseClassChar();
        if (hi < lo) this.err(`invalid character class range: ${this.cps.slice(loStart, this.pos).join('')}`, loStart);
        set.ranges.push([lo, hi]);
      } else {
        set.ranges.push([lo, lo]);
      }
    }
    return this.classItem(set, negate, flags);
  }

  private findPosixClose(): number {
    for (let i = this.pos + 2; i < this.cps.length - 1; i++) {
      if (this.cps[i] === ':' && this.cps[i + 1] === ']') return i;
    }
    return -1;
  }

  private parseClassChar(): number {
    const c = this.peek()!;
    if (c === '\\') return this.parseSimpleEscape();
    this.pos++;
    return c.codePointAt(0)!;
  }
}

const cache = new Map<string, RegExp>();

/** Translates a Go regexp to a JavaScript pattern for `new RegExp(pattern, 'u')`. Throws GoRegexpSyntaxError. */
export function translateGoRegexp(pattern: string, options: GoRegexpOptions = {}): string {
  const flags: Flags = { i: options.ignoreCase === true, m: false, s: false, U: false };
  return new Translator(pattern).translate(flags);
}

/** Compiles a Go regexp into an equivalent JavaScript RegExp (unanchored `test`, like Go's MatchString). */
export function compileGoRegexp(pattern: string, options: GoRegexpOptions = {}): RegExp {
  const key = `${options.ignoreCase ? 'i' : '-'}:${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const js = translateGoRegexp(pattern, options);
  let re: RegExp;
  try {
    re = new RegExp(js, 'u');
  } catch (e) {
    throw new GoRegexpSyntaxError(`unsupported regular expression: ${(e as Error).message}`, 0);
  }
  if (cache.size > 2000) cache.clear();
  cache.set(key, re);
  return re;
}

/** Throws GoRegexpSyntaxError when Go's regexp.Compile would reject the pattern. */
export function checkGoRegexp(pattern: string): void {
  compileGoRegexp(pattern);
}

/** Go's regexp.QuoteMeta: escapes `\.+*?()|[]{}^$`. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, (c) => '\\' + c);
}
