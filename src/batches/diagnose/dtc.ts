/**
 * Diagnostic trouble codes: the five-character SAE J2012 form (P/C/B/U + four hex digits) and
 * the ISO 14229-1 DTC status byte, whose bits say whether a fault is pending, confirmed, or
 * asks for the warning lamp.
 */

export const DTC_STATUS_BITS = [
  'testFailed',
  'testFailedThisOperationCycle',
  'pendingDTC',
  'confirmedDTC',
  'testNotCompletedSinceLastClear',
  'testFailedSinceLastClear',
  'testNotCompletedThisOperationCycle',
  'warningIndicatorRequested',
] as const;

export type DtcStatusBit = (typeof DTC_STATUS_BITS)[number];

/** Named bits set in a status byte, lowest bit first. */
export function decodeDtcStatus(status: number): DtcStatusBit[] {
  const out: DtcStatusBit[] = [];
  for (let bit = 0; bit < 8; bit++) if (status & (1 << bit)) out.push(DTC_STATUS_BITS[bit]!);
  return out;
}

const SYSTEMS = ['P', 'C', 'B', 'U'] as const;
export const DTC_SYSTEM_NAMES: Record<(typeof SYSTEMS)[number], string> = { P: 'powertrain', C: 'chassis', B: 'body', U: 'network' };

/**
 * The J2012 text of the two high bytes of a 3-byte UDS DTC (the third byte is the failure type):
 * bits 15–14 pick the system letter, 13–12 the first digit, the rest are three hex digits.
 */
export function dtcCodeFromBytes(high: number, low: number): string {
  const letter = SYSTEMS[(high >> 6) & 0x3]!;
  const first = (high >> 4) & 0x3;
  const rest = (((high & 0x0f) << 8) | low).toString(16).toUpperCase().padStart(3, '0');
  return `${letter}${first}${rest}`;
}

export function isDtcCode(text: string): boolean {
  return /^[PCBU][0-3][0-9A-F]{3}$/.test(text);
}
