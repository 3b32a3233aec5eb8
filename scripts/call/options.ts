/** One thing the caller does when it is their turn. */
export type CallerInput =
  | { kind: 'speech'; text: string }
  /** Keys pressed (DTMF). */
  | { kind: 'dtmf'; digits: string }
  /** The caller says nothing. */
  | { kind: 'silence' };

/** What every simulator mode needs to play Twilio against a running server. */
export interface SimulatorOptions {
  /** Where the api listens (requests go here). */
  apiUrl: string;
  /** The URL Twilio would use; signatures are computed over it. */
  publicBaseUrl: string;
  authToken: string;
  accountSid: string;
  /** What the caller says, in order (used when `inputs` is not given). */
  utterances: string[];
  /** What the caller does, in order: speech, key presses, silence. Wins over `utterances`. */
  inputs?: CallerInput[];
  print?: (line: string) => void;
  from?: string;
  to?: string;
  /** Origin of the Twilio REST stand-in (TWILIO_API_BASE_URL), which ends calls the server hangs up. */
  twilioApiUrl?: string;
}

/** How a simulated call ended, as the caller saw it. */
export interface CallResult {
  callSid: string;
  outcome: 'hangup' | 'transfer' | 'caller-hung-up' | 'not-answered';
  /** Number the call was transferred to. */
  transferTo?: string;
}

export const inputsOf = (options: SimulatorOptions): CallerInput[] =>
  options.inputs ?? options.utterances.map((text) => (text.trim() ? { kind: 'speech', text } : { kind: 'silence' }));
