import type { TranscriptJobData } from '#libs/queues';
import type { PiiRedactor } from '#libs/redaction';

/** A transcript write with caller turns and caller words in event data redacted (a copy when anything changed). */
export function redactBatch(batch: TranscriptJobData, redactor: PiiRedactor): TranscriptJobData {
  if (!redactor.enabled) return batch;
  return {
    ...batch,
    turns: batch.turns?.map((t) => redactor.turn(t)),
    events: batch.events?.map((e) => (e.data ? { ...e, data: redactor.eventData(e.data) } : e)),
  };
}
