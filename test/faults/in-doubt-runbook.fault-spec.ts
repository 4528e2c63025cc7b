import { faultSuite } from './harness/suite';
import { killWorkerMidSend } from './harness/worker-faults';

interface FailedJob {
  id: string;
  failedReason: string | null;
  caseId?: string;
}

const MESSAGE_ID = /<[^<>\s]+@[^<>\s]+>/;

describe('a worker killed mid-send under the default inDoubt: hold, settled as the runbook says', () => {
  const { scenario } = faultSuite();

  scenario(
    'the in-doubt steps fail for an operator; retrying those the mail server never got delivers everything once',
    { name: 'worker-sigkill-hold', duplicates: 'none', inDoubt: 'hold' },
    async (ctx) => {
      await killWorkerMidSend(ctx);
      // Every interrupted send is found (when its job is taken back from the dead worker) and held.
      await ctx.untilSettled();
      const failed: FailedJob[] = [];
      let cursor: string | null = null;
      do {
        const page = (await ctx.api('operator', 'GET', `/v1/jobs?queue=steps&state=failed&limit=500${cursor ? `&cursor=${cursor}` : ''}`)).body as {
          items: FailedJob[];
          nextCursor: string | null;
        };
        failed.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      // docs/operations.md: look for the job's Message-ID in the mail server's log; retry it only if it never went out.
      let retried = 0;
      let reasonsWithoutId = 0;
      let sampleReason = '';
      for (const job of failed) {
        if (!job.failedReason?.startsWith('notice in doubt')) {
          ctx.violation(`job ${job.id} failed for another reason: ${job.failedReason}`);
          continue;
        }
        let messageId = MESSAGE_ID.exec(job.failedReason)?.[0];
        if (!messageId) {
          // The listing redacts what looks like an address; the case's notice.in_doubt touch names it.
          reasonsWithoutId++;
          sampleReason ||= job.failedReason;
          const touches = (await ctx.api('auditor', 'GET', `/v1/cases/${job.caseId}/touches?limit=500`)).body as {
            items: { kind: string; data: { stepId?: string; messageId?: string } }[];
          };
          messageId = touches.items.find((touch) => touch.kind === 'notice.in_doubt' && touch.data.stepId === job.id)?.data.messageId;
        }
        if (!messageId) {
          ctx.violation(`job ${job.id}: no Message-ID in its failure reason nor in a notice.in_doubt touch`);
          continue;
        }
        if (ctx.stack.smtp.accepted.some((mail) => mail.messageId === messageId)) continue;
        const answer = await ctx.api('operator', 'POST', `/v1/jobs/${job.id}/retry`);
        if (answer.status !== 200) ctx.violation(`retry of job ${job.id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        retried++;
      }
      ctx.note(
        `${failed.length} jobs failed in doubt; ${failed.length - retried} had gone out, ${retried} retried by the operator; ` +
          `${reasonsWithoutId} failure reasons in GET /v1/jobs showed no Message-ID${sampleReason ? `, e.g. "${sampleReason}"` : ''}`,
      );
      if (failed.length === 0) ctx.violation('no job failed in doubt: the kill interrupted no send');
    },
  );
});
