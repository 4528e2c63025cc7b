import { bindHandlers } from './job-handlers';

const handler = async () => 'done';

describe('bindHandlers', () => {
  it('binds each name to its one handler', () => {
    const bound = bindHandlers(
      'job',
      ['a', 'b'],
      [
        { name: 'a', owner: 'A.run', handler },
        { name: 'b', owner: 'B.run', handler },
      ],
    );
    expect([...bound.keys()]).toEqual(['a', 'b']);
  });

  it('refuses a name without a handler, naming it', () => {
    expect(() => bindHandlers('job', ['a', 'b'], [{ name: 'a', owner: 'A.run', handler }])).toThrow('no handler for job "b"');
  });

  it('refuses a name with two handlers, naming both', () => {
    expect(() =>
      bindHandlers(
        'sweep',
        ['a'],
        [
          { name: 'a', owner: 'A.run', handler },
          { name: 'a', owner: 'B.run', handler },
        ],
      ),
    ).toThrow('sweep "a" has 2 handlers: A.run, B.run');
  });

  it('refuses a handler for a name that does not exist', () => {
    expect(() => bindHandlers('job', [], [{ name: 'x', owner: 'X.run', handler }])).toThrow('X.run handles unknown job "x"');
  });
});
