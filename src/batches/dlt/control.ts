/**
 * Control messages (MSTP control): service ids, their names and response status codes.
 * dlt-convert names only the services 0x01..0x14; the others (0xF01.. vendor and user
 * services) it prints as `service(<decimal id>)`. The typed record names them all.
 */

const CLASSIC_SERVICES = [
  '',
  'set_log_level',
  'set_trace_status',
  'get_log_info',
  'get_default_log_level',
  'store_config',
  'reset_to_factory_default',
  'set_com_interface_status',
  'set_com_interface_max_bandwidth',
  'set_verbose_mode',
  'set_message_filtering',
  'set_timing_packets',
  'get_local_time',
  'use_ecu_id',
  'use_session_id',
  'use_timestamp',
  'use_extended_header',
  'set_default_log_level',
  'set_default_trace_status',
  'get_software_version',
  'message_buffer_overflow',
];

/** One past the last service id dlt-convert names. */
export const CLASSIC_SERVICE_END = CLASSIC_SERVICES.length;

const EXTENDED_SERVICES: Record<number, string> = {
  0xf01: 'unregister_context',
  0xf02: 'connection_info',
  0xf03: 'timezone',
  0xf04: 'marker',
  0xf05: 'offline_logstorage',
  0xf06: 'passive_node_connect',
  0xf07: 'passive_node_connection_status',
  0xf08: 'set_all_log_level',
  0xf09: 'set_all_trace_status',
  0xf0b: 'reserved',
};

/** Status names of a control response; indices 5..7 are unnamed. */
const RESPONSE_STATUS = ['ok', 'not_supported', 'error', 'perm_denied', 'warning', '', '', '', 'no_matching_context_id'];

/** Name of a control service id, or undefined when the id is not a known service. */
export function serviceName(id: number): string | undefined {
  if (id > 0 && id < CLASSIC_SERVICE_END) return CLASSIC_SERVICES[id];
  return EXTENDED_SERVICES[id];
}

/** The service name dlt-convert prints, or undefined when it prints `service(<id>)`. */
export function classicServiceName(id: number): string | undefined {
  return id > 0 && id < CLASSIC_SERVICE_END ? CLASSIC_SERVICES[id] : undefined;
}

/** Status text of a control response byte: its name, or two hex digits for unnamed codes. */
export function responseStatusText(status: number): string {
  const name = status < 5 || status === 8 ? RESPONSE_STATUS[status] : undefined;
  return name ?? status.toString(16).padStart(2, '0');
}

export type ControlInfo = {
  serviceId: number;
  service?: string;
  /** Response status (responses only) as its name or two hex digits. */
  status?: string;
  /** Bytes after the service id (and the status byte of a response). */
  data: Buffer;
};
