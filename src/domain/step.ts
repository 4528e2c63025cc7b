/** A planned step as the queue needs it: which row, and when it is due. */
export interface DueStep {
  id: string;
  dueAt: Date;
}

/** What a change asks of the queue once its transaction has committed. */
export interface QueueEffects {
  enqueue: DueStep[];
  withdraw: string[];
}

export const noQueueEffects = (): QueueEffects => ({ enqueue: [], withdraw: [] });
