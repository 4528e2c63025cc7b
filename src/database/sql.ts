import type { EntityManager } from 'typeorm';

/** TypeORM answers an UPDATE … RETURNING with `[rows, affectedCount]`; this returns the rows. */
export async function updateReturning<T>(m: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const [rows] = (await m.query(sql, params)) as [T[], number];
  return rows;
}
