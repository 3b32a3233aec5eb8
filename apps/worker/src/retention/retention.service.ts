import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { CallErasureRepository } from '#libs/database';

/** Calls per query; each call is erased in its own short transaction, so no lock is held long. */
const BATCH = 100;
/** Most calls one run erases; a backlog (retention just switched on) drains over several runs. */
const MAX_PER_RUN = 5000;
/** How often the job runs once TRANSCRIPT_RETENTION_DAYS is set. */
const EVERY_MS = 60 * 60 * 1000;

/** Principal recorded in the audit trail for erasures the retention job makes. */
export const RETENTION_PRINCIPAL = { keyId: 'retention', name: 'TRANSCRIPT_RETENTION_DAYS' };

/**
 * TRANSCRIPT_RETENTION_DAYS: erases transcripts of ended calls older than the horizon through
 * the same repository path as `DELETE /admin/calls/:callSid` (turn texts, event data, summary;
 * an `erased` event and an audit entry per call). Idempotent: erased calls are never selected
 * again, and a call erased meanwhile by another worker is skipped.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly erasure: CallErasureRepository,
  ) {}

  /** Interval of the scheduled job, or undefined when retention is off. */
  get intervalMs(): number | undefined {
    return this.config.TRANSCRIPT_RETENTION_DAYS ? EVERY_MS : undefined;
  }

  async run(now = new Date(), limits = { batch: BATCH, max: MAX_PER_RUN }): Promise<{ erased: number; skipped: number }> {
    const days = this.config.TRANSCRIPT_RETENTION_DAYS;
    if (!days) return { erased: 0, skipped: 0 };
    const before = new Date(now.getTime() - days * 86_400_000);
    let erased = 0;
    let skipped = 0;
    while (erased + skipped < limits.max) {
      const sids = await this.erasure.findExpired(before, Math.min(limits.batch, limits.max - erased - skipped));
      if (!sids.length) break;
      for (const callSid of sids) {
        const at = new Date();
        const result = await this.erasure.erase(callSid, {
          by: RETENTION_PRINCIPAL,
          at,
          route: `job transcript-retention (${days} days)`,
          action: 'retention_erase',
          once: true,
        });
        if (result) erased++;
        else skipped++;
      }
    }
    if (erased) this.logger.log({ erased, skipped, before: before.toISOString() }, 'transcripts past retention erased');
    return { erased, skipped };
  }
}
