/** The one error body every 4xx/5xx answers with. */
export interface ApiErrorBody {
  error: string;
  message: string;
  field?: string;
}

/** Throw from a handler to answer a 4xx naming the offending field. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, field?: string) => new HttpError(400, 'bad_request', message, field);
export const notFound = (message = 'not found') => new HttpError(404, 'not_found', message);
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);

export const ErrorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
  required: ['error', 'message'],
} as const;
