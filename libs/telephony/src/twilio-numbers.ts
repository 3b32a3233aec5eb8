import type { AppConfig } from '#libs/config';
import { createTwilioClient, type TwilioClient } from './twilio-rest.service.js';

/** What a phone number does with calls: the settings `configure-number` changes. */
export interface NumberVoiceSettings {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string | null;
  voiceMethod: string | null;
  voiceFallbackUrl: string | null;
  voiceFallbackMethod: string | null;
  statusCallback: string | null;
  statusCallbackMethod: string | null;
}

export type NumberMode = 'gather' | 'stream' | 'relay';

/** A number the account does not have, or credentials Twilio refuses: said plainly to the operator. */
export class TwilioNumberError extends Error {
  override name = 'TwilioNumberError';
}

const AUTH_FAILED = 20003;
const NOT_FOUND = 20404;

/**
 * The account's phone numbers (Twilio's IncomingPhoneNumbers resource): list them and point one at
 * this server — voice URL, fallback URL and status callback, all POST, built from PUBLIC_BASE_URL.
 */
export class TwilioNumbers {
  private readonly client: TwilioClient;

  constructor(private readonly config: Pick<AppConfig, 'TWILIO_ACCOUNT_SID' | 'TWILIO_AUTH_TOKEN' | 'TWILIO_API_BASE_URL' | 'PUBLIC_BASE_URL'>) {
    this.client = createTwilioClient(config);
  }

  async list(): Promise<NumberVoiceSettings[]> {
    const numbers = await this.call(() => this.client.incomingPhoneNumbers.list({ limit: 1000 }));
    return numbers.map(settingsOf);
  }

  /** Finds a number by PN sid or E.164; a TwilioNumberError names it when the account has none such. */
  async find(ref: string): Promise<NumberVoiceSettings> {
    if (/^PN[0-9a-fA-F]{32}$/.test(ref)) return settingsOf(await this.call(() => this.client.incomingPhoneNumbers(ref).fetch(), ref));
    if (!/^\+[1-9]\d{6,14}$/.test(ref)) throw new TwilioNumberError(`"${ref}" is neither an E.164 number (+15551234567) nor a phone number SID (PN…)`);
    const found = await this.call(() => this.client.incomingPhoneNumbers.list({ phoneNumber: ref, limit: 20 }));
    const match = found.find((n) => n.phoneNumber === ref);
    if (!match) throw new TwilioNumberError(`the account ${this.config.TWILIO_ACCOUNT_SID} has no phone number ${ref}`);
    return settingsOf(match);
  }

  /** The URLs this server wants on a number, for the given mode and agent. */
  desired(mode: NumberMode, agent?: string): Pick<NumberVoiceSettings, 'voiceUrl' | 'voiceMethod' | 'voiceFallbackUrl' | 'voiceFallbackMethod' | 'statusCallback' | 'statusCallbackMethod'> {
    const base = this.config.PUBLIC_BASE_URL;
    const query = new URLSearchParams({ mode, ...(agent ? { agent } : {}) });
    return {
      voiceUrl: `${base}/twilio/voice?${query}`,
      voiceMethod: 'POST',
      voiceFallbackUrl: `${base}/twilio/fallback`,
      voiceFallbackMethod: 'POST',
      statusCallback: `${base}/twilio/status`,
      statusCallbackMethod: 'POST',
    };
  }

  /** Points the number at this server; returns the number as Twilio reports it after the change. */
  async configure(sid: string, mode: NumberMode, agent?: string): Promise<NumberVoiceSettings> {
    const want = this.desired(mode, agent);
    const updated = await this.call(
      () =>
        this.client.incomingPhoneNumbers(sid).update({
          voiceUrl: want.voiceUrl!,
          voiceMethod: 'POST',
          voiceFallbackUrl: want.voiceFallbackUrl!,
          voiceFallbackMethod: 'POST',
          statusCallback: want.statusCallback!,
          statusCallbackMethod: 'POST',
        }),
      sid,
    );
    return settingsOf(updated);
  }

  private async call<T>(request: () => Promise<T>, ref?: string): Promise<T> {
    try {
      return await request();
    } catch (err) {
      const { code, status } = err as { code?: number; status?: number };
      if (code === AUTH_FAILED || status === 401) {
        throw new TwilioNumberError(`Twilio refused the credentials of account ${this.config.TWILIO_ACCOUNT_SID}: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN`);
      }
      if (code === NOT_FOUND || status === 404) throw new TwilioNumberError(`the account ${this.config.TWILIO_ACCOUNT_SID} has no phone number ${ref ?? ''}`.trim());
      throw err;
    }
  }
}

function settingsOf(n: {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl: string;
  voiceMethod: string;
  voiceFallbackUrl: string;
  voiceFallbackMethod: string;
  statusCallback: string;
  statusCallbackMethod: string;
}): NumberVoiceSettings {
  return {
    sid: n.sid,
    phoneNumber: n.phoneNumber,
    friendlyName: n.friendlyName,
    voiceUrl: n.voiceUrl || null,
    voiceMethod: n.voiceMethod || null,
    voiceFallbackUrl: n.voiceFallbackUrl || null,
    voiceFallbackMethod: n.voiceFallbackMethod || null,
    statusCallback: n.statusCallback || null,
    statusCallbackMethod: n.statusCallbackMethod || null,
  };
}
