import { EventEmitter } from 'node:events';
import { stopWithParent } from './worker-processes';

/** A process as a worker process sees itself: started by a parent (or not), its IPC channel open (or closed). */
function self(options: { startedByParent: boolean; connected: boolean }) {
  const emitter = new EventEmitter();
  return Object.assign(emitter, {
    env: options.startedByParent ? { WORKER_PROCESS_OF: '4242' } : {},
    send: () => true,
    connected: options.connected,
  }) as unknown as Parameters<typeof stopWithParent>[1] & EventEmitter;
}

describe('stopWithParent', () => {
  it('stops when the channel to the parent closes', () => {
    const worker = self({ startedByParent: true, connected: true });
    let stopped = 0;
    stopWithParent(() => stopped++, worker);
    expect(stopped).toBe(0);
    worker.emit('disconnect');
    expect(stopped).toBe(1);
  });

  it('stops at once when the parent went while the worker was still booting', () => {
    let stopped = 0;
    stopWithParent(() => stopped++, self({ startedByParent: true, connected: false }));
    expect(stopped).toBe(1);
  });

  it('does nothing in a process no parent started', () => {
    const worker = self({ startedByParent: false, connected: false });
    let stopped = 0;
    stopWithParent(() => stopped++, worker);
    worker.emit('disconnect');
    expect(stopped).toBe(0);
  });
});
