import type { Response } from 'express';

export interface Download<T> {
  type: string;
  filename: string;
  /** Written once before the rows (a CSV header line). */
  head?: string;
  render(page: T[]): string;
  /**
   * Runs once every row is written, before the response ends; the client gets the end only after
   * it, and a broken download if it fails (and not at all when the client has gone).
   */
  complete?(): Promise<void>;
}

/**
 * Streams pages of rows as one file. The first page is read before any header goes out, so a
 * failing query still answers with an error body; a failure later cuts the response, so the
 * client sees a broken download rather than a short file that looks complete.
 */
export async function streamDownload<T>(res: Response, pages: AsyncIterator<T[]> | Iterator<T[]>, file: Download<T>): Promise<void> {
  let next = await pages.next();
  res.status(200).type(file.type).set('Content-Disposition', `attachment; filename="${file.filename}"`).set('Cache-Control', 'private, no-store');
  if (file.head) res.write(file.head);
  try {
    for (; !next.done; next = await pages.next()) res.write(file.render(next.value));
    if (file.complete) {
      if (res.destroyed) return;
      await file.complete();
    }
    res.end();
  } catch (error) {
    res.destroy(error as Error);
  }
}

/** Spreadsheets run a cell that starts with = + - @ as a formula (CWE-1236): such text gets a leading apostrophe. */
export const spreadsheetSafe = (value: unknown): unknown => (typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
