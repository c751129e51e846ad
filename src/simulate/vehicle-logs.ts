/**
 * Demo vehicle log batches: DLT traces and syslog text of an OTA campaign, one vehicle per story —
 * a flash that fails with NRC 0x72, a security-access lockout with a reset loop, and a clean update —
 * so the Batches page shows completed reports with real findings at once. Deterministic per seed.
 */
import { encodeRecord, type EncodeArg } from '../batches/dlt/index.js';
import { Rng } from './random.js';

export interface DemoFile {
  name: string;
  data: Buffer;
}

export interface DemoVehicle {
  vehicle_id: string;
  vin: string;
  story: 'programming-failure' | 'security-lockout' | 'clean';
  files: DemoFile[];
}

const LOG = 0; // MSTP log
const LEVEL = { fatal: 1, error: 2, warn: 3, info: 4, debug: 5 } as const;

class DltWriter {
  private readonly parts: Buffer[] = [];
  private counter = 0;
  constructor(
    private readonly ecu: string,
    private t: number,
    private readonly rng: Rng,
  ) {}

  log(apid: string, ctid: string, level: keyof typeof LEVEL, ...args: (string | number)[]): void {
    this.t += 20 + Math.floor(this.rng.next() * 400);
    const enc: EncodeArg[] = args.map((a) => (typeof a === 'string' ? { type: 'string', value: a } : { type: 'int', signed: false, bits: 32, value: a }));
    this.parts.push(
      encodeRecord({
        seconds: Math.floor(this.t / 1000),
        microseconds: (this.t % 1000) * 1000,
        storageEcu: this.ecu,
        ecu: this.ecu,
        timestamp: (this.t % 100_000_000) * 10,
        counter: this.counter++ & 0xff,
        extended: { verbose: true, type: LOG, subtype: LEVEL[level], apid, ctid },
        args: enc,
      }),
    );
  }

  get time(): number {
    return this.t;
  }

  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function syslog(lines: [number, string, string, string][]): Buffer {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return Buffer.from(
    lines
      .map(([t, host, app, msg]) => {
        const d = new Date(t);
        const stamp = `${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)}`;
        return `${stamp} ${host} ${app}: ${msg}`;
      })
      .join('\n') + '\n',
  );
}

function background(w: DltWriter, rng: Rng, n: number): void {
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    if (r < 0.4) w.log('NAV', 'ROUT', 'info', 'route recalculated in', 80 + Math.floor(rng.next() * 200), 'ms');
    else if (r < 0.7) w.log('HMI', 'DISP', 'debug', 'frame rendered', Math.floor(rng.next() * 60));
    else if (r < 0.9) w.log('SYS', 'HBT', 'info', 'heartbeat', i);
    else w.log('CAN', 'BUS', 'warn', 'bus load high', 60 + Math.floor(rng.next() * 30), '%');
  }
}

function flash(w: DltWriter, blocks: number, failAt?: number): void {
  w.log('OTA', 'UDS', 'info', 'DiagnosticSessionControl programming session accepted');
  w.log('OTA', 'UDS', 'info', 'SecurityAccess unlocked');
  w.log('OTA', 'UDS', 'info', 'RequestDownload accepted, max block length', 4095);
  for (let b = 1; b <= blocks; b++) {
    if (b === failAt) {
      w.log('OTA', 'UDS', 'error', 'UDS rx 7F 36 72');
      w.log('OTA', 'UDS', 'error', 'TransferData failed at block', b, 'NRC 0x72 generalProgrammingFailure');
      return;
    }
    w.log('OTA', 'UDS', 'debug', 'TransferData block', b, 'ok');
  }
  w.log('OTA', 'UDS', 'info', 'RequestTransferExit accepted');
}

/** Three demo vehicles, starting at `start` (epoch ms). */
export function demoVehicles(seed: number, start: number): DemoVehicle[] {
  const rng = new Rng(seed);
  const vehicles: DemoVehicle[] = [];

  {
    const w = new DltWriter('TCU1', start, rng);
    background(w, rng, 400);
    w.log('OTA', 'CAMP', 'info', 'OTA campaign C-2026-11 state -> DOWNLOADING');
    w.log('OTA', 'CAMP', 'info', 'OTA campaign C-2026-11 state -> INSTALLING');
    flash(w, 40, 23);
    w.log('OTA', 'CAMP', 'error', 'download failed, retrying');
    flash(w, 40, 23);
    w.log('OTA', 'CAMP', 'error', 'download failed, retrying');
    w.log('OTA', 'CAMP', 'info', 'download attempt 3 started');
    flash(w, 40, 23);
    w.log('OTA', 'CAMP', 'fatal', 'OTA campaign C-2026-11 state -> INSTALL_FAILED');
    w.log('DIAG', 'DTC', 'warn', 'DTC U0100 status 0x2F stored');
    background(w, rng, 200);
    const gw = syslog([
      [start + 1000, 'gw', 'flashd', 'gateway routing to TCU1 enabled'],
      [w.time - 5000, 'gw', 'flashd', 'WARN voltage 11.4 V during programming'],
      [w.time - 1000, 'gw', 'flashd', 'ERROR TransferData to TCU1 aborted by ECU'],
    ]);
    vehicles.push({ vehicle_id: 'demo-car-01', vin: 'WVWZZZ1JZDEMO0001', story: 'programming-failure', files: [{ name: 'tcu.dlt', data: w.done() }, { name: 'gateway.log', data: gw }] });
  }

  {
    const w = new DltWriter('BCM1', start + 3_600_000, rng);
    background(w, rng, 300);
    w.log('OTA', 'CAMP', 'info', 'OTA campaign C-2026-11 state -> INSTALLING');
    w.log('OTA', 'UDS', 'info', 'DiagnosticSessionControl programming session accepted');
    for (let i = 0; i < 3; i++) {
      w.log('OTA', 'UDS', 'error', 'SecurityAccess rejected: UDS rx 7F 27 35');
      w.log('SYS', 'PWR', 'warn', 'ECU reset type: hard');
    }
    w.log('OTA', 'UDS', 'error', 'UDS rx 7F 27 36');
    w.log('OTA', 'CAMP', 'error', 'OTA campaign C-2026-11 state -> ROLLED_BACK');
    w.log('DIAG', 'DTC', 'warn', 'DTC B1342 status 0x09 confirmed');
    background(w, rng, 150);
    vehicles.push({ vehicle_id: 'demo-car-02', vin: 'WVWZZZ1JZDEMO0002', story: 'security-lockout', files: [{ name: 'bcm.dlt', data: w.done() }] });
  }

  {
    const w = new DltWriter('IVI1', start + 7_200_000, rng);
    background(w, rng, 500);
    w.log('OTA', 'CAMP', 'info', 'OTA campaign C-2026-11 state -> INSTALLING');
    flash(w, 30);
    w.log('OTA', 'CAMP', 'info', 'OTA campaign C-2026-11 state -> SUCCEEDED');
    background(w, rng, 200);
    vehicles.push({ vehicle_id: 'demo-car-03', vin: 'WVWZZZ1JZDEMO0003', story: 'clean', files: [{ name: 'ivi.dlt', data: w.done() }] });
  }
  return vehicles;
}
