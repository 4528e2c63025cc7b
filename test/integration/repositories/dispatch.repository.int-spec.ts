import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../../src/audit/audit.service';
import { DispatchRepository } from '../../../src/channels/dispatch.repository';
import { EmailAddressRepository } from '../../../src/channels/email/email-address.repository';
import { DELIVERY_STATUSES } from '../../../src/domain/delivery-status';
import { dispatchKey } from '../../../src/domain/dispatch-key';
import type { PolicyStep } from '../../../src/domain/policy';
import { StepRepository } from '../../../src/scheduling/step.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

const NO_ID = '00000000-0000-0000-0000-000000000000';
const later = (from: Date, ms: number) => new Date(from.getTime() + ms);
const MINUTE = 60_000;
const byAt = <T extends { at: Date }>(items: T[]): T[] => [...items].sort((a, b) => a.at.getTime() - b.at.getTime());

/** A dispatch row as stored: the columns no repository read returns (sent_at, provider_message_id, …). */
interface DispatchRow {
  caseId: string;
  stepId: string;
  channel: string;
  recipient: string;
  dedupeKey: string;
  status: string;
  messageId: string;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
  debtorId: string | null;
  providerMessageId: string | null;
  deliveryStatus: string | null;
  deliveredAt: Date | null;
}

