/** WHERE conditions with numbered parameters, for repositories' listings: each `?` in a condition becomes the next `$n`. */
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
