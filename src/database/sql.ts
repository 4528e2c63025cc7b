import type { EntityManager } from 'typeorm';

/** TypeORM answers an UPDATE … RETURNING with `[rows, affectedCount]`; this returns the rows. */
export async function updateReturning<T>(m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const [rows] = (await m.query(sql, params)) as [T[], number];
  return rows;
}

/** WHERE conditions with numbered parameters: each `?` in a condition becomes the next `$n`. */
export class Conditions {
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];

  add(sql: string, ...values: unknown[]): this {
    this.conditions.push(sql.replace(/\?/g, () => this.param(values.shift())));
    return this;
  }

  /** Binds a value without a condition (for use inside one), returning its `$n`. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  get where(): string {
    return this.conditions.length ? `WHERE ${this.conditions.join(' AND ')}` : '';
  }
}
