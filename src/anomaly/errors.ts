/** Bad input at a boundary. Upstream maps it to HTTP 400 with `{ error: message, field }`. */
export class ValidationError extends Error {
  readonly statusCode = 400;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}
