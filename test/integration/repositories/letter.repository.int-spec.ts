import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DispatchRepository } from '../../../src/channels/dispatch.repository';
import type { LetterFields, LetterType } from '../../../src/domain/letter-fields';
import { newLetterFields } from '../../../src/letters/letter-fields.fixture';
import { LetterRequests } from '../../../src/letters/letter-requests.service';
import { LetterRepository, type NewLetter } from '../../../src/letters/letter.repository';
import type { LetterStep } from '../../../src/letters/letters.service';
import { StepRepository } from '../../../src/scheduling/step.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

const address = { line1: 'Hauptstr. 1', city: 'Berlin', country: 'DE' };
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const letterStep = (letter: LetterType = 'payment-demand', deliver: ('email' | 'post')[] = ['email', 'post']): LetterStep => ({
  at: 'PT0S',
  action: 'letter',
  letter,
  deliver,
});
const time = (value: unknown) => (value === null || value === undefined ? value : new Date(value as string).toISOString());

describe('LetterRepository', () => {
  let ctx: IntegrationContext;
  let sut: LetterRepository;
  const at = new Date('2026-03-10T08:00:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('letter_repo');
    sut = ctx.get(LetterRepository);
    ctx.setNow(at);
  });
  afterAll(() => ctx.close());

  /** A case on the quiet policy whose debtor has an email and a postal address. */
  const openCase = (overrides: Parameters<typeof newCase>[1] = {}) => newCase(ctx, { ...overrides, debtor: { address, ...overrides.debtor } });

  /** A case with a letter issued the way an operator asks for one (numbered, rendered, stored in the request). */
  async function issued(step: LetterStep = letterStep(), overrides: Parameters<typeof newCase>[1] = {}) {
    const opened = await openCase(overrides);
    const request = await ctx.get(LetterRequests).request(opened.caseId, step, 'operator');
    return { ...opened, ...request, letter: request.letters[0]! };
  }

  /** A letter written straight through insert, with a small PDF of its own. */
  function newLetter(caseId: string, stepId: string, overrides: Partial<NewLetter> = {}): NewLetter {
    const id = randomUUID();
    const letter: NewLetter = {
      id,
      caseId,
      stepId,
      number: `T-${id}`,
      type: 'payment-demand',
      recipient: { role: 'debtor', id: randomUUID(), name: 'Ana Debtor', email: 'ana@example.test', address: null },
      locale: 'en',
      templateKey: 'letters/payment-demand/en',
      templateVersion: 'test',
      fields: newLetterFields(),
      pdf: Buffer.from(`%PDF-1.7 test letter ${id}`),
      sha256: '',
      deliver: ['email'],
      emailStatus: 'sent',
      emailDispatchId: null,
      postStatus: null,
      at,
      by: 'test',
      ...overrides,
    };
    return { ...letter, sha256: sha256(letter.pdf) };
  }

  const insert = async (letter: NewLetter) => {
    await ctx.tx((tx) => sut.insert(tx, letter));
    return letter;
  };

  /** Whether another connection finds the letter row locked (NOWAIT answers at once instead of waiting). */
  async function lockedElsewhere(id: string): Promise<boolean> {
    try {
      await ctx.get(DataSource).query('SELECT id FROM letters WHERE id = $1 FOR UPDATE NOWAIT', [id]);
      return false;
    } catch (error) {
      if ((error as { code?: string }).code === '55P03') return true;
      throw error;
    }
  }

  it('ofStep lists the letters a step issued, with their delivery state and the email dispatch', async () => {
    const { stepId, letter, data } = await issued();
    const rows = await ctx.tx((tx) => sut.ofStep(tx, stepId));
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({
      id: letter.id,
      number: letter.number,
      type: 'payment-demand',
      recipientRole: 'debtor',
      recipientId: letter.recipient.id,
      recipientName: data.debtor.name,
      recipientEmail: data.debtor.email,
      locale: 'en',
      templateKey: 'letters/payment-demand/en',
      sha256: letter.sha256,
      emailStatus: 'pending',
      postStatus: 'queued',
      dispatchStatus: 'pending',
    });
    expect(row.emailDispatchId).toEqual(expect.any(String));
    expect(row.messageId).toContain(row.emailDispatchId!);
    expect(await ctx.tx((tx) => sut.ofStep(tx, randomUUID()))).toEqual([]);
  });

  it('ofStep orders a step’s letters by number', async () => {
    const { caseId, stepIds } = await openCase();
    const [b, a] = [newLetter(caseId, stepIds[0]!, { number: `B-${randomUUID()}` }), newLetter(caseId, stepIds[0]!, { number: `A-${randomUUID()}` })];
    await insert(b);
    await insert(a);
    const rows = await ctx.tx((tx) => sut.ofStep(tx, stepIds[0]!));
    expect(rows.map((row) => row.id)).toEqual([a.id, b.id]);
    expect(rows[0]).toMatchObject({ emailStatus: 'sent', postStatus: null, emailDispatchId: null, dispatchStatus: null, messageId: null });
  });

  it('nextNumber draws increasing numbers, and the letters issued afterwards take later ones', async () => {
    const [first, second] = await ctx.tx(async (tx) => [await sut.nextNumber(tx), await sut.nextNumber(tx)]);
    expect(Number.isInteger(first)).toBe(true);
    expect(second).toBeGreaterThan(first);
    const third = await ctx.tx((tx) => sut.nextNumber(tx));
    expect(third).toBeGreaterThan(second);
    const { letter } = await issued();
    expect(letter.number).toMatch(/^L-2026-\d{6}$/);
    expect(Number(letter.number.slice('L-2026-'.length))).toBeGreaterThan(third);
  });

  it('insert stores a letter with its exact bytes; the same number cannot be issued twice', async () => {
    const { caseId, stepIds } = await openCase();
    const letter = await insert(
      newLetter(caseId, stepIds[0]!, {
        type: 'document-request',
        recipient: { role: 'debtor', id: randomUUID(), name: 'Bo Debtor', email: null, address },
        deliver: ['post'],
        emailStatus: null,
        postStatus: 'queued',
        fields: newLetterFields({ type: 'document-request', documents: ['ID card'] }),
      }),
    );
    expect(await sut.pdf(letter.id)).toEqual({ number: letter.number, sha256: letter.sha256, pdf: letter.pdf });
    expect(await sut.get(letter.id)).toMatchObject({
      id: letter.id,
      caseId,
      stepId: stepIds[0],
      number: letter.number,
      type: 'document-request',
      recipient: { role: 'debtor', id: letter.recipient.id, name: 'Bo Debtor', email: null, address },
      size: letter.pdf.length,
      deliver: ['post'],
      deliveries: { email: null, post: { status: 'queued', carrier: null, trackingNumber: null } },
      issuedBy: 'test',
      fields: { type: 'document-request', documents: ['ID card'] },
    });
    await expect(insert({ ...letter, id: randomUUID(), recipient: { ...letter.recipient, id: randomUUID() } })).rejects.toThrow(/duplicate key/);
    expect((await ctx.tx((tx) => sut.ofStep(tx, stepIds[0]!))).map((row) => row.id)).toEqual([letter.id]);
  });

  it('forEmail reads the bytes, the delivery state, the routes the letter states and the debtor’s unsubscribe token', async () => {
    const { letter, stepIds, data } = await issued();
    const row = (await sut.forEmail(letter.id))!;
    const { fields } = (await sut.get(letter.id)) as unknown as { fields: LetterFields };
    expect(row.payment).toEqual(fields.payment);
    expect(row.payment?.reference).toBe(data.invoice.externalId);
    expect(row.dispute).toEqual(fields.dispute);
    expect(row.invoiceRef).toBe(data.invoice.externalId);
    const debtor = (await ctx.tx((tx) => ctx.get(StepRepository).lockForRun(tx, stepIds[0]!)))!.debtor;
    expect(row).toMatchObject({ id: letter.id, number: letter.number, emailStatus: 'pending', postStatus: 'queued', dispatchStatus: 'pending' });
    expect(Buffer.isBuffer(row.pdf)).toBe(true);
    expect(row.pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(sha256(row.pdf)).toBe(letter.sha256);
    expect(row.unsubscribeToken).toBe(debtor.unsubscribeToken);
    expect(row.unsubscribeToken).toEqual(expect.any(String));
    expect(await sut.forEmail(randomUUID())).toBeUndefined();
  });

  it('forEmail gives a guarantor’s letter no unsubscribe token; a step’s guarantor letters come by number', async () => {
    const guarantors = [
      { externalId: 'G-1', name: 'Gus Guarantor', email: 'gus@example.test', guaranteeType: 'general' as const },
      { externalId: 'G-2', name: 'Gia Guarantor', email: 'gia@example.test', guaranteeType: 'joint' as const },
    ];
    const { stepId, letters } = await issued(letterStep('guarantor-notice', ['email']), { guarantors });
    expect(letters).toHaveLength(2);
    const rows = await ctx.tx((tx) => sut.ofStep(tx, stepId));
    expect(rows.map((row) => row.number)).toEqual(letters.map((letter) => letter.number).sort());
    for (const letter of letters) {
      const row = (await sut.forEmail(letter.id))!;
      expect(row).toMatchObject({ recipientRole: 'guarantor', recipientId: letter.recipient.id, emailStatus: 'pending', postStatus: null });
      expect(row.unsubscribeToken).toBeNull();
      expect(sha256(row.pdf)).toBe(letter.sha256);
    }
  });

  it('forEmail reads how to pay and to dispute from the fields the letter stored, not from the settings of today', async () => {
    const { caseId, stepIds } = await openCase();
    const payment = {
      payee: 'Stored Payee Ltd',
      bank: 'Stored Bank',
      account: 'DE89370400440532013000',
      link: 'https://pay.example.test/INV-1',
      reference: 'INV-1',
    };
    const dispute = { email: 'objections@example.test', phone: '+49 30 000000', url: 'https://example.test/dispute' };
    const stored = await insert(newLetter(caseId, stepIds[0]!, { fields: newLetterFields({ payment, dispute }) }));
    const bare = await insert(
      newLetter(caseId, stepIds[0]!, {
        fields: newLetterFields({
          payment: { payee: 'Payee', bank: null, account: null, link: null, reference: 'INV-2' },
          dispute: { email: null, phone: null, url: null },
        }),
      }),
    );

    expect(await sut.forEmail(stored.id)).toMatchObject({ id: stored.id, number: stored.number, payment, dispute });
    expect(await sut.forEmail(bare.id)).toMatchObject({
      payment: { payee: 'Payee', bank: null, account: null, link: null, reference: 'INV-2' },
      dispute: { email: null, phone: null, url: null },
    });
    // A letter issued before letters stated the routes: none, with the case and invoice to work them out.
    const { payment: _payment, dispute: _dispute, ...older } = newLetterFields();
    const old = await insert(newLetter(caseId, stepIds[0]!, { fields: older as unknown as LetterFields }));
    expect(await sut.forEmail(old.id)).toMatchObject({ payment: null, dispute: null, caseId, invoiceRef: expect.any(String) });
  });

  it('markEmailSent marks the email sent once, then answers false; a letter without email is never marked', async () => {
    const { letter, stepId } = await issued();
    expect(await ctx.tx((tx) => sut.markEmailSent(tx, letter.id))).toBe(true);
    expect(await ctx.tx((tx) => sut.markEmailSent(tx, letter.id))).toBe(false);
    expect((await ctx.tx((tx) => sut.ofStep(tx, stepId)))[0]).toMatchObject({ emailStatus: 'sent', postStatus: 'queued' });

    const postOnly = await issued(letterStep('payment-demand', ['post']));
    expect(await ctx.tx((tx) => sut.markEmailSent(tx, postOnly.letter.id))).toBe(false);
    expect((await sut.forEmail(postOnly.letter.id))!.emailStatus).toBeNull();
  });

  it('failPendingEmails fails the step’s pending emails only and names those letters', async () => {
    const guarantors = [
      { externalId: 'G-1', name: 'Gus Guarantor', email: 'gus@example.test', guaranteeType: 'general' as const },
      { externalId: 'G-2', name: 'Gia Guarantor', email: 'gia@example.test', guaranteeType: 'joint' as const },
    ];
    const { stepId, letters } = await issued(letterStep('guarantor-notice', ['email']), { guarantors });
    const [sent, pending] = letters as [(typeof letters)[number], (typeof letters)[number]];
    const other = await issued();
    await ctx.tx((tx) => sut.markEmailSent(tx, sent.id));

    expect(await ctx.tx((tx) => sut.failPendingEmails(tx, stepId))).toEqual([{ id: pending.id, number: pending.number }]);
    expect(await ctx.tx((tx) => sut.failPendingEmails(tx, stepId))).toEqual([]);
    const states = new Map((await ctx.tx((tx) => sut.ofStep(tx, stepId))).map((row) => [row.id, row.emailStatus]));
    expect(states).toEqual(
      new Map([
        [sent.id, 'sent'],
        [pending.id, 'failed'],
      ]),
    );
    expect((await sut.forEmail(other.letter.id))!.emailStatus).toBe('pending');
  });

  describe('list', () => {
    let caseId: string;
    let demand: NewLetter;
    let request: NewLetter;
    let postal: NewLetter;
    const ids = (rows: { id: string }[]) => rows.map((row) => row.id);

    beforeAll(async () => {
      const opened = await openCase();
      caseId = opened.caseId;
      const stepId = opened.stepIds[0]!;
      demand = await insert(
        newLetter(caseId, stepId, { deliver: ['email', 'post'], emailStatus: 'pending', postStatus: 'queued', at: new Date('2026-03-10T08:00:00Z') }),
      );
      request = await insert(newLetter(caseId, stepId, { type: 'document-request', emailStatus: 'sent', at: new Date('2026-03-10T09:00:00Z') }));
      postal = await insert(newLetter(caseId, stepId, { deliver: ['post'], emailStatus: null, postStatus: 'queued', at: new Date('2026-03-10T10:00:00Z') }));
      await ctx.tx((tx) => sut.track(tx, postal.id, { status: 'posted', carrier: 'DHL', trackingNumber: 'RR9', at: new Date('2026-03-11T07:00:00Z') }));
    });

    it('lists a case’s letters oldest first, each as the API shows it', async () => {
      const rows = await sut.list({ caseId, limit: 100 });
      expect(ids(rows)).toEqual([demand.id, request.id, postal.id]);
      expect(rows[0]!.issuedAt).toEqual(new Date('2026-03-10T08:00:00Z'));
      expect(rows[2]).toMatchObject({
        caseId,
        number: postal.number,
        deliveries: { email: null, post: { status: 'posted', carrier: 'DHL', trackingNumber: 'RR9', deliveredAt: null, returnedAt: null } },
      });
      expect(rows[2]).not.toHaveProperty('fields');
      expect(await sut.list({ caseId: '00000000-0000-0000-0000-000000000000', limit: 100 })).toEqual([]);
    });

    it('filters by type', async () => {
      expect(ids(await sut.list({ caseId, type: 'document-request', limit: 100 }))).toEqual([request.id]);
      const all = await sut.list({ type: 'document-request', limit: 1000 });
      expect(ids(all)).toContain(request.id);
      expect(all.every((row) => (row as unknown as { type: string }).type === 'document-request')).toBe(true);
    });

    it('filters by email delivery, and by the email’s status', async () => {
      expect(ids(await sut.list({ caseId, delivery: 'email', limit: 100 }))).toEqual([demand.id, request.id]);
      expect(ids(await sut.list({ caseId, delivery: 'email', status: 'sent', limit: 100 }))).toEqual([request.id]);
      expect(ids(await sut.list({ caseId, delivery: 'email', status: 'pending', limit: 100 }))).toEqual([demand.id]);
      expect(await sut.list({ caseId, delivery: 'email', status: 'failed', limit: 100 })).toEqual([]);
    });

    it('filters by post delivery, and by the post’s status', async () => {
      expect(ids(await sut.list({ caseId, delivery: 'post', limit: 100 }))).toEqual([demand.id, postal.id]);
      expect(ids(await sut.list({ caseId, delivery: 'post', status: 'queued', limit: 100 }))).toEqual([demand.id]);
      expect(ids(await sut.list({ caseId, delivery: 'post', status: 'posted', limit: 100 }))).toEqual([postal.id]);
    });

    it('pages after a keyset position, at most limit rows', async () => {
      expect(ids(await sut.list({ caseId, limit: 1 }))).toEqual([demand.id]);
      const after = { issuedAt: new Date('2026-03-10T08:00:00Z').toISOString(), id: demand.id };
      expect(ids(await sut.list({ caseId, after, limit: 100 }))).toEqual([request.id, postal.id]);
      expect(ids(await sut.list({ caseId, after, limit: 1 }))).toEqual([request.id]);
      expect(await sut.list({ caseId, after: { issuedAt: postal.at.toISOString(), id: postal.id }, limit: 100 })).toEqual([]);
      expect(await sut.list({ limit: 2 })).toHaveLength(2);
    });
  });

  it('get shows a letter with its deliveries and the fields it printed; the email’s send time comes from its dispatch', async () => {
    const { caseId, stepId, letter, data } = await issued();
    const view = (await sut.get(letter.id))!;
    expect(view).toMatchObject({
      id: letter.id,
      caseId,
      stepId,
      number: letter.number,
      type: 'payment-demand',
      locale: 'en',
      recipient: { role: 'debtor', id: letter.recipient.id, name: data.debtor.name, email: data.debtor.email, address },
      sha256: letter.sha256,
      templateKey: 'letters/payment-demand/en',
      deliver: ['email', 'post'],
      deliveries: { email: { status: 'pending', sentAt: null }, post: { status: 'queued', carrier: null, postedAt: null } },
      issuedAt: at,
      issuedBy: 'operator',
      fields: { type: 'payment-demand', number: letter.number, date: '2026-03-10', invoice: { ref: data.invoice.externalId } },
    });
    expect(view.size).toBe((await sut.pdf(letter.id))!.pdf.length);
    const dispatchId = (await sut.forEmail(letter.id))!.emailDispatchId!;
    const sentAt = new Date('2026-03-10T08:05:00Z');
    await ctx.tx(async (tx) => {
      await sut.markEmailSent(tx, letter.id);
      await ctx.get(DispatchRepository).markSent(tx, dispatchId, sentAt);
    });
    const email = ((await sut.get(letter.id))!.deliveries as { email: { status: string; messageId: string; sentAt: string } }).email;
    expect(email).toMatchObject({ status: 'sent', messageId: expect.stringContaining(dispatchId) });
    expect(time(email.sentAt)).toBe(sentAt.toISOString());
    expect(await sut.get(randomUUID())).toBeUndefined();
  });

  it('pdf returns the stored bytes with their number and hash', async () => {
    const { letter } = await issued();
    const stored = (await sut.pdf(letter.id))!;
    expect(stored).toMatchObject({ number: letter.number, sha256: letter.sha256 });
    expect(sha256(stored.pdf)).toBe(letter.sha256);
    expect(stored.pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(await sut.pdf(randomUUID())).toBeUndefined();
  });

  it('caseOf names the letter’s case', async () => {
    const { caseId, letter } = await issued();
    expect(await ctx.tx((tx) => sut.caseOf(tx, letter.id))).toBe(caseId);
    expect(await ctx.tx((tx) => sut.caseOf(tx, randomUUID()))).toBeUndefined();
  });

  it('lockForTracking locks the letter and reads its post state with the debtor’s time zone', async () => {
    const { caseId, letter } = await issued(letterStep(), { debtor: { timezone: 'Asia/Shanghai' } });
    await ctx.tx(async (tx) => {
      expect(await sut.lockForTracking(tx, letter.id)).toEqual({
        caseId,
        number: letter.number,
        type: 'payment-demand',
        sha256: letter.sha256,
        recipientRole: 'debtor',
        recipientId: letter.recipient.id,
        emailStatus: 'pending',
        emailBounced: false,
        postStatus: 'queued',
        carrier: null,
        trackingNumber: null,
        timezone: 'Asia/Shanghai',
        // Not yet posted: the moment it was issued.
        lastPostAt: expect.any(Date),
      });
      expect(await lockedElsewhere(letter.id)).toBe(true);
    });
    expect(await lockedElsewhere(letter.id)).toBe(false);
    expect(await ctx.tx((tx) => sut.lockForTracking(tx, randomUUID()))).toBeUndefined();
  });

  it('track moves the post on, setting carrier, tracking number and the moment of each status in its own column', async () => {
    const delivered = await issued();
    const returned = await issued();
    const postedAt = new Date('2026-03-11T09:00:00Z');
    const deliveredAt = new Date('2026-03-13T12:00:00Z');
    const returnedAt = new Date('2026-03-20T15:00:00Z');
    await ctx.tx((tx) => sut.track(tx, delivered.letter.id, { status: 'posted', carrier: 'DHL', trackingNumber: 'RR100', at: postedAt }));
    const tracked = (await ctx.tx((tx) => sut.lockForTracking(tx, delivered.letter.id)))!;
    expect(tracked).toMatchObject({ postStatus: 'posted', carrier: 'DHL', trackingNumber: 'RR100', lastPostAt: postedAt });
    await ctx.tx((tx) => sut.track(tx, delivered.letter.id, { status: 'delivered', carrier: 'DHL', trackingNumber: 'RR100', at: deliveredAt }));
    await ctx.tx((tx) => sut.track(tx, returned.letter.id, { status: 'posted', carrier: 'UPS', trackingNumber: 'RR200', at: postedAt }));
    await ctx.tx((tx) => sut.track(tx, returned.letter.id, { status: 'returned', carrier: 'UPS', trackingNumber: 'RR200', at: returnedAt }));

    const post = async (id: string) => {
      const { status, carrier, trackingNumber, postedAt, deliveredAt, returnedAt } = ((await sut.get(id))!.deliveries as { post: Record<string, unknown> })
        .post;
      return { status, carrier, trackingNumber, postedAt: time(postedAt), deliveredAt: time(deliveredAt), returnedAt: time(returnedAt) };
    };
    expect(await post(delivered.letter.id)).toEqual({
      status: 'delivered',
      carrier: 'DHL',
      trackingNumber: 'RR100',
      postedAt: postedAt.toISOString(),
      deliveredAt: deliveredAt.toISOString(),
      returnedAt: null,
    });
    expect(await post(returned.letter.id)).toEqual({
      status: 'returned',
      carrier: 'UPS',
      trackingNumber: 'RR200',
      postedAt: postedAt.toISOString(),
      deliveredAt: null,
      returnedAt: returnedAt.toISOString(),
    });
    expect((await sut.pdf(delivered.letter.id))!.sha256).toBe(delivered.letter.sha256);
    expect((await sut.forEmail(delivered.letter.id))!.emailStatus).toBe('pending');
  });
});
