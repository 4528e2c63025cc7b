import { SelfServiceRepository } from '../../../src/self-service/self-service.repository';
import { newCase } from '../../support/factories';
import { type IntegrationContext, startIntegration } from '../../support/integration';

describe('SelfServiceRepository', () => {
  let ctx: IntegrationContext;

  beforeAll(async () => {
    ctx = await startIntegration('self_service_repo');
  });
  afterAll(() => ctx.close());

  it("answers the case's debtor as the page greets them, and nothing for an unknown case", async () => {
    const { caseId } = await newCase(ctx, { debtor: { name: 'Ana Debtor', locale: 'zh-CN' } });
    const debtor = await ctx.get(SelfServiceRepository).debtorOf(caseId);
    expect(debtor).toMatchObject({ name: 'Ana Debtor', locale: 'zh-CN' });
    expect(debtor!.unsubscribeToken).toMatch(/\S{16,}/);
    expect(await ctx.get(SelfServiceRepository).debtorOf('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });
});
