/** Helpers over {@link Labels} (flat alternating name/value arrays). */
import type { Labels } from './types.js';

/** The label set of a sample without labels (shared, frozen). */
export const EMPTY_LABELS: Labels = Object.freeze([]) as Labels;

/** Value of label `name`, or undefined. */
export function getLabel(labels: Labels, name: string): string | undefined {
  for (let i = 0; i < labels.length; i += 2) if (labels[i] === name) return labels[i + 1];
  return undefined;
}

/** Labels as a plain object (safe for any label name, including `__proto__`). */
export function labelsToObject(labels: Labels): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < labels.length; i += 2) {
    const k = labels[i];
    if (k === '__proto__') Object.defineProperty(o, k, { value: labels[i + 1], enumerable: true, writable: true, configurable: true });
    else o[k] = labels[i + 1];
  }
  return o;
}