describe('DispatchRepository', () => {
  let ctx: IntegrationContext;
  let sut: DispatchRepository;
  let steps: StepRepository;
  const at = new Date('2026-03-10T08:00:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('dispatch_repo');
    sut = ctx.get(DispatchRepository);
    steps = ctx.get(StepRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  const dispatchRow = async (id: string): Promise<DispatchRow | undefined> =>
    (
      await ctx.get(DataSource).query(
        `SELECT case_id AS "caseId", step_id AS "stepId", channel, recipient, dedupe_key AS "dedupeKey", status, message_id AS "messageId", attempts,
           last_error AS "lastError", created_at AS "createdAt", sent_at AS "sentAt", debtor_id AS "debtorId", provider_message_id AS "providerMessageId",
           delivery_status AS "deliveryStatus", delivered_at AS "deliveredAt"
         FROM dispatches WHERE id = $1`,
        [id],
      )
    )[0];
  const dispatchCount = async (stepId: string): Promise<number> =>
    (await ctx.get(DataSource).query('SELECT count(*)::int AS n FROM dispatches WHERE step_id = $1', [stepId]))[0].n;

  /** Adds a one-off notice step to a case (after its ladder); returns its id. */
  const addNotice = (caseId: string, channel: 'email' | 'sms' = 'email'): Promise<string> =>
    ctx.tx(async (tx) => {
      const id = randomUUID();
      const definition: PolicyStep = { at: 'PT0S', action: 'notice', channel, template: 'reminder-friendly' };
      await steps.insertRequested(tx, { id, caseId, definition, at, by: 'test' }, 1);
      return id;
    });
  const addLetter = (caseId: string): Promise<string> =>
    ctx.tx(async (tx) => {
      const id = randomUUID();
      const definition: PolicyStep = { at: 'PT0S', action: 'letter', letter: 'payment-demand', deliver: ['email'] };
      await steps.insertRequested(tx, { id, caseId, definition, at, by: 'test' }, 1);
      return id;
    });

  /** Claims a step's notice the way the notice action does: under the lock of lockForRun, in one transaction. */
  const claim = (stepId: string, recipient: string, options: { channel?: 'email' | 'sms'; at?: Date; since?: Date } = {}) =>
    ctx.tx(async (tx) => {
      const { channel = 'email', at: when = at, since = new Date(0) } = options;
      const step = (await steps.lockForRun(tx, stepId))!;
      const id = randomUUID();
      const claimed = await sut.claimNotice(
        tx,
        {
          id,
          caseId: step.caseId,
          stepId,
          channel,
          recipient,
          purpose: { kind: 'notice', channel, recipient },
          messageId: `<${id}@test>`,
          debtorId: step.debtor.id,
          at: when,
        },
        since,
      );
      return { ...claimed, newId: id, debtorId: step.debtor.id, caseId: step.caseId };
    });

  const stepOf = async (caseId: string, stepId: string) => (await steps.ofCase(caseId)).find((step) => step.id === stepId)!;

  it('claimNotice marks the step running (an attempt) and writes one dispatch, sending, under the notice dedupe key', async () => {
    const { caseId, stepIds, data } = await newCase(ctx, { policy: 'quick', segment: undefined });
    const stepId = stepIds[1]!;
    const recipient = data.debtor.email!.toUpperCase();
    const claimed = await claim(stepId, recipient);

    expect(claimed.dispatch).toEqual({ id: claimed.newId, status: 'sending', previous: null, messageId: `<${claimed.newId}@test>` });
    expect(claimed.contacts).toEqual([]);
    expect(await stepOf(caseId, stepId)).toMatchObject({ status: 'running', attempts: 1 });
    expect(await dispatchRow(claimed.newId)).toEqual({
      caseId,
      stepId,
      channel: 'email',
      recipient,
      dedupeKey: dispatchKey(stepId, { kind: 'notice', channel: 'email', recipient }),
      status: 'sending',
      messageId: `<${claimed.newId}@test>`,
      attempts: 1,
      lastError: null,
      createdAt: at,
      sentAt: null,
      debtorId: claimed.debtorId,
      providerMessageId: null,
      deliveryStatus: null,
      deliveredAt: null,
    });
    expect(await dispatchCount(stepId)).toBe(1);
  });

  it('a second claim of the same step and recipient finds the first row, whatever the case of the address, and counts an attempt on both', async () => {
    const { caseId, stepIds } = await newCase(ctx, { policy: 'quick', segment: undefined });
    const stepId = stepIds[1]!;
    const first = await claim(stepId, 'Rerun@Example.test');
    const second = await claim(stepId, 'rerun@example.TEST', { at: later(at, MINUTE) });

    // The first claim's send never recorded an outcome (a crash): the second claim says so.
    expect(second.dispatch).toEqual({ ...first.dispatch, previous: 'sending' });
    expect(await dispatchRow(second.newId)).toBeUndefined();
    expect(await dispatchRow(first.newId)).toMatchObject({ attempts: 2, status: 'sending', recipient: 'Rerun@Example.test', createdAt: at });
    expect(await stepOf(caseId, stepId)).toMatchObject({ status: 'running', attempts: 2 });

    // A failure noted for the retry is no doubt: the next claim finds it pending.
    await ctx.tx((tx) => sut.noteFailure(tx, stepId, '451 try later', false));
    expect((await claim(stepId, 'rerun@example.test')).dispatch).toEqual({ ...first.dispatch, previous: 'pending' });

    // Held in doubt for an operator; a failure noted after leaves it so, and the operator's retry claims it again.
    await ctx.tx((tx) => sut.markInDoubt(tx, first.newId));
    await ctx.tx((tx) => sut.noteFailure(tx, stepId, 'late failure', true));
    expect(await dispatchRow(first.newId)).toMatchObject({ status: 'in_doubt' });
    expect((await claim(stepId, 'rerun@example.test')).dispatch).toEqual({ ...first.dispatch, previous: 'in_doubt' });

    expect(await ctx.tx((tx) => sut.markSent(tx, first.newId, later(at, MINUTE)))).toBe(true);
    expect((await claim(stepId, 'rerun@example.test')).dispatch).toEqual({ ...first.dispatch, status: 'sent', previous: 'sent' });
    expect(await dispatchRow(first.newId)).toMatchObject({ attempts: 5, status: 'sent' });

    // Another recipient is another message.
    const other = await claim(stepId, 'someone-else@example.test');
    expect(other.dispatch.id).toBe(other.newId);
    expect(await dispatchCount(stepId)).toBe(2);
  });

  it("claimNotice returns the debtor's contacts since the given time, across cases, without the asking step's own and without failed ones", async () => {
    const debtor = { externalId: `DEB-${randomUUID()}`, phone: '+4915112345678' };
    const a = await newCase(ctx, { debtor });
    const b = await newCase(ctx, { debtor });
    const stranger = await newCase(ctx);
    const [s1, s2, s3] = [await addNotice(a.caseId), await addNotice(a.caseId), await addNotice(a.caseId)];
    const [b1, c1] = [await addNotice(b.caseId, 'sms'), await addNotice(stranger.caseId)];
    const [t1, t2, t3, t4] = [at, later(at, MINUTE), later(at, 2 * MINUTE), later(at, 3 * MINUTE)];

    expect((await claim(s1, 'ana@example.test', { at: t1 })).contacts).toEqual([]);
    expect((await claim(b1, '+4915112345678', { channel: 'sms', at: t2 })).contacts).toEqual([{ at: t1, channel: 'email' }]);
    expect((await claim(c1, 'bob@example.test', { at: t2 })).contacts).toEqual([]);
    expect(byAt((await claim(s2, 'ana@example.test', { at: t3 })).contacts)).toEqual([
      { at: t1, channel: 'email' },
      { at: t2, channel: 'sms' },
    ]);
    await ctx.tx((tx) => sut.noteFailure(tx, s2, 'mailbox full', true));

    // s1 asks again: not its own dispatch, not s2's failed one.
    expect((await claim(s1, 'ana@example.test', { at: t4 })).contacts).toEqual([{ at: t2, channel: 'sms' }]);
    expect(byAt((await claim(s3, 'ana@example.test', { at: t4, since: later(t1, -1) })).contacts)).toEqual([
      { at: t1, channel: 'email' },
      { at: t2, channel: 'sms' },
    ]);
    // Since is exclusive, and a rerun of s3 does not count s3's own dispatch.
    expect((await claim(s3, 'ana@example.test', { at: t4, since: t1 })).contacts).toEqual([{ at: t2, channel: 'sms' }]);
  });

  it("claims made together in one transaction each get their own dispatch; a debtor's second claim counts the first", async () => {
    const debtor = { externalId: `DEB-${randomUUID()}` };
    const a = await newCase(ctx, { debtor });
    const b = await newCase(ctx, { debtor });
    const stranger = await newCase(ctx);
    const [a1, b1, c1] = [await addNotice(a.caseId), await addNotice(b.caseId), await addNotice(stranger.caseId)];
    const claimed = await ctx.tx(async (tx) => {
      const locked = await Promise.all([a1, b1, c1].map((id) => steps.lockForRun(tx, id)));
      return Promise.all(
        locked.map((step, i) => {
          const id = randomUUID();
          const recipient = `r${i}@example.test`;
          return sut.claimNotice(
            tx,
            {
              id,
              caseId: step!.caseId,
              stepId: step!.id,
              channel: 'email',
              recipient,
              purpose: { kind: 'notice', channel: 'email', recipient },
              messageId: `<${id}@test>`,
              debtorId: step!.debtor.id,
              at: later(at, i * MINUTE),
            },
            new Date(0),
          );
        }),
      );
    });

    expect(claimed.map((claim) => claim.dispatch.status)).toEqual(['sending', 'sending', 'sending']);
    expect(new Set(claimed.map((claim) => claim.dispatch.id)).size).toBe(3);
    // a1 and c1 went in one statement; b1, of a1's debtor, in the next, which sees a1's dispatch.
    expect(claimed.map((claim) => claim.contacts)).toEqual([[], [{ at, channel: 'email' }], []]);
    for (const [i, stepId] of [a1, b1, c1].entries()) {
      expect(await dispatchRow(claimed[i]!.dispatch.id)).toMatchObject({ stepId, status: 'sending', recipient: `r${i}@example.test` });
      expect(await stepOf([a, b, stranger][i]!.caseId, stepId)).toMatchObject({ status: 'running', attempts: 1 });
    }
  });

  it("contactHistory reads the debtor's emails and SMS since the given time, other than the step's own, not failed, and not a guarantor's", async () => {
    const debtor = { externalId: `DEB-${randomUUID()}`, phone: '+4915112345678' };
    const { caseId } = await newCase(ctx, { debtor });
    const [notice, sms, failed, letter] = [await addNotice(caseId), await addNotice(caseId, 'sms'), await addNotice(caseId), await addLetter(caseId)];
    const { debtorId } = await claim(notice, 'ana@example.test', { at: later(at, MINUTE) });
    await claim(sms, '+4915112345678', { channel: 'sms', at: later(at, 2 * MINUTE) });
    await claim(failed, 'ana@example.test', { at: later(at, 3 * MINUTE) });
    await ctx.tx((tx) => sut.noteFailure(tx, failed, 'bounced', true));
    const letterEmail = (recipientId: string, toDebtor: boolean, when: Date) => {
      const id = randomUUID();
      return ctx.tx((tx) =>
        sut.insert(tx, {
          id,
          caseId,
          stepId: letter,
          channel: 'email',
          recipient: 'someone@example.test',
          purpose: { kind: 'letter-email', recipientId },
          messageId: `<${id}@test>`,
          debtorId: toDebtor ? debtorId : null,
          at: when,
        }),
      );
    };
    await letterEmail(debtorId, true, later(at, 4 * MINUTE));
    await letterEmail(randomUUID(), false, later(at, 5 * MINUTE));

    const history = (since: Date, stepId: string) => ctx.tx((tx) => sut.contactHistory(tx, debtorId, since, stepId));
    expect(byAt(await history(at, NO_ID))).toEqual([
      { at: later(at, MINUTE), channel: 'email' },
      { at: later(at, 2 * MINUTE), channel: 'sms' },
      { at: later(at, 4 * MINUTE), channel: 'email' },
    ]);
    expect(byAt(await history(at, notice))).toEqual([
      { at: later(at, 2 * MINUTE), channel: 'sms' },
      { at: later(at, 4 * MINUTE), channel: 'email' },
    ]);
    expect(await history(later(at, 2 * MINUTE), letter)).toEqual([]);
    expect(await ctx.tx((tx) => sut.contactHistory(tx, NO_ID, new Date(0), NO_ID))).toEqual([]);
  });

  it("contactHistory counts the outbound calls, visits, chats and emails people recorded on any of the debtor's cases, by when they started", async () => {
    const debtor = { externalId: `DEB-${randomUUID()}` };
    const first = await newCase(ctx, { debtor });
    const second = await newCase(ctx, { debtor });
    const recorded = (caseId: string, channel: string, direction: string, startedAt: Date) =>
      ctx.tx((tx) =>
        ctx.get(AuditService).record(tx, caseId, [
          {
            kind: 'contact.recorded',
            actor: 'collector-key',
            channel,
            data: { contactId: randomUUID(), channel, direction, party: 'debtor', startedAt: startedAt.toISOString() },
          },
        ]),
      );
    await recorded(first.caseId, 'call', 'outbound', later(at, MINUTE));
    await recorded(second.caseId, 'visit', 'outbound', later(at, 2 * MINUTE));
    await recorded(second.caseId, 'call', 'inbound', later(at, 3 * MINUTE));
    await recorded(second.caseId, 'letter', 'outbound', later(at, 4 * MINUTE));
    await recorded(first.caseId, 'call', 'outbound', later(at, -MINUTE));
    const debtorId: string = (await ctx.get(DataSource).query('SELECT debtor_id FROM cases WHERE id = $1', [first.caseId]))[0].debtor_id;
    expect(byAt(await ctx.tx((tx) => sut.contactHistory(tx, debtorId, at, NO_ID)))).toEqual([
      { at: later(at, MINUTE), channel: 'call' },
      { at: later(at, 2 * MINUTE), channel: 'visit' },
    ]);
  });

  it("insert writes a letter's email dispatch, pending with no attempt yet, once per letter recipient", async () => {
    const { caseId } = await newCase(ctx);
    const letter = await addLetter(caseId);
    const recipientId = randomUUID();
    const write = (id: string) =>
      ctx.tx((tx) =>
        sut.insert(tx, {
          id,
          caseId,
          stepId: letter,
          channel: 'email',
          recipient: 'Guarantor@Example.test',
          purpose: { kind: 'letter-email', recipientId },
          messageId: `<${id}@test>`,
          debtorId: null,
          at,
        }),
      );
    const id = randomUUID();
    await write(id);
    expect(await dispatchRow(id)).toEqual({
      caseId,
      stepId: letter,
      channel: 'email',
      recipient: 'Guarantor@Example.test',
      dedupeKey: dispatchKey(letter, { kind: 'letter-email', recipientId }),
      status: 'pending',
      messageId: `<${id}@test>`,
      attempts: 0,
      lastError: null,
      createdAt: at,
      sentAt: null,
      debtorId: null,
      providerMessageId: null,
      deliveryStatus: null,
      deliveredAt: null,
    });
    await expect(write(randomUUID())).rejects.toThrow(/duplicate key/);
    expect(await dispatchCount(letter)).toBe(1);
    // A letter email has no step status of its own to touch.
    expect(await stepOf(caseId, letter)).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it("startSend counts a letter email's attempt and marks it sending, saying what it was before; a sent one is left alone", async () => {
    const { caseId } = await newCase(ctx);
    const letter = await addLetter(caseId);
    const id = randomUUID();
    await ctx.tx((tx) =>
      sut.insert(tx, {
        id,
        caseId,
        stepId: letter,
        channel: 'email',
        recipient: 'ana@example.test',
        purpose: { kind: 'letter-email', recipientId: randomUUID() },
        messageId: `<${id}@test>`,
        debtorId: null,
        at,
      }),
    );
    expect(await sut.startSend(id)).toBe('pending');
    expect(await dispatchRow(id)).toMatchObject({ attempts: 1, status: 'sending' });
    // No outcome came back (a crash): the next start says so.
    expect(await sut.startSend(id)).toBe('sending');
    expect(await sut.startSend(NO_ID)).toBeUndefined();
    expect(await dispatchRow(id)).toMatchObject({ attempts: 2, status: 'sending' });
    await ctx.tx((tx) => sut.markSent(tx, id, at));
    expect(await sut.startSend(id)).toBeUndefined();
    expect(await dispatchRow(id)).toMatchObject({ attempts: 2, status: 'sent' });
  });

  it('markSent marks a dispatch sent and clears its error, once: marking it again changes nothing and says so', async () => {
    const { stepIds } = await newCase(ctx, { policy: 'quick', segment: undefined });
    const stepId = stepIds[1]!;
    const { dispatch } = await claim(stepId, 'ana@example.test');
    await ctx.tx((tx) => sut.noteFailure(tx, stepId, 'smtp timeout', false));
    expect(await dispatchRow(dispatch.id)).toMatchObject({ status: 'pending', lastError: 'smtp timeout' });

    expect(await ctx.tx((tx) => sut.markSent(tx, dispatch.id, later(at, MINUTE), 'provider-1'))).toBe(true);
    expect(await dispatchRow(dispatch.id)).toMatchObject({ status: 'sent', sentAt: later(at, MINUTE), lastError: null, providerMessageId: 'provider-1' });

    expect(await ctx.tx((tx) => sut.markSent(tx, dispatch.id, later(at, 2 * MINUTE), 'provider-2'))).toBe(false);
    expect(await dispatchRow(dispatch.id)).toMatchObject({ status: 'sent', sentAt: later(at, MINUTE), providerMessageId: 'provider-1' });
  });

  it("noteFailure notes the error on the step's unsent dispatch, failed when final and pending for a retry; a sent dispatch stays as it is", async () => {
    const { caseId } = await newCase(ctx);
    const [retried, sent, unclaimed] = [await addNotice(caseId), await addNotice(caseId), await addNotice(caseId)];
    const { dispatch } = await claim(retried, 'ana@example.test');

    expect(await ctx.tx((tx) => sut.noteFailure(tx, retried, 'smtp timeout', false))).toEqual({ id: dispatch.id, attempts: 1 });
    expect(await dispatchRow(dispatch.id)).toMatchObject({ status: 'pending', lastError: 'smtp timeout' });
    expect(await ctx.tx((tx) => sut.noteFailure(tx, retried, 'mailbox gone', true))).toEqual({ id: dispatch.id, attempts: 1 });
    expect(await dispatchRow(dispatch.id)).toMatchObject({ status: 'failed', lastError: 'mailbox gone' });

    const out = await claim(sent, 'ana@example.test');
    await ctx.tx((tx) => sut.markSent(tx, out.dispatch.id, at));
    expect(await ctx.tx((tx) => sut.noteFailure(tx, sent, 'late error', true))).toBeUndefined();
    expect(await dispatchRow(out.dispatch.id)).toMatchObject({ status: 'sent', lastError: null, sentAt: at });

    expect(await ctx.tx((tx) => sut.noteFailure(tx, unclaimed, 'no dispatch', true))).toBeUndefined();
  });

  it('caseOfSms names the case of an SMS dispatch only', async () => {
    const smsCase = await newCase(ctx, { segment: 'sms-once', debtor: { phone: '+4915112345678' } });
    expect((await steps.ofCase(smsCase.caseId))[0]!.definition).toMatchObject({ action: 'notice', channel: 'sms' });
    const sms = await claim(smsCase.stepIds[0]!, '+4915112345678', { channel: 'sms' });
    const emailCase = await newCase(ctx, { policy: 'quick', segment: undefined });
    const email = await claim(emailCase.stepIds[1]!, 'ana@example.test');

    await ctx.tx(async (tx) => {
      expect(await sut.caseOfSms(tx, sms.dispatch.id)).toBe(smsCase.caseId);
      expect(await sut.caseOfSms(tx, email.dispatch.id)).toBeUndefined();
      expect(await sut.caseOfSms(tx, NO_ID)).toBeUndefined();
    });
  });

  it('lockDelivery locks a dispatch and reads its case, step and delivery status; setDelivery records a receipt', async () => {
    const { caseId, stepIds } = await newCase(ctx, { segment: 'sms-once', debtor: { phone: '+4915112345678' } });
    const stepId = stepIds[0]!;
    const { dispatch } = await claim(stepId, '+4915112345678', { channel: 'sms' });
    await ctx.tx((tx) => sut.markSent(tx, dispatch.id, at, 'provider-sms-1'));
    const lockedElsewhere = async () => {
      try {
        await ctx.get(DataSource).query('SELECT 1 FROM dispatches WHERE id = $1 FOR UPDATE NOWAIT', [dispatch.id]);
        return false;
      } catch (error) {
        if (error instanceof Error && /could not obtain lock/.test(error.message)) return true;
        throw error;
      }
    };

    await ctx.tx(async (tx) => {
      expect(await sut.lockDelivery(tx, dispatch.id)).toEqual({ caseId, stepId, recipient: '+4915112345678', kind: 'notice', deliveryStatus: null });
      expect(await lockedElsewhere()).toBe(true);
      await sut.setDelivery(tx, dispatch.id, 'failed', later(at, MINUTE), null);
    });
    expect(await lockedElsewhere()).toBe(false);
    expect(await dispatchRow(dispatch.id)).toMatchObject({
      status: 'sent',
      deliveryStatus: 'failed',
      deliveredAt: later(at, MINUTE),
      providerMessageId: 'provider-sms-1',
    });

    await ctx.tx(async (tx) => {
      expect(await sut.lockDelivery(tx, dispatch.id)).toEqual({ caseId, stepId, recipient: '+4915112345678', kind: 'notice', deliveryStatus: 'failed' });
      await sut.setDelivery(tx, dispatch.id, 'delivered', later(at, 2 * MINUTE), 'provider-sms-2');
    });
    expect(await dispatchRow(dispatch.id)).toMatchObject({
      deliveryStatus: 'delivered',
      deliveredAt: later(at, 2 * MINUTE),
      providerMessageId: 'provider-sms-2',
    });
    expect(await ctx.tx((tx) => sut.lockDelivery(tx, dispatch.id))).toEqual({
      caseId,
      stepId,
      recipient: '+4915112345678',
      kind: 'notice',
      deliveryStatus: 'delivered',
    });
    expect(await ctx.tx((tx) => sut.lockDelivery(tx, NO_ID))).toBeUndefined();
  });

  it('emailByMessageId finds an email dispatch by the Message-ID sent, and no SMS; every delivery status the model knows is stored', async () => {
    const { caseId, stepIds } = await newCase(ctx, { policy: 'quick', segment: undefined });
    const email = await claim(stepIds[1]!, 'ana@example.test');
    const smsCase = await newCase(ctx, { segment: 'sms-once', debtor: { phone: '+4915112345679' } });
    const sms = await claim(smsCase.stepIds[0]!, '+4915112345679', { channel: 'sms' });
    await ctx.tx(async (tx) => {
      expect(await sut.emailByMessageId(tx, email.dispatch.messageId)).toEqual({ id: email.dispatch.id, caseId });
      expect(await sut.emailByMessageId(tx, sms.dispatch.messageId)).toBeUndefined();
      expect(await sut.emailByMessageId(tx, '<nobody@test>')).toBeUndefined();
    });
    for (const status of DELIVERY_STATUSES) {
      await ctx.tx((tx) => sut.setDelivery(tx, email.dispatch.id, status, at, null));
      expect(await dispatchRow(email.dispatch.id)).toMatchObject({ deliveryStatus: status });
    }
  });

  it('the address of a bounce is marked by its hash, first mark standing; the table holds no address', async () => {
    const addresses = ctx.get(EmailAddressRepository);
    const { stepIds } = await newCase(ctx, { policy: 'quick', segment: undefined });
    const { dispatch } = await claim(stepIds[1]!, 'bounce-me@example.test');
    await ctx.tx(async (tx) => {
      expect(await addresses.statusOf(tx, 'bounce-me@example.test')).toBeNull();
      await addresses.mark(tx, 'bounce-me@example.test', 'undeliverable', at, dispatch.id, 'ses');
      await addresses.mark(tx, 'BOUNCE-ME@example.test ', 'complained', later(at, MINUTE), dispatch.id, 'sendgrid');
    });
    // Asked together (as claims sharing a transaction ask), each gets its own answer.
    const answers = await ctx.tx((tx) =>
      Promise.all(['other@example.test', ' Bounce-Me@Example.test', 'bounce-me@example.test'].map((address) => addresses.statusOf(tx, address))),
    );
    expect(answers).toEqual([null, 'undeliverable', 'undeliverable']);
    const rows = await ctx.get(DataSource).query(`SELECT * FROM email_address_status WHERE dispatch_id = $1`, [dispatch.id]);
    expect(rows).toEqual([expect.objectContaining({ status: 'undeliverable', source: 'ses', since: at })]);
    expect(JSON.stringify(rows)).not.toContain('bounce-me');
  });
});
