/**
 * Last-resort cleanup for suites that run servers of their own (the fault suites, the e2e runs
 * on a Redis Cluster or a standby): every child process, server and temp dir they make
 * registers a synchronous undo here. `afterAll` runs them in order (newest first); if the
 * Jest worker exits or is signalled before that, the exit handlers run whatever is left, so no
 * PostgreSQL cluster, Redis or service process outlives the run.
 */
type Undo = () => void;

const undos = new Map<number, { what: string; undo: Undo }>();
let next = 0;
let installed = false;

function runAll(): void {
  for (const [id, { what, undo }] of [...undos.entries()].reverse()) {
    undos.delete(id);
    try {
      undo();
    } catch (error) {
      console.error(`cleanup of ${what} failed: ${(error as Error).message}`);
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      runAll();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Registers a synchronous undo; returns the function that runs it now (once) and forgets it. */
export function onCleanup(what: string, undo: Undo): () => void {
  install();
  const id = next++;
  undos.set(id, { what, undo });
  return () => {
    const entry = undos.get(id);
    if (!entry) return;
    undos.delete(id);
    entry.undo();
  };
}

/** Runs every undo still registered (afterAll's safety net after the orderly shutdown). */
export function cleanupAll(): void {
  runAll();
}
