import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AgentRegistry } from '#libs/agents';
import { AppConfig } from '#libs/config';
import { withTimeout } from '#libs/queues';
import { newCallSession } from '#libs/sessions';
import { Twiml } from '#libs/telephony';
import { CallRecorder } from './call-recorder.js';
import { readParam, sessionIdentity, type VoiceParams } from './twilio-params.js';

const APOLOGY_TRANSFER = "I'm sorry, we're having technical difficulties. Let me connect you to a member of our team.";
const APOLOGY_GOODBYE = "I'm sorry, we're having technical difficulties and can't take your call right now. Please call again later. Goodbye.";

/**
 * POST /twilio/fallback: Twilio's "voice fallback URL", fetched when the voice URL (or a later
 * webhook) failed or timed out. It must answer without Redis, Postgres or the worker: the TwiML
 * depends only on configuration held in memory, and recording the event is best effort, bounded
 * in time (the transcript writer queues, writes directly or spools it).
 */
@Injectable()
export class FallbackCallService {
  private readonly logger = new Logger(FallbackCallService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly agents: AgentRegistry,
    private readonly recorder: CallRecorder,
  ) {}

  async answer(params: VoiceParams): Promise<string> {
    const agent = this.agents.get(undefined);
    const voice = { voice: agent.voice, language: agent.language };
    const transferTo = this.config.HUMAN_TRANSFER_NUMBER;
    const twiml = transferTo ? Twiml.transfer(voice, APOLOGY_TRANSFER, transferTo) : Twiml.hangup(voice, APOLOGY_GOODBYE);
    const errorCode = readParam(params.raw, 'ErrorCode')?.slice(0, 20);
    const errorUrl = readParam(params.raw, 'ErrorUrl')?.slice(0, 500);
    this.logger.error({ callSid: params.callSid, errorCode, errorUrl }, 'Twilio used the fallback URL: the primary webhook failed');
    await withTimeout(this.record(params, { errorCode, errorUrl, transferred: Boolean(transferTo) }), 1500, 'fallback record').catch((err: Error) =>
      this.logger.warn({ callSid: params.callSid, err: err.message }, 'fallback event not recorded'),
    );
    return twiml;
  }

  /** One event per failed webhook: Twilio's ErrorUrl names it, so a retried fallback is stored once. */
  private async record(params: VoiceParams, data: { errorCode?: string; errorUrl?: string; transferred: boolean }): Promise<void> {
    const session = newCallSession({ ...sessionIdentity(params), mode: 'gather', agentName: this.config.DEFAULT_AGENT });
    const key = createHash('sha256').update(`${data.errorUrl ?? ''}|${data.errorCode ?? ''}`).digest('hex').slice(0, 16);
    const write = this.recorder.begin(session);
    write.event('fallback', `fallback:${key}`, data);
    await this.recorder.commit(session, `fallback-${key}`, write);
  }
}
