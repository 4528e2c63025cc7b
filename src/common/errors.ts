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

  /** The message leads with the field it is about ("amount: …"). */
  get namesField(): boolean {
    return this.details.some((detail) => this.message.startsWith(`${detail.field}: `));
  }

  /** The same refusal about part of a larger input: its fields named under `prefix` ("body.promise"). */
  within(prefix: string): DomainError {
    const details = this.details.map((detail) => ({ field: `${prefix}.${detail.field}`, reason: detail.reason }));
    return new DomainError(this.code, this.namesField ? `${prefix}.${this.message}` : this.message, details);
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

/** Socket errors and PostgreSQL's connection-exception class (08…) and shutdown codes (57P0…). */
const DEPENDENCY_DOWN = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|08...|57P0.)$/;

/** The error says PostgreSQL or Redis did not answer (down, restarting, connection lost), not that it refused the work. */
export function isDependencyDown(exception: unknown): boolean {
  const { code, message } = (exception ?? {}) as { code?: unknown; message?: unknown };
  return (
    (typeof code === 'string' && DEPENDENCY_DOWN.test(code)) ||
    (typeof message === 'string' && /timeout exceeded when trying to connect|Connection terminated/.test(message))
  );
}

/** PostgreSQL aborted the transaction for a conflict with another (deadlock, serialization failure): run again, it may succeed. */
export function isTransientConflict(exception: unknown): boolean {
  const { code } = (exception ?? {}) as { code?: unknown };
  return code === '40P01' || code === '40001';
}

/** A lock wait ran past the transaction's lock_timeout (lock_not_available). */
export function isLockWaitOver(exception: unknown): boolean {
  return (exception as { code?: unknown } | undefined)?.code === '55P03';
}
