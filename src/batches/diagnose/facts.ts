/**
 * Facts a diagnosis engineer looks for in vehicle logs, recognised in one message's text:
 * DTCs with their status byte, UDS negative responses, ECU resets, OTA campaign states and the
 * block counters of a flash download. The shapes are the ones ECU and OTA stacks commonly log
 * (`7F 34 72`, `NRC 0x72 for RequestDownload`, `DTC P0301 status 0x2F`, `TransferData block 17`).
 */
import { decodeDtcStatus, type DtcStatusBit } from './dtc.js';
import { nrcName, serviceName, UDS_SERVICES } from './uds.js';

export type Fact =
  | { kind: 'dtc'; code: string; status?: number; statusBits?: DtcStatusBit[]; confirmed: boolean }
  | { kind: 'uds_nrc'; sid: number; service: string; nrc: number; nrcName: string }
  | { kind: 'ecu_reset'; resetType?: string }
  | { kind: 'ota_state'; state: string }
  | { kind: 'flash_block'; block: number };

export type FactKind = Fact['kind'];

/** Where a fact was seen: enough to open the record in the log viewer. */
export interface Evidence {
  file: string;
  index: number;
  /** Epoch ms, when the record has a time. */
  time?: number;
  text: string;
}

export type LocatedFact = Fact & { at: Evidence };

const NEGATIVE_RESPONSE = /\b7F[\s:-]?([0-9A-F]{2})[\s:-]?([0-9A-F]{2})\b/gi;
const NRC_NAMED = /\bNRC\s*[:=]?\s*(?:0x)?([0-9A-F]{2})\b(?:.*?\b(?:SID|service)\s*[:=]?\s*(?:0x)?([0-9A-F]{2})\b)?/i;
const SID_BEFORE_NRC = /\b(?:SID|service)\s*[:=]?\s*(?:0x)?([0-9A-F]{2})\b.*?\bNRC\s*[:=]?\s*(?:0x)?([0-9A-F]{2})\b/i;
const DTC = /\b([PCBU][0-3][0-9A-F]{3})\b(?:[^\n]*?\bstatus\s*[:=]?\s*(?:0x)?([0-9A-F]{2})\b)?/g;
const RESET = /\b(?:ecu[\s_-]?reset|reset\s+(?:reason|cause)|rebooting|watchdog\s+reset)\b(?:\W+(?:type\s*[:=]?\s*)?(hard|soft|keyoffon|key[\s_-]?off[\s_-]?on|watchdog|power[\s_-]?on))?/i;
const OTA_STATE = /\b(?:ota|campaign|update|swdl)\b[^\n]*?\b(?:state|status)\s*(?:[:=]|->|changed to|to)\s*([A-Za-z_]+)/i;
const FLASH_BLOCK = /\b(?:transfer[\s_]?data|TD)\b[^\n]*?\b(?:block|bsc|seq(?:uence)?)\s*(?:counter)?\s*[:=#]?\s*(0x[0-9A-F]+|\d+)\b/i;

/** Facts in one message (usually zero or one; a hex dump may carry several negative responses). */
export function extractFacts(text: string): Fact[] {
  const out: Fact[] = [];
  if (text.length === 0) return out;
  extractNrcs(text, out);
  for (const m of text.matchAll(DTC)) {
    const code = m[1]!.toUpperCase();
    const status = m[2] !== undefined ? Number.parseInt(m[2], 16) : undefined;
    const statusBits = status !== undefined ? decodeDtcStatus(status) : undefined;
    out.push({ kind: 'dtc', code, status, statusBits, confirmed: status !== undefined ? (status & 0x08) !== 0 : /\bconfirmed\b/i.test(text) });
  }
  const reset = RESET.exec(text);
  if (reset) out.push({ kind: 'ecu_reset', resetType: reset[1]?.toLowerCase().replace(/[\s_-]/g, '') });
  const ota = OTA_STATE.exec(text);
  if (ota) out.push({ kind: 'ota_state', state: ota[1]!.toUpperCase() });
  const block = FLASH_BLOCK.exec(text);
  if (block) out.push({ kind: 'flash_block', block: Number.parseInt(block[1]!, block[1]!.toLowerCase().startsWith('0x') ? 16 : 10) });
  return out;
}

function extractNrcs(text: string, out: Fact[]): void {
  let found = false;
  for (const m of text.matchAll(NEGATIVE_RESPONSE)) {
    const sid = Number.parseInt(m[1]!, 16);
    const nrc = Number.parseInt(m[2]!, 16);
    // "7F" also starts ordinary hex data: only a known service id makes it a negative response.
    if (!(sid in UDS_SERVICES)) continue;
    out.push({ kind: 'uds_nrc', sid, service: serviceName(sid), nrc, nrcName: nrcName(nrc) });
    found = true;
  }
  if (found) return;
  const sidFirst = SID_BEFORE_NRC.exec(text);
  if (sidFirst) {
    const sid = Number.parseInt(sidFirst[1]!, 16);
    const nrc = Number.parseInt(sidFirst[2]!, 16);
    out.push({ kind: 'uds_nrc', sid, service: serviceName(sid), nrc, nrcName: nrcName(nrc) });
    return;
  }
  const named = NRC_NAMED.exec(text);
  if (named) {
    const nrc = Number.parseInt(named[1]!, 16);
    const sid = named[2] !== undefined ? Number.parseInt(named[2], 16) : serviceFromWords(text);
    out.push({ kind: 'uds_nrc', sid, service: sid >= 0 ? serviceName(sid) : 'unknown service', nrc, nrcName: nrcName(nrc) });
  }
}

/** A service named in words ("for RequestDownload"), or -1. */
function serviceFromWords(text: string): number {
  const lower = text.toLowerCase();
  for (const [sid, name] of Object.entries(UDS_SERVICES)) if (lower.includes(name.toLowerCase())) return Number(sid);
  return -1;
}
