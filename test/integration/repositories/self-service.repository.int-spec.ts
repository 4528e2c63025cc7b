import { createHash, randomUUID } from 'node:crypto';
import { newLetterFields } from '../../../src/letters/letter-fields.fixture';
import { LetterRepository, type NewLetter } from '../../../src/letters/letter.repository';
import { SelfServiceRepository } from '../../../src/self-service/self-service.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('SelfServiceRepository', () => {
  let ctx: IntegrationContext;
  let sut: SelfServiceRepository;
  const at = new Date('2026-03-10T08:00:00Z');

  beforeAll(async () => {
    ctx = await startIntegration('self_service_repo');
    sut = ctx.get(SelfServiceRepository);
  });
  afterAll(() => ctx.close());

  it("answers the case's debtor as the page greets them, and nothing for an unknown case", async () => {
    const { caseId } = await newCase(ctx, { debtor: { name: 'Ana Debtor', locale: 'zh-CN' } });
    const debtor = await sut.debtorOf(caseId);
    expect(debtor).toMatchObject({ name: 'Ana Debtor', locale: 'zh-CN' });
    expect(debtor!.unsubscribeToken).toMatch(/\S{16,}/);
    expect(await sut.debtorOf(UNKNOWN)).toBeUndefined();
  });

  it("sets the debtor's declined reminder channels and answers what they were", async () => {
    const { caseId } = await newCase(ctx);
    expect((await sut.debtorOf(caseId))!.declinedChannels).toEqual([]);
    expect(await ctx.tx((tx) => sut.setDeclinedChannels(tx, caseId, ['sms']))).toEqual([]);
    expect(await ctx.tx((tx) => sut.setDeclinedChannels(tx, caseId, ['email', 'sms']))).toEqual(['sms']);
    expect((await sut.debtorOf(caseId))!.declinedChannels).toEqual(['email', 'sms']);
    expect(await ctx.tx((tx) => sut.setDeclinedChannels(tx, UNKNOWN, ['sms']))).toEqual([]);
  });

  it('keeps the latest revocation of a case, and tells an unknown case from one never revoked', async () => {
    const { caseId } = await newCase(ctx);
    expect(await sut.linkState(caseId)).toEqual({ revokedAt: null });
    expect(await sut.linkState(UNKNOWN)).toBeUndefined();
    await ctx.tx((tx) => sut.revoke(tx, caseId, at));
    expect(await sut.linkState(caseId)).toEqual({ revokedAt: at });
    // A revocation replayed with an older time does not reopen the links in between.
    await ctx.tx((tx) => sut.revoke(tx, caseId, new Date(at.getTime() - 60_000)));
    expect(await sut.linkState(caseId)).toEqual({ revokedAt: at });
    const later = new Date(at.getTime() + 60_000);
    await ctx.tx((tx) => sut.revoke(tx, caseId, later));
    expect(await sut.linkState(caseId)).toEqual({ revokedAt: later });
  });

  it("serves a letter of the case to its debtor, never a guarantor's letter or another case's", async () => {
    const { caseId, stepIds } = await newCase(ctx);
    const other = await newCase(ctx);
    const letter = (role: 'debtor' | 'guarantor'): NewLetter => {
      const id = randomUUID();
      const pdf = Buffer.from(`%PDF-1.7 test letter ${id}`);
      return {
        id,
        caseId,
        stepId: stepIds[0]!,
        number: `T-${id}`,
        type: role === 'debtor' ? 'payment-demand' : 'guarantor-notice',
        recipient: { role, id: randomUUID(), name: 'Ana Debtor', email: 'ana@example.test', address: null },
        locale: 'en',
        templateKey: 'letters/payment-demand/en',
        templateVersion: 'test',
        fields: newLetterFields(),
        pdf,
        sha256: createHash('sha256').update(pdf).digest('hex'),
        deliver: ['email'],
        emailStatus: 'sent',
        emailDispatchId: null,
        postStatus: null,
        at,
        by: 'test',
      };
    };
    const [toDebtor, toGuarantor] = [letter('debtor'), letter('guarantor')];
    await ctx.tx(async (tx) => {
      await ctx.get(LetterRepository).insert(tx, toDebtor);
      await ctx.get(LetterRepository).insert(tx, toGuarantor);
    });
    expect(await sut.debtorLetter(caseId, toDebtor.id)).toEqual({ number: toDebtor.number, sha256: toDebtor.sha256, pdf: toDebtor.pdf });
    expect(await sut.debtorLetter(caseId, toGuarantor.id)).toBeUndefined();
    expect(await sut.debtorLetter(other.caseId, toDebtor.id)).toBeUndefined();
  });
});
