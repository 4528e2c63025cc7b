import { nextState } from './touch-watermark';

describe('nextState', () => {
  const state = { watermark: '100', pendingLimit: '150', pendingXid: '9000' };
  const read = { settled: true, full: false, lastId: undefined, sequence: '180', xid: '9100' };

  it('moves past the pending sequence value once settled, and reads the next one', () => {
    expect(nextState(state, read)).toEqual({ watermark: '150', pendingLimit: '180', pendingXid: '9100' });
  });

  it('stays while a transaction open at the pending read may still add a lower touch', () => {
    expect(nextState(state, { ...read, settled: false })).toBe(state);
  });

  it('goes only to the last scored touch while a full batch says more are waiting below the pending value', () => {
    expect(nextState(state, { ...read, full: true, lastId: '120' })).toEqual({ ...state, watermark: '120' });
    expect(nextState(state, { ...read, full: true, lastId: '170' })).toEqual({ watermark: '150', pendingLimit: '180', pendingXid: '9100' });
  });

  it('never moves back', () => {
    expect(nextState({ watermark: '200', pendingLimit: '150', pendingXid: '9000' }, read)).toEqual({
      watermark: '200',
      pendingLimit: '180',
      pendingXid: '9100',
    });
  });
});
