import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN } from '../../support/service-process';
import { waitFor } from '../../support/wait-for';
import { onCleanup } from '../../support/cleanup';

/** The newest modification time of any file under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/**
 * A private copy of the built service (`dist/`), taken once the build has been still for a few
 * seconds and checked to load: every process of the suite runs this one build, even while
 * someone runs `nest build` again (which empties `dist/` first). The copy lives under `var/`
 * in the project, so that Node finds the project's node_modules from it; it is removed at the end.
 */
export async function snapshotBuild(): Promise<string> {
  const source = join(MAIN, '..');
  await waitFor(`a complete build in ${source}/ (run npx nest build)`, () => existsSync(MAIN) && Date.now() - newest(source) > 3_000, 120_000, 500);
  // `var/` is git-ignored: a fresh clone has none yet.
  mkdirSync('var', { recursive: true });
  const root = mkdtempSync(join('var', 'faults-dist-'));
  onCleanup(`build snapshot ${root}`, () => rmSync(root, { recursive: true, force: true }));
  const copy = join(root, 'dist');
  cpSync(source, copy, { recursive: true });
  const loads = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(`./${join(copy, 'bootstrap.js')}`)})`], { encoding: 'utf8' });
  if (loads.status !== 0) throw new Error(`the build in ${source}/ does not load (a build in progress?): ${loads.stderr.slice(0, 2000)}`);
  return join(copy, 'main.js');
}
