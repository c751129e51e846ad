/**
 * The batches wire contract (TypeBox): route validation, the OpenAPI document and the server's
 * types come from these; the web app imports the types.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { BATCH_STATUSES, FILE_STATUSES } from './state.js';

const Id = Type.String({ format: 'uuid', maxLength: 36, description: 'UUID' });
const L = Type.Literal;
const Status = Type.Union([L('pending'), L('uploaded'), L('scattering'), L('scattered'), L('gathering'), L('gathered'), L('diagnosing'), L('completed'), L('failed')]);
const FileStatus = Type.Union([L('uploaded'), L('queued'), L('parsing'), L('parsed'), L('failed')]);
// The unions above spell out state.ts's lists; a change there without one here fails to compile.
const sameStatuses: [Static<typeof Status>[], Static<typeof FileStatus>[]] = [[...BATCH_STATUSES], [...FILE_STATUSES]];
void sameStatuses;
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const CreateBatchBody = Type.Object(
  {
    vehicle_id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f]+$', description: 'Vehicle (or device) identifier' }),
    vin: Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9-]+$', description: 'Vehicle identification number' }),
    expected_workers: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'Accepted for Argus clients; workers are shared, so it is informational' })),
    labels: Type.Optional(Type.Record(Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }), Type.String({ maxLength: 256 }), { maxProperties: 32 })),
  },
  { additionalProperties: false },
);
export type CreateBatchBody = Static<typeof CreateBatchBody>;

export const CreateBatchReply = Type.Object({ batch_id: Id, status: Status });

export const BatchParams = Type.Object({ id: Id }, { additionalProperties: false });
export const FileParams = Type.Object({ id: Id, fileId: Id }, { additionalProperties: false });

export const UploadQuery = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'File name for a raw (non-multipart) body' })) },
  { additionalProperties: false },
);

export const UploadReply = Type.Object({ file_id: Id, size: Type.Integer(), sha256: Type.String(), name: Type.String(), duplicate: Type.Boolean() });

export const MessageReply = Type.Object({ message: Type.String() });

export const Progress = Type.Object({
  batch_id: Id,
  status: Status,
  total_files: Type.Integer(),
  processed_files: Type.Integer(),
  failed_files: Type.Integer(),
  progress_percent: Type.Number(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  completed_at: Type.Optional(Type.String({ format: 'date-time' })),
});
export type ProgressT = Static<typeof Progress>;

export const BatchFile = Type.Object({
  file_id: Id,
  parent_id: Nullable(Type.String()),
  name: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  format: Nullable(Type.String()),
  status: FileStatus,
  error: Nullable(Type.String()),
  records: Type.Integer(),
  first_time: Nullable(Type.Number()),
  last_time: Nullable(Type.Number()),
  errors: Type.Integer(),
});
export type BatchFileT = Static<typeof BatchFile>;

export const BatchSummary = Type.Object({
  batch_id: Id,
  vehicle_id: Type.String(),
  vin: Type.String(),
  status: Status,
  labels: Type.Record(Type.String(), Type.String()),
  total_files: Type.Integer(),
  processed_files: Type.Integer(),
  failed_files: Type.Integer(),
  progress_percent: Type.Number(),
  error: Nullable(Type.String()),
  created_at: Type.Number(),
  updated_at: Type.Number(),
  completed_at: Nullable(Type.Number()),
});
export type BatchSummaryT = Static<typeof BatchSummary>;

export const BatchDetail = Type.Intersect([BatchSummary, Type.Object({ files: Type.Array(BatchFile) })]);
export type BatchDetailT = Static<typeof BatchDetail>;

export const ListQuery = Type.Object(
  {
    vehicle_id: Type.Optional(Type.String({ maxLength: 128 })),
    vin: Type.Optional(Type.String({ maxLength: 32 })),
    status: Type.Optional(Status),
    since: Type.Optional(Type.Integer({ minimum: 0, maximum: 8.64e15, description: 'Created at or after (epoch ms)' })),
    until: Type.Optional(Type.Integer({ minimum: 0, maximum: 8.64e15, description: 'Created before (epoch ms)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
  },
  { additionalProperties: false },
);

export const ListReply = Type.Object({ batches: Type.Array(BatchSummary), next_cursor: Nullable(Type.String()) });

export const RecordsQuery = Type.Object(
  {
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e12, default: 0, description: 'Matching records to skip' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    from_index: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e12, description: 'Start at this record index (jump to a finding)' })),
    ecu: Type.Optional(Type.String({ maxLength: 64 })),
    app: Type.Optional(Type.String({ maxLength: 64 })),
    ctx: Type.Optional(Type.String({ maxLength: 64 })),
    level: Type.Optional(Type.Union([L('fatal'), L('error'), L('warn'), L('info'), L('debug'), L('verbose')])),
    text: Type.Optional(Type.String({ maxLength: 512, description: 'Substring of the payload (case-insensitive)' })),
    regex: Type.Optional(Type.String({ maxLength: 512, description: 'RE2 pattern matched against the payload' })),
  },
  { additionalProperties: false },
);
export type RecordsQueryT = Static<typeof RecordsQuery>;

export const LogRecord = Type.Object({
  index: Type.Integer(),
  time: Nullable(Type.String()),
  timestamp: Nullable(Type.Number({ description: 'Sender uptime in seconds (DLT)' })),
  ecu: Nullable(Type.String()),
  app: Nullable(Type.String()),
  ctx: Nullable(Type.String()),
  type: Nullable(Type.String()),
  level: Nullable(Type.String()),
  payload: Type.String(),
});
export type LogRecordT = Static<typeof LogRecord>;

export const RecordsReply = Type.Object({
  records: Type.Array(LogRecord),
  next_offset: Nullable(Type.Integer()),
  scanned: Type.Integer({ description: 'Records read to answer' }),
});

export const RetryReply = Type.Object({ message: Type.String(), status: Status });
