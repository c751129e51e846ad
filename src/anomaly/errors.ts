/**
 * Bad input at a boundary (a request field, a configuration key): `field` names it as the client
 * or operator spelled it. The HTTP layer answers it with a 400 naming the field; configuration
 * loading reports it under the config key.
 */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}
