/** Domain errors carry a stable code; the HTTP filter maps codes to statuses. */
export type DomainErrorCode = 'validation' | 'not_found' | 'conflict' | 'unprocessable';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: { field: string; reason: string }[] = [],
  ) {
    super(message);
  }
}

export class ValidationFailed extends DomainError {
  constructor(details: { field: string; reason: string }[]) {
    super('validation', details.map((detail) => `${detail.field}: ${detail.reason}`).join('; '), details);
  }
}

export class NotFound extends DomainError {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${id} not found`);
  }
}
