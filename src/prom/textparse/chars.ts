/**
 * Character codes and the character-class table of the exposition formats.
 *
 * Hot modules import this as a namespace and copy what they use into module-local `const`s.
 * An imported (or exported) binding is read through its module cell on every use, which the
 * optimiser cannot hoist out of the scanning loops; a module's own `const` it can. When the split
 * of issue 12 first imported these directly, the generated-payload benchmark lost 10–20 %.
 */
export const NL = 10;
export const CR = 13;
export const SP = 32;
export const TAB = 9;
export const HASH = 35;
export const QUOTE = 34;
export const BSLASH = 92;
export const LBRACE = 123;
export const RBRACE = 125;
export const COMMA = 44;
export const EQ = 61;

export const F_NAME_START = 1; // metric name first char [a-zA-Z_:]
export const F_NAME = 2; // metric name char [a-zA-Z0-9_:]
export const F_LABEL_START = 4; // label name first char [a-zA-Z_]
export const F_LABEL = 8; // label name char [a-zA-Z0-9_]
export const F_TOKEN_END = 16; // ends a value / timestamp token: SP TAB NL CR
export const CT = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const alpha = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  const digit = c >= 48 && c <= 57;
  if (alpha || c === 95 || c === 58) CT[c] |= F_NAME_START | F_NAME;
  if (digit) CT[c] |= F_NAME | F_LABEL;
  if (alpha || c === 95) CT[c] |= F_LABEL_START | F_LABEL;
}
CT[SP] |= F_TOKEN_END;
CT[TAB] |= F_TOKEN_END;
CT[NL] |= F_TOKEN_END;
CT[CR] |= F_TOKEN_END;
