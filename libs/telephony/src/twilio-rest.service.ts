import { Injectable, Logger } from '@nestjs/common';
import twilio from 'twilio';
import { AppConfig } from '#libs/config';

export type TwilioClient = ReturnType<typeof twilio>;

/** A call that already ended answers 404 with this code. */
const CALL_NOT_FOUND = 20404;

export interface OutboundCall {
  to: string;
  from: string;
  /** Voice URL Twilio fetches when the call is answered. */
  url: string;
  statusCallback: string;
  timeoutSec?: number;
}

export interface CallInstanceSummary {
  sid: string;
  status: string;
  to: string;
  from: string;
  direction: string;
}

/** Sends twilio-node's requests to another origin (a local fake of Twilio's REST API in tests). */
class RebasedRequestClient extends twilio.RequestClient {
  constructor(private readonly origin: string) {
    super({ timeout: 10_000 });
  }

  // Generic in twilio-node's typing; the options pass through untouched but for the URI.
  override request(opts: any): any {
    const uri = String(opts.uri).replace(/^https:\/\/[a-z0-9.-]+\.twilio\.com/i, this.origin);
    return super.request({ ...opts, uri });
  }
}

/** The official client for the configured account (pointed at TWILIO_API_BASE_URL when set). */
export function createTwilioClient(config: Pick<AppConfig, 'TWILIO_ACCOUNT_SID' | 'TWILIO_AUTH_TOKEN' | 'TWILIO_API_BASE_URL'>): TwilioClient {
  return twilio(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, {
    httpClient: config.TWILIO_API_BASE_URL ? new RebasedRequestClient(config.TWILIO_API_BASE_URL.replace(/\/+$/, '')) : undefined,
    autoRetry: true,
    maxRetries: 2,
  });
}

/**
 * Twilio's REST API through the official client: placing calls, and changing a live call
 * (transfer or hang-up during a stream, where closing the socket would not end the call).
 */
@Injectable()
export class TwilioRestService {
  private readonly logger = new Logger(TwilioRestService.name);
  private readonly client: TwilioClient;

  constructor(config: AppConfig) {
    this.client = createTwilioClient(config);
  }

  async createCall(call: OutboundCall): Promise<CallInstanceSummary> {
    const created = await this.client.calls.create({
      to: call.to,
      from: call.from,
      url: call.url,
      method: 'POST',
      statusCallback: call.statusCallback,
      statusCallbackMethod: 'POST',
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      timeout: call.timeoutSec ?? 30,
    });
    return { sid: created.sid, status: created.status, to: created.to, from: created.from, direction: created.direction };
  }

  /** Replaces the call's running TwiML (e.g. a <Dial> to transfer); false if the call already ended. */
  async redirectCall(callSid: string, twiml: string): Promise<boolean> {
    return this.update(callSid, { twiml });
  }

  /** Hangs the call up; false if it had already ended. */
  async hangUp(callSid: string): Promise<boolean> {
    return this.update(callSid, { status: 'completed' });
  }

  private async update(callSid: string, params: { twiml?: string; status?: 'completed' }): Promise<boolean> {
    try {
      await this.client.calls(callSid).update(params);
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === CALL_NOT_FOUND) {
        this.logger.log({ callSid }, 'call already ended');
        return false;
      }
      throw err;
    }
  }
}
