import { EventEmitter } from 'node:events';
import { redisConnectionErrors, watchRedisErrors } from './connection-errors';

describe('watchRedisErrors', () => {
  it('keeps an error from ending the process, counts each one and logs a repeated one once', () => {
    const client = new EventEmitter();
    const lines: string[] = [];
    const logger = { warn: (line: string) => void lines.push(line) };
    const before = redisConnectionErrors.count;
    watchRedisErrors(client, 'steps queue', logger);

    for (const message of ['connect ECONNREFUSED 127.0.0.1:6379', 'connect ECONNREFUSED 127.0.0.1:6379', 'Connection is closed.']) {
      expect(() => client.emit('error', new Error(message))).not.toThrow();
    }
    expect(redisConnectionErrors.count - before).toBe(3);
    expect(lines).toEqual(['steps queue: connect ECONNREFUSED 127.0.0.1:6379; reconnecting', 'steps queue: Connection is closed.; reconnecting']);
  });
});
