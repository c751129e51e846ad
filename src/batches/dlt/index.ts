/**
 * DLT v1 decoding (pure: no I/O). Streaming use, constant memory whatever the file size:
 *
 *   const dec = new DltDecoder({ onIssue: (i) => problems.push(i) });  // garbage, bad-length, truncated
 *   for await (const chunk of stream) for (const r of dec.push(chunk)) aggregate(r);
 *   for (const r of dec.end()) aggregate(r);                            // a truncated last record comes here
 *
 * A DltRecord has its header fields decoded (time, ecu, apid, ctid, level, counter, timestamp, …);
 * `args` (typed arguments) and `text` (payload as dlt-convert prints it) are decoded on first
 * access. Records point into the pushed chunk: `detach()` the ones you keep. `renderAsciiLine` /
 * `renderHeaderLine` write `dlt-convert -a` / `-s` lines into a TextSink.
 */
export { DltDecoder, decodeDltStream, decodeDltBuffer, type DltIssue, type DltDecoderOptions } from './decoder.js';
export { DltRecord, type DltLogLevel } from './record.js';
export { decodeArguments, type DltArgument } from './arguments.js';
export { serviceName, responseStatusText, type ControlInfo } from './control.js';
export { TextSink, renderAsciiLine, renderHeaderLine, renderHeader, renderPayload, renderPayloadText, DLT_CONVERT_TEXT_SIZE, type PayloadStyle } from './render.js';
export { encodeRecord, encodeArgs, type EncodeArg, type EncodeRecord } from './encode.js';
export { MAX_RECORD_SIZE, MESSAGE_TYPE_NAMES, subtypeName } from './headers.js';
