import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '#libs/config';
import { TERMINAL_STATUSES } from '#libs/database';
import { AgentTurnQueue, CallLifecycleQueue } from '#libs/queues';
import { CallSessionStore, newCallSession, type CallSession } from '#libs/sessions';
import { CallRecorder } from './call-recorder.js';
import { readParam, sessionIdentity, type VoiceParams } from './twilio-params.js';

const KNOWN = new Set(['queued', 'initiated', 'ringing', 'in-progress', 'answered', ...TERMINAL_STATUSES]);

/** POST /twilio/status: record every status event; at the end, close the call everywhere. */
@Injectable()
export class CallStatusService {
  private readonly logger = new Logger(CallStatusService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly sessions: CallSessionStore,
    private readonly recorder: CallRecorder,
    private readonly turns: AgentTurnQueue,
    private readonly lifecycle: CallLifecycleQueue,
  ) {}

  async onStatus(params: VoiceParams): Promise<void> {
    const status = (params.callStatus ?? '').toLowerCase();
    if (!KNOWN.has(status)) {
      this.logger.warn({ callSid: params.callSid, status: status.slice(0, 20) }, 'ignored unknown call status');
      return;
    }
    const sequence = Number.parseInt(readParam(params.raw, 'SequenceNumber') ?? '', 10);
    const duration = Number.parseInt(readParam(params.raw, 'CallDuration') ?? '', 10);
    const timestamp = Date.parse(readParam(params.raw, 'Timestamp') ?? '');
    const at = new Date(Number.isFinite(timestamp) ? timestamp : Date.now()).toISOString();
    const final = (TERMINAL_STATUSES as readonly string[]).includes(status);

    // Serialised with the call's other webhooks, so a gather in flight cannot re-create the session.
    const session = await this.sessions
      .withLock(params.callSid, async ({ session: live }) => {
        if (final) {
          if (live?.pending) await this.turns.cancel(live.pending.jobId);
          await this.turns.forget(params.callSid, live?.step ?? 0);
          await this.sessions.deleteCall(params.callSid);
        }
        return live;
      }, { waitMs: this.config.TURN_WAIT_MS + 2000 }) // a gather may hold the lock while it waits for the agent
      .catch((err: Error) => {
        this.logger.warn({ callSid: params.callSid, err: err.message }, 'live session unavailable for status callback');
        return null;
      });

    // Without a live session (ended, expired, Redis down) the write is keyed by the webhook alone.
    const target: CallSession =
      session ?? newCallSession({ ...sessionIdentity(params), mode: 'gather', agentName: this.config.DEFAULT_AGENT, startedAt: at });
    const write = this.recorder.begin(target);
    const key = `status-${status}-${Number.isFinite(sequence) ? sequence : 'x'}`;
    write.event('status', key, { status, sequence: Number.isFinite(sequence) ? sequence : undefined, duration: Number.isFinite(duration) ? duration : undefined });
    write.status = {
      callSid: params.callSid,
      status,
      sequence: Number.isFinite(sequence) ? sequence : undefined,
      durationSec: Number.isFinite(duration) ? duration : undefined,
      at,
    };
    await this.recorder.commit(target, key, write);
    if (final) await this.lifecycle.postCall(params.callSid).catch(() => undefined);
  }
}
