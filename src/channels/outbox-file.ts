import { randomUUID } from 'node:crypto';
import { link, mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Puts a message in the outbox folder whole or not at all. It is written aside, then linked into
 * place: link never overwrites and is atomic, so a reader (or a crash) never sees half a message,
 * and a rerun leaves the first file alone (`fresh` is then false).
 */
export async function writeOutboxFile(dir: string, name: string, content: string | Buffer): Promise<{ file: string; fresh: boolean }> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  const partial = join(dir, `.${name}.${randomUUID()}.partial`);
  await writeFile(partial, content);
  try {
    await link(partial, file);
    return { file, fresh: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { file, fresh: false };
  } finally {
    await unlink(partial).catch(() => undefined);
  }
}
