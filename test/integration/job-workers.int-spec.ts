import { Injectable, type INestApplication, type Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import type { AppConfig } from '../../src/config/config.schema';
import { AgencyWebhookDelivery } from '../../src/escalations/agency-webhook-delivery';
import { OnJob } from '../../src/jobs/job-handlers';
import { JobName } from '../../src/jobs/job-names';
import { integrationStores } from '../support/integration';

/** A second handler for a job name that already has one. */
@Injectable()
class SecondStepHandler {
  @OnJob(JobName.RunStep)
  async handle(): Promise<string> {
    return 'run twice';
  }
}

describe('the worker boot binds every job name to one handler', () => {
  let config: AppConfig;
  let cleanUp: () => Promise<void>;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    ({ config, cleanUp } = await integrationStores('job_workers', { APP_ROLE: 'worker' }));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(() => cleanUp());

  /** Boots the worker role, with `extra` providers and the agency delivery replaced when asked. */
  async function boot(options: { extra?: Provider[]; replaceDelivery?: object } = {}): Promise<void> {
    let builder = Test.createTestingModule({ imports: [AppModule.register(config)], providers: options.extra ?? [] });
    if (options.replaceDelivery) builder = builder.overrideProvider(AgencyWebhookDelivery).useValue(options.replaceDelivery);
    app = (await builder.compile()).createNestApplication({ logger: false });
    await app.init();
  }

  it('boots when each job name and sweep has exactly one handler', async () => {
    await expect(boot()).resolves.toBeUndefined();
  });

  it('refuses to boot when a job name has no handler, naming it', async () => {
    // The delivery without its decorated method: the agency placement job is left without a handler.
    await expect(boot({ replaceDelivery: {} })).rejects.toThrow('no handler for job "agency-placement"');
  });

  it('refuses to boot when a job name has two handlers, naming both', async () => {
    await expect(boot({ extra: [SecondStepHandler] })).rejects.toThrow('job "run-step" has 2 handlers: RunStepHandler.handle, SecondStepHandler.handle');
  });
});
