import { BadRequestException } from '@nestjs/common';
import type { CallDirection } from '#libs/database';
import type { TwilioParams } from '#libs/telephony';

const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/;

/** The fields of a Twilio voice webhook this service uses, checked once. */
export interface VoiceParams {
  callSid: string;
  accountSid?: string;
  from?: string;
  to?: string;
  direction: CallDirection;
  callStatus?: string;
  raw: TwilioParams;
}

function one(params: TwilioParams, name: string): string | undefined {
  const v = params[name];
  const value = Array.isArray(v) ? v[0] : v;
  return value === undefined ? undefined : String(value).slice(0, 2000);
}

export function readVoiceParams(params: TwilioParams): VoiceParams {
  const callSid = one(params, 'CallSid');
  if (!callSid || !CALL_SID.test(callSid)) throw new BadRequestException('CallSid is missing or malformed');
  const accountSid = one(params, 'AccountSid');
  if (accountSid && !ACCOUNT_SID.test(accountSid)) throw new BadRequestException('AccountSid is malformed');
  return {
    callSid,
    accountSid,
    from: one(params, 'From')?.slice(0, 32),
    to: one(params, 'To')?.slice(0, 32),
    direction: (one(params, 'Direction') ?? 'inbound').startsWith('outbound') ? 'outbound' : 'inbound',
    callStatus: one(params, 'CallStatus'),
    raw: params,
  };
}

export function readParam(params: TwilioParams, name: string): string | undefined {
  return one(params, name);
}

/** Parses a non-negative integer query parameter (`step`, `wait`), or answers 400. */
export function readIndex(value: unknown, name: string): number {
  const n = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n)) throw new BadRequestException(`${name} must be a non-negative integer`);
  return n;
}

/** The call's identity as a new session records it. */
export function sessionIdentity(params: VoiceParams) {
  return {
    callSid: params.callSid,
    accountSid: params.accountSid,
    from: params.from,
    to: params.to,
    direction: params.direction,
  };
}
